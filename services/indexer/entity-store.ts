import type Database from "better-sqlite3";
import type { EntityModel, SchemaModel } from "../common/entity-model.js";
import { quote, rowToRecord, toColumn, type EntityRecord } from "../common/sql-layout.js";
import { writeMeta, type Checkpoint, type Db } from "./database.js";

type Statement = Database.Statement;
type ColumnRow = Record<string, string | number | null>;

interface TableStatements {
  select: Statement;
  upsert: Statement;
  remove: Statement;
}

/** A change made while applying one log, so a failing handler can be undone in memory. */
interface JournalEntry {
  key: string;
  entity: string;
  id: string;
  cached: EntityRecord | null | undefined;
  dirty: boolean;
  undoCaptured: boolean;
}

const MAX_CACHED = 200_000;

/**
 * Entities as handlers see them: `get` and `set` against a write-back cache, flushed to SQLite
 * in one transaction per batch of blocks together with the checkpoint, so a crash leaves either
 * the whole batch or none of it. Every first change of an entity in a block records the entity's
 * previous state in the undo log, which `rollbackTo` replays backwards after a reorg.
 */
export class EntityStore {
  private readonly tables = new Map<string, TableStatements>();
  private readonly cache = new Map<string, EntityRecord | null>();
  private readonly dirty = new Map<string, { entity: string; id: string }>();
  /** Before-images of the blocks applied since the last flush, per block. */
  private readonly undo = new Map<number, Map<string, { entity: string; id: string; before: ColumnRow | null }>>();
  private readonly blocks = new Map<number, Checkpoint>();
  private journal: JournalEntry[] | undefined;
  private block: number | undefined;

  constructor(
    readonly db: Db,
    readonly schema: SchemaModel,
    /** How many blocks of undo history to keep; older history is pruned at each flush. */
    readonly reorgWindow = 256,
  ) {
    for (const e of schema.entities.values()) {
      const cols = e.stored.map((f) => quote(f.name));
      this.tables.set(e.name, {
        select: db.prepare(`SELECT * FROM ${quote(e.name)} WHERE id = ?`),
        upsert: db.prepare(
          `INSERT OR REPLACE INTO ${quote(e.name)} (${cols.join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`,
        ),
        remove: db.prepare(`DELETE FROM ${quote(e.name)} WHERE id = ?`),
      });
    }
  }

  private model(entity: string): EntityModel {
    const e = this.schema.entities.get(entity);
    if (!e) throw new Error(`unknown entity ${entity}`);
    return e;
  }

  private load(entity: string, id: string, key: string): EntityRecord | null {
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const row = this.tables.get(entity)!.select.get(id) as Record<string, unknown> | undefined;
    const record = row ? rowToRecord(this.model(entity), row) : null;
    this.cache.set(key, record);
    return record;
  }

  /** A copy of the entity, or undefined. */
  get(entity: string, id: string): EntityRecord | undefined {
    const record = this.load(entity, id, `${entity}\u0000${id}`);
    return record ? { ...record } : undefined;
  }

  /** Like `get`, but a missing entity is an error naming it. */
  require(entity: string, id: string): EntityRecord {
    const record = this.get(entity, id);
    if (!record) throw new Error(`${entity} ${id} does not exist`);
    return record;
  }

  /** Stores the entity (every stored field must be present; missing nullable fields become null). */
  set(entity: string, record: EntityRecord): void {
    const model = this.model(entity);
    const id = record.id;
    if (typeof id !== "string" || id === "") throw new Error(`${entity} without an id`);
    for (const f of model.stored) {
      const v = record[f.name];
      if ((v === undefined || v === null) && !f.nullable) throw new Error(`${entity} ${id}: ${f.name} is required`);
    }
    this.write(entity, id, { ...record });
  }

  remove(entity: string, id: string): void {
    this.model(entity);
    this.write(entity, id, null);
  }

  private write(entity: string, id: string, value: EntityRecord | null): void {
    if (this.block === undefined) throw new Error("entity write outside a block");
    const key = `${entity}\u0000${id}`;
    const previous = this.load(entity, id, key);
    let blockUndo = this.undo.get(this.block);
    if (!blockUndo) this.undo.set(this.block, (blockUndo = new Map()));
    const undoCaptured = blockUndo.has(key);
    this.journal?.push({ key, entity, id, cached: previous, dirty: this.dirty.has(key), undoCaptured });
    if (!undoCaptured) blockUndo.set(key, { entity, id, before: previous ? this.columns(entity, previous) : null });
    this.cache.set(key, value);
    this.dirty.set(key, { entity, id });
  }

  private columns(entity: string, record: EntityRecord): ColumnRow {
    const row: ColumnRow = {};
    for (const f of this.model(entity).stored) row[f.name] = toColumn(f, record[f.name]);
    return row;
  }

  /** Starts applying the logs of block `number`. */
  beginBlock(checkpoint: Checkpoint): void {
    this.block = checkpoint.number;
    this.blocks.set(checkpoint.number, checkpoint);
  }

  /** Runs one handler; if it throws, every change it made is undone and the error rethrown. */
  applyLog(run: () => void): void {
    this.journal = [];
    try {
      run();
    } catch (error) {
      for (const j of this.journal.reverse()) {
        if (j.cached === undefined) this.cache.delete(j.key);
        else this.cache.set(j.key, j.cached);
        if (!j.dirty) this.dirty.delete(j.key);
        if (!j.undoCaptured) this.undo.get(this.block!)?.delete(j.key);
      }
      throw error;
    } finally {
      this.journal = undefined;
    }
  }

  /** Writes the batch, its undo log and the new checkpoint in one transaction. */
  flush(checkpoint: Checkpoint): void {
    const undoInsert = this.db.prepare("INSERT INTO _undo (block, seq, entity, id, before) VALUES (?, ?, ?, ?, ?)");
    const blockInsert = this.db.prepare("INSERT OR REPLACE INTO _blocks (number, hash, timestamp) VALUES (?, ?, ?)");
    this.db.transaction(() => {
      for (const { entity, id } of this.dirty.values()) {
        const value = this.cache.get(`${entity}\u0000${id}`);
        const table = this.tables.get(entity)!;
        if (value) table.upsert.run(Object.values(this.columns(entity, value)));
        else table.remove.run(id);
      }
      for (const [block, changes] of this.undo) {
        let seq = 0;
        for (const c of changes.values()) {
          undoInsert.run(block, seq++, c.entity, c.id, c.before ? JSON.stringify(c.before) : null);
        }
      }
      for (const b of this.blocks.values()) blockInsert.run(b.number, b.hash, b.timestamp);
      blockInsert.run(checkpoint.number, checkpoint.hash, checkpoint.timestamp);
      writeMeta(this.db, "checkpoint", checkpoint);
      const horizon = checkpoint.number - this.reorgWindow;
      this.db.prepare("DELETE FROM _undo WHERE block <= ?").run(horizon);
      this.db.prepare("DELETE FROM _blocks WHERE number <= ?").run(horizon);
    })();
    this.dirty.clear();
    this.undo.clear();
    this.blocks.clear();
    this.block = undefined;
    if (this.cache.size > MAX_CACHED) this.cache.clear();
  }

  /** Forgets everything not flushed (after a failed batch). */
  discard(): void {
    this.cache.clear();
    this.dirty.clear();
    this.undo.clear();
    this.blocks.clear();
    this.block = undefined;
  }

  /** Undoes every applied block above `ancestor` and makes it the checkpoint (null: undo everything). */
  rollbackTo(ancestor: Checkpoint | null): number {
    this.discard();
    const above = ancestor ? ancestor.number : -1;
    const rows = this.db
      .prepare("SELECT block, entity, id, before FROM _undo WHERE block > ? ORDER BY block DESC, seq DESC")
      .all(above) as { block: number; entity: string; id: string; before: string | null }[];
    this.db.transaction(() => {
      for (const r of rows) {
        const table = this.tables.get(r.entity);
        if (!table) throw new Error(`undo log names unknown entity ${r.entity}`);
        if (r.before === null) table.remove.run(r.id);
        else table.upsert.run(Object.values(JSON.parse(r.before) as ColumnRow));
      }
      this.db.prepare("DELETE FROM _undo WHERE block > ?").run(above);
      this.db.prepare("DELETE FROM _blocks WHERE number > ?").run(above);
      if (ancestor) writeMeta(this.db, "checkpoint", ancestor);
      else this.db.prepare("DELETE FROM _meta WHERE key = 'checkpoint'").run();
    })();
    return new Set(rows.map((r) => r.block)).size;
  }
}
