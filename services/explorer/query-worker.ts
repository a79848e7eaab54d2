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
  body: string;
  cacheable: boolean;
}

const config = workerData as WorkerConfig;
const schemaModel = parseSchemaModel(config.schemaSource);
const model = new ReadModel(config.dbPath, schemaModel);
const executor = new RequestExecutor(buildExplorerSchema(schemaModel), model, config.limits);

parentPort!.on("message", (request: WorkerRequest) => {
  // A job sent ahead may have been taken back by the pool for a worker that became free first.
  if (Atomics.compareExchange(config.claim, 0, request.id, 0) !== request.id) return;
  let reply: WorkerReply;
  try {
    reply = { id: request.id, ...executor.run(request.body) };
  } catch (error) {
    const message = `internal error while running the query: ${(error as Error).message}`;
    reply = { id: request.id, status: 500, body: JSON.stringify({ errors: [{ message }] }), cacheable: false };
  }
  parentPort!.postMessage(reply);
});
parentPort!.postMessage({ ready: true });
