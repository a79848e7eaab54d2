import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { SchemaModel } from "../common/entity-model.js";
import { queryIndexDdl, schemaDdl } from "../common/sql-layout.js";

/**
 * The indexer's SQLite file: the entity tables of subgraph/schema.graphql with their history
 * (services/common/sql-layout.ts) plus the indexer's bookkeeping. WAL lets the explorer read
 * while the indexer writes.
 *
 * - `_meta(key, value)`: the checkpoint (last applied block), the deployment, the earliest block
 *   whose state is kept.
 * - `_blocks(number, hash, parentHash, timestamp)`: the header of every indexed block, for
 *   reorg detection and `block: { hash }` / `_meta(block:)` queries.
 * - `_errors(block, ...)`: handlers that failed (graph-node's non-fatal indexing errors).
 * - `_data_sources`: data sources created from templates by the mappings.
 */
export type Db = Database.Database;

/** Bumped when the layout changes incompatibly: an older database is refused with a clear message. */
export const LAYOUT_VERSION = 2;

export function openIndexDb(path: string, schema: SchemaModel): Db {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = OFF");
  db.pragma("cache_size = -65536");
  // Checkpoint the WAL every 64 MB rather than every 4 MB: a page that successive batches change
  // (an index's, a busy entity's) is copied back to the database once per checkpoint.
  db.pragma("wal_autocheckpoint = 16384");
  const hasUndo = db.prepare("SELECT 1 FROM sqlite_master WHERE name = '_undo'").get() !== undefined;
  if (hasUndo) throw new Error(`${path} was written by an older indexer (no entity history): index into a new DB_PATH`);
  const ddl = [
    "CREATE TABLE IF NOT EXISTS _meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS _blocks (number INTEGER PRIMARY KEY, hash TEXT NOT NULL, parentHash TEXT, timestamp INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS _blocks_hash_idx ON _blocks (hash)",
    "CREATE TABLE IF NOT EXISTS _errors (seq INTEGER PRIMARY KEY, block INTEGER NOT NULL, handler TEXT NOT NULL, message TEXT NOT NULL, deterministic INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS _errors_block_idx ON _errors (block)",
    "CREATE TABLE IF NOT EXISTS _data_sources (seq INTEGER PRIMARY KEY, template TEXT NOT NULL, address TEXT NOT NULL, params TEXT NOT NULL, context TEXT, block INTEGER NOT NULL)",
    ...schemaDdl(schema),
    ...queryIndexDdl(schema),
  ];
  db.transaction(() => {
    for (const statement of ddl) db.exec(statement);
  })();
  writeMeta(db, "layout", LAYOUT_VERSION);
  return db;
}

export interface Checkpoint {
  number: number;
  hash: string;
  timestamp: number;
  parentHash?: string;
}

export function readCheckpoint(db: Db): Checkpoint | undefined {
  return readMeta<Checkpoint>(db, "checkpoint");
}

export function writeMeta(db: Db, key: string, value: unknown): void {
  db.prepare("INSERT OR REPLACE INTO _meta (key, value) VALUES (?, ?)").run(key, JSON.stringify(value));
}

export function readMeta<T>(db: Db, key: string): T | undefined {
  const row = db.prepare("SELECT value FROM _meta WHERE key = ?").get(key) as { value: string } | undefined;
  return row ? (JSON.parse(row.value) as T) : undefined;
}
