/**
 * The provider host's job runner: admission, fuel instrumentation and a deterministic WASI sandbox,
 * each job in a separate (reused) process with a wall-clock watchdog.
 */
import { checkSpec } from "./execute.js";
import { jobPool } from "./pool.js";
import type { JobResult, JobSpec, RunOptions } from "./types.js";

export type { InputBundle, JobLimits, JobResult, JobSpec, RunOptions } from "./types.js";
export type { OutcomeCode } from "../../contracts/client/typed-data.js";
export { encodeInputBundle, decodeInputBundle } from "./bundle.js";
export { seedFromAgreement } from "./seed.js";
export { outputHash } from "./output-hash.js";
export { shutdownJobPool, warmJobPool } from "./pool.js";
export { METERING_VERSION, SUPPORTED_METERING_VERSIONS } from "../wasm/cost-table.js";

/**
 * Runs a job in a job process. Never throws for a bad module (the result says InvalidModule, Trap...);
 * throws only for a malformed JobSpec. A result with `hostFault` set must not be attested.
 */
export async function runJob(spec: JobSpec, options: RunOptions = {}): Promise<JobResult> {
  checkSpec(spec);
  return jobPool().run(spec, options.v8Flags ?? []);
}
