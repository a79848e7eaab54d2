import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { SchemaModel } from "../common/entity-model.js";
import { queryIndexDdl, schemaDdl } from "../common/sql-layout.js";

/**
 * The indexer's SQLite file: the entity tables of subgraph/schema.graphql plus its own
 * bookkeeping. WAL lets the explorer read while the indexer writes.
 *
 * - `_meta(key, value)`: the checkpoint (last applied block, its hash and time) and the deployment.
 * - `_blocks(number, hash)`: hashes of recently applied blocks, to notice a reorg.
 * - `_undo(block, seq, entity, id, before)`: each entity's state before a block changed it, so
 *   that block can be rolled back.
 */
export type Db = Database.Database;

export function openIndexDb(path: string, schema: SchemaModel): Db {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = OFF");
  const ddl = [
    "CREATE TABLE IF NOT EXISTS _meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS _blocks (number INTEGER PRIMARY KEY, hash TEXT NOT NULL, timestamp INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS _undo (block INTEGER NOT NULL, seq INTEGER NOT NULL, entity TEXT NOT NULL, id TEXT NOT NULL, before TEXT, PRIMARY KEY (block, seq)) WITHOUT ROWID",
    ...schemaDdl(schema),
    ...queryIndexDdl(schema),
  ];
  db.transaction(() => {
    for (const statement of ddl) db.exec(statement);
  })();
  return db;
}

export interface Checkpoint {
  number: number;
  hash: string;
  timestamp: number;
}

export function readCheckpoint(db: Db): Checkpoint | undefined {
  const row = db.prepare("SELECT value FROM _meta WHERE key = 'checkpoint'").get() as { value: string } | undefined;
  return row ? (JSON.parse(row.value) as Checkpoint) : undefined;
}

export function writeMeta(db: Db, key: string, value: unknown): void {
  db.prepare("INSERT OR REPLACE INTO _meta (key, value) VALUES (?, ?)").run(key, JSON.stringify(value));
}

export function readMeta<T>(db: Db, key: string): T | undefined {
  const row = db.prepare("SELECT value FROM _meta WHERE key = ?").get(key) as { value: string } | undefined;
  return row ? (JSON.parse(row.value) as T) : undefined;
}
