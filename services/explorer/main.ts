import Database from "better-sqlite3";
import { existsSync } from "node:fs";
import { loadSchemaModel } from "../common/entity-model.js";
import { startExplorer } from "./server.js";

/** Waits for the indexer to create its database (the two may start together). */
async function waitForIndex(path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let announced = false;
  for (;;) {
    if (existsSync(path)) {
      const db = new Database(path, { readonly: true });
      const ready = db.prepare("SELECT 1 FROM sqlite_master WHERE name = '_meta'").get() !== undefined;
      db.close();
      if (ready) return;
    }
    if (Date.now() > deadline) return; // startExplorer then names what is missing
    if (!announced) console.log(`explorer: waiting for the indexer to create ${path}`);
    announced = true;
    await new Promise((r) => setTimeout(r, 250));
  }
}

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

/**
 * The market explorer. Env: DB_PATH (the indexer's database), PORT (default 8000), HOST (default
 * 127.0.0.1), WAIT_FOR_DB_MS (how long to wait for the indexer to create the database, default
 * 60 s), QUERY_WORKERS (query threads, default 2), QUERY_TIMEOUT_MS (default 2000),
 * MAX_QUERY_COST (default 50000), MAX_RESPONSE_MB (default 8), CACHE_MB (default 64),
 * MAX_CONNECTIONS (default 1024), MAX_CONNECTIONS_PER_CLIENT (default 64), RATE_LIMIT (requests
 * per second per client address, default 5000).
 */
async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 8000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got "${process.env.PORT}"`);
  const dbPath = process.env.DB_PATH ?? ".troupe/indexer.db";
  await waitForIndex(dbPath, Number(process.env.WAIT_FOR_DB_MS ?? 60_000));
  const rate = positive("RATE_LIMIT", 5_000);
  const explorer = await startExplorer({
    dbPath,
    schema: loadSchemaModel(),
    port,
    host: process.env.HOST ?? "127.0.0.1",
    workers: Math.round(positive("QUERY_WORKERS", 2)),
    limits: {
      timeoutMs: positive("QUERY_TIMEOUT_MS", 2_000),
      maxCost: positive("MAX_QUERY_COST", 50_000),
      maxResponseBytes: positive("MAX_RESPONSE_MB", 8) * 1024 * 1024,
    },
    cacheBytes: positive("CACHE_MB", 64) * 1024 * 1024,
    maxConnections: Math.round(positive("MAX_CONNECTIONS", 1024)),
    clientLimits: { maxConnectionsPerClient: Math.round(positive("MAX_CONNECTIONS_PER_CLIENT", 64)), requestsPerSecond: rate, burst: rate * 2 },
  });
  console.log(`explorer: ${explorer.url}/ (GraphQL and GraphiQL at ${explorer.url}/graphql)`);
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => void explorer.close().then(() => process.exit(0)));
  }
}

main().catch((error: unknown) => {
  console.error(`explorer: ${(error as Error).message}`);
  process.exit(1);
});
