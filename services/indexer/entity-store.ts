import type Database from "better-sqlite3";
import type { EntityModel, SchemaModel } from "../common/entity-model.js";
import { BLOCK_END, BLOCK_START, historyTable, quote, rowToRecord, toColumn, type EntityRecord } from "../common/sql-layout.js";
import { writeMeta, type Checkpoint, type Db } from "./database.js";
import { IdFilter } from "./id-filter.js";

type Statement = Database.Statement;

interface TableStatements {
  select: Statement;
  upsert: Statement;
  remove: Statement;
  related: Map<string, Statement>;
  history?: Statement;
}

/** An entity's state as the handlers see it: its current version and the block that wrote it. */
interface Version {
  record: EntityRecord | null;
  start: number;
}

/** A superseded version waiting to be written to the history table. */
interface Superseded {
  entity: string;
  record: EntityRecord;
  start: number;
  end: number;
}

interface JournalEntry {
  key: string;
  cached: Version | undefined;
  dirty: boolean;
  writtenAt: number | undefined;
}

const MAX_CACHED = 200_000;
const key = (entity: string, id: string) => `${entity}\u0000${id}`;

/**
 * Entities as handlers see them, with graph-node's versioning: `get` and `set` go through a
 * write-back cache, and the first change of an entity in a block supersedes its previous version,
 * which moves to the history table with the block range it was valid for. A batch of blocks is
 * written in one transaction with its checkpoint, so a crash leaves either the whole batch or none
 * of it; `revertTo` undoes the blocks after an ancestor (a reorg) from the block ranges alone.
 */
export class EntityStore {
  private readonly tables = new Map<string, TableStatements>();
  private readonly cache = new Map<string, Version>();
  /** Per entity, the ids its current table may hold (built on first use; rebuilt after a revert). */
  private readonly ids = new Map<string, IdFilter>();
  private readonly dirty = new Map<string, { entity: string; id: string }>();
  private readonly writtenAt = new Map<string, number>();
  private superseded: Superseded[] = [];
  private readonly blocks = new Map<number, Checkpoint>();
  private journal: JournalEntry[] | undefined;
  private journalHistory = 0;
  private block: number | undefined;

  constructor(
    readonly db: Db,
    readonly schema: SchemaModel,
    /** Blocks of history to keep (undefined: all, so any past block can be queried). */
    readonly historyBlocks?: number,
  ) {
    for (const e of schema.entities.values()) {
      const cols = [...e.stored.map((f) => quote(f.name)), quote(BLOCK_START)];
      const hcols = [...cols, quote(BLOCK_END)];
      this.tables.set(e.name, {
        select: db.prepare(`SELECT * FROM ${quote(e.name)} WHERE id = ?`),
        upsert: db.prepare(`INSERT OR REPLACE INTO ${quote(e.name)} (${cols.join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`),
        remove: db.prepare(`DELETE FROM ${quote(e.name)} WHERE id = ?`),
        related: new Map(),
        history: e.immutable
          ? undefined
          : db.prepare(`INSERT OR REPLACE INTO ${quote(historyTable(e.name))} (${hcols.join(", ")}) VALUES (${hcols.map(() => "?").join(", ")})`),
      });
    }
  }

  model(entity: string): EntityModel {
    const e = this.schema.entities.get(entity);
    if (!e) throw new Error(`unknown entity ${entity}`);
    return e;
  }

  private idFilter(entity: string): IdFilter {
    let filter = this.ids.get(entity);
    if (!filter) {
      filter = new IdFilter();
      for (const id of this.db.prepare(`SELECT id FROM ${quote(entity)}`).pluck().iterate()) filter.add(id as string);
      this.ids.set(entity, filter);
    }
    return filter;
  }

  private load(entity: string, id: string, k: string): Version {
    const cached = this.cache.get(k);
    if (cached !== undefined) return cached;
    if (!this.idFilter(entity).mayHold(id)) {
      const absent: Version = { record: null, start: -1 };
      this.cache.set(k, absent);
      return absent;
    }
    const row = this.tables.get(entity)!.select.get(id) as Record<string, unknown> | undefined;
    const version: Version = row ? { record: rowToRecord(this.model(entity), row), start: row[BLOCK_START] as number } : { record: null, start: -1 };
    this.cache.set(k, version);
    return version;
  }

  /** A copy of the entity, or undefined. */
  get(entity: string, id: string): EntityRecord | undefined {
    this.model(entity);
    const { record } = this.load(entity, id, key(entity, id));
    return record ? { ...record } : undefined;
  }

  /** The entity as cached, not copied: callers must not change it. */
  peek(entity: string, id: string): EntityRecord | undefined {
    return this.load(entity, id, key(entity, id)).record ?? undefined;
  }

  /** Like `get`, but a missing entity is an error naming it. */
  require(entity: string, id: string): EntityRecord {
    const record = this.get(entity, id);
    if (!record) throw new Error(`${entity} ${id} does not exist`);
    return record;
  }

  /** Whether the entity was written in the block being applied (graph-ts `store.get_in_block`). */
  writtenInBlock(entity: string, id: string): boolean {
    return this.block !== undefined && this.writtenAt.get(key(entity, id)) === this.block;
  }

  /** The current entities of `entity` whose `column` is `id` (a @derivedFrom list), pending changes included. */
  related(entity: string, column: string, id: string): EntityRecord[] {
    const model = this.model(entity);
    const table = this.tables.get(entity)!;
    let statement = table.related.get(column);
    if (!statement) {
      if (!model.byName.has(column)) throw new Error(`${entity} has no field ${column}`);
      statement = this.db.prepare(`SELECT * FROM ${quote(entity)} WHERE ${quote(column)} = ? ORDER BY id`);
      table.related.set(column, statement);
    }
    const out = new Map<string, EntityRecord>();
    for (const row of statement.all(id) as Record<string, unknown>[]) {
      const k = key(entity, row.id as string);
      const cached = this.cache.get(k);
      if (cached === undefined) out.set(row.id as string, rowToRecord(model, row));
    }
    for (const [k, v] of this.cache) {
      if (v.record && k.startsWith(`${entity}\u0000`) && v.record[column] === id) out.set(v.record.id as string, { ...v.record });
    }
    return [...out.values()];
  }

  /** Stores the entity as its version at the current block; every stored field must be present. */
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

  /** Like `set` for a record already checked against the schema, which the store now owns. */
  setChecked(entity: string, id: string, record: EntityRecord): void {
    this.write(entity, id, record);
  }

  remove(entity: string, id: string): void {
    this.model(entity);
    this.write(entity, id, null);
  }

  private write(entity: string, id: string, value: EntityRecord | null): void {
    const block = this.block;
    if (block === undefined) throw new Error("entity write outside a block");
    const k = key(entity, id);
    const previous = this.load(entity, id, k);
    if (value === null && previous.record === null) return;
    this.journal?.push({ key: k, cached: previous, dirty: this.dirty.has(k), writtenAt: this.writtenAt.get(k) });
    if (previous.record && previous.start < block) {
      if (this.model(entity).immutable) {
        throw new Error(`${entity}[${id}] is immutable and was written at block ${previous.start}: it can not be ${value ? "updated" : "removed"}`);
      }
      this.superseded.push({ entity, record: previous.record, start: previous.start, end: block });
    }
    this.cache.set(k, { record: value, start: block });
    this.dirty.set(k, { entity, id });
    this.writtenAt.set(k, block);
  }

  /** Starts applying block `number`. */
  beginBlock(checkpoint: Checkpoint): void {
    this.block = checkpoint.number;
    this.blocks.set(checkpoint.number, checkpoint);
  }

  /** Records a block's header without applying anything (blocks with no triggers). */
  noteBlock(checkpoint: Checkpoint): void {
    this.blocks.set(checkpoint.number, checkpoint);
  }

  /** Runs one handler; if it throws, every change it made is undone and the error rethrown. */
  applyLog<T>(run: () => T): T {
    this.journal = [];
    this.journalHistory = this.superseded.length;
    try {
      return run();
    } catch (error) {
      for (const j of this.journal.reverse()) {
        if (j.cached === undefined) this.cache.delete(j.key);
        else this.cache.set(j.key, j.cached);
        if (!j.dirty) this.dirty.delete(j.key);
        if (j.writtenAt === undefined) this.writtenAt.delete(j.key);
        else this.writtenAt.set(j.key, j.writtenAt);
      }
      this.superseded.length = this.journalHistory;
      throw error;
    } finally {
      this.journal = undefined;
    }
  }

  private columns(entity: string, record: EntityRecord): (string | number | null)[] {
    return this.model(entity).stored.map((f) => toColumn(f, record[f.name]));
  }

  /** Writes the batch, the superseded versions, the block headers and the checkpoint in one transaction. */
  flush(checkpoint: Checkpoint, extra?: () => void): void {
    const blockInsert = this.db.prepare("INSERT OR REPLACE INTO _blocks (number, hash, parentHash, timestamp) VALUES (?, ?, ?, ?)");
    this.db.transaction(() => {
      for (const s of this.superseded) {
        this.tables.get(s.entity)!.history!.run(...this.columns(s.entity, s.record), s.start, s.end);
      }
      for (const [k, { entity, id }] of this.dirty) {
        const version = this.cache.get(k)!;
        const table = this.tables.get(entity)!;
        if (version.record) {
          table.upsert.run(...this.columns(entity, version.record), version.start);
          this.ids.get(entity)?.add(id);
        } else table.remove.run(id);
      }
      for (const b of [...this.blocks.values(), checkpoint]) blockInsert.run(b.number, b.hash, b.parentHash ?? null, b.timestamp);
      extra?.();
      writeMeta(this.db, "checkpoint", checkpoint);
      if (this.historyBlocks !== undefined) this.prune(checkpoint.number - this.historyBlocks);
    })();
    this.dirty.clear();
    this.superseded = [];
    this.blocks.clear();
    this.writtenAt.clear();
    this.block = undefined;
    if (this.cache.size > MAX_CACHED) {
      // The oldest half goes (a Map iterates in insertion order): recent entities stay cached.
      let drop = this.cache.size - MAX_CACHED / 2;
      for (const k of this.cache.keys()) {
        if (drop-- <= 0) break;
        this.cache.delete(k);
      }
    }
  }

  /** Drops the history of blocks before `horizon` (indexerHints.prune). */
  private prune(horizon: number): void {
    if (horizon <= 0) return;
    for (const e of this.schema.entities.values()) {
      if (!e.immutable) this.db.prepare(`DELETE FROM ${quote(historyTable(e.name))} WHERE ${quote(BLOCK_END)} <= ?`).run(horizon);
    }
    writeMeta(this.db, "earliestBlock", horizon);
  }

  /** Forgets everything not flushed (after a failed batch). */
  discard(): void {
    this.cache.clear();
    this.dirty.clear();
    this.superseded = [];
    this.blocks.clear();
    this.writtenAt.clear();
    this.block = undefined;
  }

  /**
   * Undoes every block after `ancestor` (null: everything) and makes it the checkpoint: versions
   * that start after it are deleted, versions that ended after it are current again. Returns how
   * many indexed blocks were undone.
   */
  revertTo(ancestor: Checkpoint | null): number {
    this.discard();
    this.ids.clear(); // the revert brings back ids of removed entities
    const above = ancestor ? ancestor.number : -1;
    const undone = (this.db.prepare("SELECT count(*) AS n FROM _blocks WHERE number > ?").get(above) as { n: number }).n;
    this.db.transaction(() => {
      for (const e of this.schema.entities.values()) {
        this.db.prepare(`DELETE FROM ${quote(e.name)} WHERE ${quote(BLOCK_START)} > ?`).run(above);
        if (e.immutable) continue;
        const cols = [...e.stored.map((f) => quote(f.name)), quote(BLOCK_START)].join(", ");
        const history = quote(historyTable(e.name));
        this.db
          .prepare(`INSERT OR REPLACE INTO ${quote(e.name)} (${cols}) SELECT ${cols} FROM ${history} WHERE ${quote(BLOCK_END)} > ? AND ${quote(BLOCK_START)} <= ?`)
          .run(above, above);
        this.db.prepare(`DELETE FROM ${history} WHERE ${quote(BLOCK_END)} > ?`).run(above);
      }
      this.db.prepare("DELETE FROM _blocks WHERE number > ?").run(above);
      this.db.prepare("DELETE FROM _errors WHERE block > ?").run(above);
      this.db.prepare("DELETE FROM _data_sources WHERE block > ?").run(above);
      if (ancestor) writeMeta(this.db, "checkpoint", ancestor);
      else this.db.prepare("DELETE FROM _meta WHERE key = 'checkpoint'").run();
    })();
    return undone;
  }
}
