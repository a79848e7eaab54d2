import type Database from "better-sqlite3";
import type { EntityModel, SchemaModel } from "../common/entity-model.js";
import { BLOCK_END, BLOCK_START, historyTable, quote, type EntityRecord } from "../common/sql-layout.js";
import { writeMeta, type Checkpoint, type Db } from "./database.js";
import { entityLayouts, type EntityLayout, type Fields } from "./entity-layout.js";
import { IdFilter } from "./id-filter.js";

type Statement = Database.Statement;

/** An entity's state as the handlers see it: its current fields (null: none) and the block that wrote them. */
interface Version {
  fields: Fields | null;
  start: number;
}

/** One entity type: its statements, its cached versions and what the batch changed. */
interface Table {
  layout: EntityLayout;
  select: Statement;
  upsert: Statement;
  remove: Statement;
  related: Map<string, Statement>;
  history?: Statement;
  cache: Map<string, Version>;
  /** The ids the table may hold (built on first use; rebuilt after a revert). */
  ids?: IdFilter;
  /** Ids written since the last flush. */
  dirty: Set<string>;
}

/** A superseded version waiting to be written to the history table. */
interface Superseded {
  table: Table;
  fields: Fields;
  start: number;
  end: number;
}

interface JournalEntry {
  table: Table;
  id: string;
  cached: Version | undefined;
  dirty: boolean;
}

const MAX_CACHED = 200_000;
const ABSENT: Version = Object.freeze({ fields: null, start: -1 });

/**
 * Entities as handlers see them, with graph-node's versioning: `get` and `set` go through a
 * write-back cache, and the first change of an entity in a block supersedes its previous version,
 * which moves to the history table with the block range it was valid for. A batch of blocks is
 * written in one transaction with its checkpoint, so a crash leaves either the whole batch or none
 * of it; `revertTo` undoes the blocks after an ancestor (a reorg) from the block ranges alone.
 * Entities are kept in the store's form (entity-layout.ts): the mappings' values are converted on
 * `store.set` only, and to SQLite columns only when a batch is flushed.
 */
export class EntityStore {
  readonly layouts: Map<string, EntityLayout>;
  private readonly tables = new Map<string, Table>();
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
    this.layouts = entityLayouts(schema);
    for (const e of schema.entities.values()) {
      const cols = [...e.stored.map((f) => quote(f.name)), quote(BLOCK_START)];
      const hcols = [...cols, quote(BLOCK_END)];
      this.tables.set(e.name, {
        layout: this.layouts.get(e.name)!,
        select: db.prepare(`SELECT * FROM ${quote(e.name)} WHERE id = ?`),
        upsert: db.prepare(`INSERT OR REPLACE INTO ${quote(e.name)} (${cols.join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`),
        remove: db.prepare(`DELETE FROM ${quote(e.name)} WHERE id = ?`),
        related: new Map(),
        history: e.immutable
          ? undefined
          : db.prepare(`INSERT OR REPLACE INTO ${quote(historyTable(e.name))} (${hcols.join(", ")}) VALUES (${hcols.map(() => "?").join(", ")})`),
        cache: new Map(),
        dirty: new Set(),
      });
    }
  }

  model(entity: string): EntityModel {
    return this.table(entity).layout.model;
  }

  layout(entity: string): EntityLayout {
    return this.table(entity).layout;
  }

  private table(entity: string): Table {
    const table = this.tables.get(entity);
    if (!table) throw new Error(`unknown entity ${entity}`);
    return table;
  }

  private idFilter(table: Table): IdFilter {
    let filter = table.ids;
    if (!filter) {
      filter = new IdFilter();
      for (const id of this.db.prepare(`SELECT id FROM ${quote(table.layout.name)}`).pluck().iterate()) filter.add(id as string);
      table.ids = filter;
    }
    return filter;
  }

  private load(table: Table, id: string): Version {
    const cached = table.cache.get(id);
    if (cached !== undefined) return cached;
    if (!this.idFilter(table).mayHold(id)) {
      table.cache.set(id, ABSENT);
      return ABSENT;
    }
    const row = table.select.get(id) as Record<string, unknown> | undefined;
    const version: Version = row ? { fields: table.layout.fromRow(row), start: row[BLOCK_START] as number } : ABSENT;
    table.cache.set(id, version);
    return version;
  }

  /** The entity as a record (a copy), or undefined. */
  get(entity: string, id: string): EntityRecord | undefined {
    const table = this.table(entity);
    const { fields } = this.load(table, id);
    return fields ? table.layout.toRecord(fields) : undefined;
  }

  /** The entity's fields as cached, not copied: callers must not change them. */
  fields(entity: string, id: string): Fields | undefined {
    return this.load(this.table(entity), id).fields ?? undefined;
  }

  /** Like `get`, but a missing entity is an error naming it. */
  require(entity: string, id: string): EntityRecord {
    const record = this.get(entity, id);
    if (!record) throw new Error(`${entity} ${id} does not exist`);
    return record;
  }

  /** Whether the entity was written in the block being applied (graph-ts `store.get_in_block`). */
  writtenInBlock(entity: string, id: string): boolean {
    const v = this.table(entity).cache.get(id);
    return this.block !== undefined && v !== undefined && v !== ABSENT && v.start === this.block;
  }

  /** The current entities of `entity` whose `column` is `id` (a @derivedFrom list), pending changes included. */
  related(entity: string, column: string, id: string): Fields[] {
    const table = this.table(entity);
    const f = table.layout.byName.get(column);
    if (!f) throw new Error(`${entity} has no field ${column}`);
    let statement = table.related.get(column);
    if (!statement) {
      statement = this.db.prepare(`SELECT * FROM ${quote(entity)} WHERE ${quote(column)} = ? ORDER BY id`);
      table.related.set(column, statement);
    }
    const out = new Map<string, Fields>();
    for (const row of statement.all(id) as Record<string, unknown>[]) {
      if (!table.cache.has(row.id as string)) out.set(row.id as string, table.layout.fromRow(row));
    }
    const idIndex = table.layout.idField.index;
    for (const v of table.cache.values()) {
      if (v.fields && v.fields[f.index] === id) out.set(v.fields[idIndex] as string, v.fields);
    }
    return [...out.values()];
  }

  /** Stores the entity as its version at the current block; every stored field must be present. */
  set(entity: string, record: EntityRecord): void {
    const table = this.table(entity);
    const id = record.id;
    if (typeof id !== "string" || id === "") throw new Error(`${entity} without an id`);
    for (const f of table.layout.model.stored) {
      const v = record[f.name];
      if ((v === undefined || v === null) && !f.nullable) throw new Error(`${entity} ${id}: ${f.name} is required`);
    }
    this.write(table, id, table.layout.fromRecord(record));
  }

  /** Like `set` for fields already checked against the schema, which the store now owns. */
  setFields(entity: string, id: string, fields: Fields): void {
    this.write(this.table(entity), id, fields);
  }

  remove(entity: string, id: string): void {
    this.write(this.table(entity), id, null);
  }

  private write(table: Table, id: string, fields: Fields | null): void {
    const block = this.block;
    if (block === undefined) throw new Error("entity write outside a block");
    const previous = this.load(table, id);
    if (fields === null && previous.fields === null) return;
    this.journal?.push({ table, id, cached: previous, dirty: table.dirty.has(id) });
    if (previous.fields && previous.start < block) {
      if (table.layout.model.immutable) {
        throw new Error(`${table.layout.name}[${id}] is immutable and was written at block ${previous.start}: it can not be ${fields ? "updated" : "removed"}`);
      }
      this.superseded.push({ table, fields: previous.fields, start: previous.start, end: block });
    }
    table.cache.set(id, { fields, start: block });
    table.dirty.add(id);
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
        if (j.cached === undefined) j.table.cache.delete(j.id);
        else j.table.cache.set(j.id, j.cached);
        if (!j.dirty) j.table.dirty.delete(j.id);
      }
      this.superseded.length = this.journalHistory;
      throw error;
    } finally {
      this.journal = undefined;
    }
  }

  /** Writes the batch, the superseded versions, the block headers and the checkpoint in one transaction. */
  flush(checkpoint: Checkpoint, extra?: () => void): void {
    const blockInsert = this.db.prepare("INSERT OR REPLACE INTO _blocks (number, hash, parentHash, timestamp) VALUES (?, ?, ?, ?)");
    this.db.transaction(() => {
      for (const s of this.superseded) s.table.history!.run(s.table.layout.columns(s.fields, s.start, s.end));
      for (const table of this.tables.values()) {
        for (const id of table.dirty) {
          const version = table.cache.get(id)!;
          if (version.fields) {
            table.upsert.run(table.layout.columns(version.fields, version.start));
            table.ids?.add(id);
          } else table.remove.run(id);
        }
      }
      for (const b of [...this.blocks.values(), checkpoint]) blockInsert.run(b.number, b.hash, b.parentHash ?? null, b.timestamp);
      extra?.();
      writeMeta(this.db, "checkpoint", checkpoint);
      if (this.historyBlocks !== undefined) this.prune(checkpoint.number - this.historyBlocks);
    })();
    for (const table of this.tables.values()) table.dirty.clear();
    this.superseded = [];
    this.blocks.clear();
    this.block = undefined;
    this.evict();
  }

  /** Past MAX_CACHED cached entities, each table keeps its newest (a Map iterates in insertion order), half of them in all. */
  private evict(): void {
    let size = 0;
    for (const table of this.tables.values()) size += table.cache.size;
    if (size <= MAX_CACHED) return;
    const keep = MAX_CACHED / 2 / size;
    for (const table of this.tables.values()) {
      let drop = table.cache.size - Math.floor(table.cache.size * keep);
      for (const id of table.cache.keys()) {
        if (drop-- <= 0) break;
        table.cache.delete(id);
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
    for (const table of this.tables.values()) {
      table.cache.clear();
      table.dirty.clear();
    }
    this.superseded = [];
    this.blocks.clear();
    this.block = undefined;
  }

  /**
   * Undoes every block after `ancestor` (null: everything) and makes it the checkpoint: versions
   * that start after it are deleted, versions that ended after it are current again. Returns how
   * many indexed blocks were undone.
   */
  revertTo(ancestor: Checkpoint | null): number {
    this.discard();
    for (const table of this.tables.values()) table.ids = undefined; // the revert brings back ids of removed entities
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
