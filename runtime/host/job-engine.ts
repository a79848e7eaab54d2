import type { OutcomeCode } from "../../contracts/client/typed-data.js";

/**
 * What the host needs from the WASM core (`runtime/job`): decoding an input bundle, deriving a
 * job's seed and running a job. Kept structural so the host depends on the core's contract only.
 */
export interface InputBundleLike {
  args: string[];
  env: Record<string, string>;
  stdin: Uint8Array;
  files: Record<string, Uint8Array>;
  outputs: string[];
}

export interface JobResultLike {
  outcome: OutcomeCode;
  exitCode: number;
  fuelUsed: bigint;
  peakMemoryPages: number;
  wallMs: number;
  stdout: Uint8Array;
  stderr: Uint8Array;
  outputs: Record<string, Uint8Array>;
  outputHash: string;
  meteringVersion: number;
  detail: string;
  hostFault?: string;
}

export interface JobEngine {
  decodeInputBundle(bytes: Uint8Array): InputBundleLike;
  seedFromAgreement(chainId: bigint, market: string, agreementId: bigint): Uint8Array;
  runJob(spec: {
    module: Uint8Array;
    input: InputBundleLike;
    limits: { fuel: bigint; memoryMiB: number; wallTimeoutMs: number };
    seed: Uint8Array;
  }): Promise<JobResultLike>;
  readonly METERING_VERSION: number;
  /** Ends the core's reused job processes, so the host can exit. */
  shutdownJobPool?(): void;
}
