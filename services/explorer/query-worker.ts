/**
 * A query worker: its own read-only connection to the index and its own copy of the schema, so
 * the server's main thread only moves bytes and can cancel a query by ending its worker.
 */
import { parentPort, workerData } from "node:worker_threads";
import { parseSchemaModel } from "../common/entity-model.js";
import { buildExplorerSchema } from "./graphql/build-schema.js";
import { RequestExecutor } from "./graphql/execute-request.js";
import type { QueryLimits } from "./graphql/limits.js";
import { ReadModel } from "./read-model.js";

export interface WorkerConfig {
  dbPath: string;
  schemaSource: string;
  limits: QueryLimits;
  /** Shared with the pool: the id of the job this worker may claim (see QueryPool). */
  claim: Int32Array;
}

export interface WorkerRequest {
  id: number;
  body: string;
}

export interface WorkerReply {
  id: number;
  status: number;
  /** The response's UTF-8 bytes, transferred (not copied) to the pool: the main thread sends them as they are. */
  body: Uint8Array;
  cacheable: boolean;
}

const config = workerData as WorkerConfig;
const schemaModel = parseSchemaModel(config.schemaSource);
const model = new ReadModel(config.dbPath, schemaModel);
const executor = new RequestExecutor(buildExplorerSchema(schemaModel), model, config.limits);
const utf8 = new TextEncoder();

parentPort!.on("message", (request: WorkerRequest) => {
  // A job sent ahead may have been taken back by the pool for a worker that became free first.
  if (Atomics.compareExchange(config.claim, 0, request.id, 0) !== request.id) return;
  let answer: { status: number; body: string; cacheable: boolean };
  try {
    answer = executor.run(request.body);
  } catch (error) {
    const message = `internal error while running the query: ${(error as Error).message}`;
    answer = { status: 500, body: JSON.stringify({ errors: [{ message }] }), cacheable: false };
  }
  // Encoded here, on the worker's core, into a buffer of its own (TextEncoder's are never pooled) that moves without a copy.
  const body = utf8.encode(answer.body);
  const reply: WorkerReply = { id: request.id, status: answer.status, body, cacheable: answer.cacheable };
  parentPort!.postMessage(reply, [body.buffer]);
});
parentPort!.postMessage({ ready: true });
