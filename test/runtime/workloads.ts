// Builds (if needed) and loads the workloads compiled from runtime/workloads/.
import { ensureWorkloads, workload } from "../../runtime/workloads/build.js";

export { workload };

/** Builds every workload once; compiling from a fresh clone takes a few seconds. */
export function buildWorkloads(): void {
  ensureWorkloads();
}
