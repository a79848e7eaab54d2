import Database from "better-sqlite3";
import type { SchemaModel } from "../../services/common/entity-model.js";

/** Every entity row and the checkpoint, in a stable order: two databases with the same data dump equal. */
export function dumpIndex(path: string, schema: SchemaModel): string {
  const db = new Database(path, { readonly: true });
  try {
    const out: Record<string, unknown> = {};
    for (const e of schema.entities.keys()) out[e] = db.prepare(`SELECT * FROM "${e}" ORDER BY id`).all();
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
