// Runs jobs on a thread with a large native stack, so the logical stack limit is always reached first.
import { parentPort } from "node:worker_threads";
import { executeJob } from "./execute.js";
import type { JobSpec } from "./types.js";

Error.stackTraceLimit = Math.max(Error.stackTraceLimit, 10);

parentPort!.on("message", (msg: { id: number; spec: JobSpec }) => {
  void executeJob(msg.spec).then(
    (result) => parentPort!.postMessage({ id: msg.id, result }),
    (e: unknown) => parentPort!.postMessage({ id: msg.id, error: (e as Error)?.message ?? String(e) }),
  );
});
