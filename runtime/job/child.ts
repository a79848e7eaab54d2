// A job process: takes jobs over IPC and runs them on a worker thread, replacing the thread if it dies.
import { Worker } from "node:worker_threads";
import type { JobResult, JobSpec } from "./types.js";

/** Native stack of the job thread, far above what the logical stack limit can use. */
const STACK_MB = 256;

type Reply = { id: number; started?: true; result?: JobResult; error?: string; fault?: string };

let worker: Worker | undefined;
let inFlight: number | undefined;

function send(reply: Reply): void {
  process.send!(reply);
}

function start(): Worker {
  const w = new Worker(new URL("./worker-thread.ts", import.meta.url), { resourceLimits: { stackSizeMb: STACK_MB } });
  w.on("message", (m: Reply) => {
    inFlight = undefined;
    send(m);
  });
  w.on("error", (e: Error & { code?: string }) => {
    const fault = e.code === "ERR_WORKER_OUT_OF_MEMORY" ? "V8 out of memory" : `job thread failed: ${e.message}`;
    if (inFlight !== undefined) send({ id: inFlight, fault });
    inFlight = undefined;
  });
  w.on("exit", () => {
    if (inFlight !== undefined) send({ id: inFlight, fault: "job thread exited" });
    inFlight = undefined;
    if (worker === w) worker = undefined;
  });
  return w;
}

process.on("message", (msg: { id: number; spec: JobSpec }) => {
  // The acknowledgement tells the pool the job has started, so a later death is this job's fault.
  send({ id: msg.id, started: true });
  worker ??= start();
  inFlight = msg.id;
  worker.postMessage(msg);
});
process.on("disconnect", () => process.exit(0));
// The job thread starts now, not with the first job: a warm pool's first job does not wait for it.
worker = start();
