import type { Signer } from "ethers";
import { signUsageReport, type SigningContext } from "../../contracts/client/signing.js";
import { Outcome, type OutcomeCode, type UsageReport } from "../../contracts/client/typed-data.js";
import { toBytes32 } from "./sha256.js";

/** The fields of a job's result that a usage report attests (a `JobResult` has them all). */
export interface AttestableResult {
  outcome: OutcomeCode;
  exitCode: number;
  fuelUsed: bigint;
  peakMemoryPages: number;
  wallMs: number;
  outputHash: string;
  meteringVersion: number;
  hostFault?: string;
}

const UINT32_MAX = 2 ** 32 - 1;
const UINT16_MAX = 2 ** 16 - 1;
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * Builds the EIP-712 `UsageReport` of a job. The result must not be a host fault (a V8 crash
 * or the watchdog says nothing about the workload, so it is never attested). Fuel is reported as
 * measured, so a verifier's re-run compares equal; the contract caps the payment at `maxFuel`.
 */
export function buildUsageReport(agreementId: bigint, result: AttestableResult, nonce: bigint): UsageReport {
  if (result.hostFault !== undefined) throw new Error(`agreement ${agreementId}: a host fault is never attested (${result.hostFault})`);
  if (!Object.values(Outcome).includes(result.outcome)) throw new Error(`agreement ${agreementId}: unknown outcome ${result.outcome}`);
  if (!Number.isInteger(result.meteringVersion) || result.meteringVersion < 0 || result.meteringVersion > UINT16_MAX) {
    throw new Error(`agreement ${agreementId}: metering version ${result.meteringVersion} does not fit in uint16`);
  }
  if (result.fuelUsed < 0n || result.fuelUsed > UINT64_MAX) {
    throw new Error(`agreement ${agreementId}: fuel ${result.fuelUsed} does not fit in uint64`);
  }
  if (nonce < 0n || nonce > UINT64_MAX) throw new Error(`nonce ${nonce} does not fit in uint64`);
  return {
    agreementId,
    fuelUsed: result.fuelUsed,
    peakMemoryPages: clampUint32(result.peakMemoryPages),
    wallMs: clampUint32(Math.round(result.wallMs)),
    outcome: result.outcome,
    exitCode: clampUint32(result.exitCode >>> 0),
    outputHash: toBytes32(result.outputHash),
    meteringVersion: result.meteringVersion,
    nonce,
  };
}

function clampUint32(n: number): number {
  return Math.min(Math.max(0, Math.floor(n)), UINT32_MAX);
}

/** A report with the host key's signature, as the outbox keeps it and `submitReport` takes it. */
export interface SignedUsageReport {
  report: UsageReport;
  signature: string;
}

/** Signs `report` with the provider's host key under the market's EIP-712 domain. */
export async function signReport(hostKey: Signer, ctx: SigningContext, report: UsageReport): Promise<SignedUsageReport> {
  return { report, signature: await signUsageReport(hostKey, ctx, report) };
}
