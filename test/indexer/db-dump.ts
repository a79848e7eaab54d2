import Database from "better-sqlite3";
import type { SchemaModel } from "../../services/common/entity-model.js";

/**
 * Every entity version (current and history, with their block ranges), the block headers, the
 * indexing errors and the checkpoint, in a stable order: two databases with the same data dump equal.
 */
export function dumpIndex(path: string, schema: SchemaModel): string {
  const db = new Database(path, { readonly: true });
  try {
    const out: Record<string, unknown> = {};
    for (const e of schema.entities.values()) {
      out[e.name] = db.prepare(`SELECT * FROM "${e.name}" ORDER BY id`).all();
      if (!e.immutable) out[`${e.name}__history`] = db.prepare(`SELECT * FROM "${e.name}__history" ORDER BY id, __block_end`).all();
    }
    out._blocks = db.prepare("SELECT * FROM _blocks ORDER BY number").all();
    out._errors = db.prepare("SELECT block, handler, message FROM _errors ORDER BY seq").all();
    out.checkpoint = (db.prepare("SELECT value FROM _meta WHERE key = 'checkpoint'").get() as { value: string } | undefined)?.value;
    return JSON.stringify(out, null, 1);
  } finally {
    db.close();
  }
}

/** How many rows the entity tables hold in all. */
export function countRows(path: string, schema: SchemaModel): number {
  const db = new Database(path, { readonly: true });
  try {
    let n = 0;
    for (const e of schema.entities.keys()) n += (db.prepare(`SELECT count(*) AS n FROM "${e}"`).get() as { n: number }).n;
    return n;
  } finally {
    db.close();
  }
}
