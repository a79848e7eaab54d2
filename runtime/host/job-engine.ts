import type { InputBundle, JobResult, JobSpec } from "../job/types.js";

/**
 * What the host needs from the WASM core (`runtime/job`): decoding an input bundle, deriving a
 * job's seed and running a job. An interface over the core's own types, so the host can be
 * handed the module `runtime/job/index.js` itself.
 */
export interface JobEngine {
  decodeInputBundle(bytes: Uint8Array): InputBundle;
  seedFromAgreement(chainId: bigint, market: string, agreementId: bigint): Uint8Array;
  runJob(spec: JobSpec): Promise<JobResult>;
  readonly METERING_VERSION: number;
  /** Starts the core's job processes ahead of the first job. */
  warmJobPool?(): void;
  /** Ends the core's reused job processes, so the host can exit. */
  shutdownJobPool?(): void;
}
