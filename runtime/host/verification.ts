import type { OutcomeCode } from "../../contracts/client/typed-data.js";
import type { JobEngine } from "./job-engine.js";
import { normaliseSha256, toBytes32 } from "./sha256.js";

/** What a re-execution needs: the module, the input bundle's bytes and the agreement's parameters. */
export interface Reexecution {
  module: Uint8Array;
  input: Uint8Array;
  chainId: bigint;
  market: string;
  agreementId: bigint;
  maxFuel: bigint;
  memoryMiB: number;
  wallTimeoutMs: number;
}

/** The usage a report claims. */
export interface ClaimedUsage {
  fuelUsed: bigint;
  outputHash: string;
  meteringVersion: number;
}

export interface Verification {
  /** True when fuel, output hash and metering version all match. */
  matches: boolean;
  fuelMatches: boolean;
  outputMatches: boolean;
  versionMatches: boolean;
  claimed: ClaimedUsage;
  measured: ClaimedUsage & { outcome: OutcomeCode; exitCode: number; detail: string };
}

/**
 * Re-runs a module on an input under an agreement's limits and seed and compares the fuel and the
 * output hash with a report's. Fuel is deterministic, so a match must be exact. A report made
 * under another metering version cannot be checked by this host and never matches.
 */
export async function verifyUsage(engine: JobEngine, job: Reexecution, claimed: ClaimedUsage): Promise<Verification> {
  const input = engine.decodeInputBundle(job.input);
  const result = await engine.runJob({
    module: job.module,
    input,
    limits: { fuel: job.maxFuel, memoryMiB: job.memoryMiB, wallTimeoutMs: job.wallTimeoutMs },
    seed: engine.seedFromAgreement(job.chainId, job.market, job.agreementId),
  });
  if (result.hostFault !== undefined) {
    throw new Error(`agreement ${job.agreementId}: the re-execution hit a host fault, nothing was measured: ${result.hostFault}`);
  }
  const measured = {
    fuelUsed: result.fuelUsed,
    outputHash: toBytes32(result.outputHash),
    meteringVersion: result.meteringVersion,
    outcome: result.outcome,
    exitCode: result.exitCode,
    detail: result.detail,
  };
  const fuelMatches = measured.fuelUsed === claimed.fuelUsed;
  const outputMatches = normaliseSha256(measured.outputHash) === normaliseSha256(claimed.outputHash, "claimed output hash");
  const versionMatches = measured.meteringVersion === claimed.meteringVersion;
  return {
    matches: fuelMatches && outputMatches && versionMatches,
    fuelMatches,
    outputMatches,
    versionMatches,
    claimed: { ...claimed, outputHash: toBytes32(claimed.outputHash) },
    measured,
  };
}
