import type { EntityModel, FieldModel, SchemaModel } from "./entity-model.js";

/**
 * How entities live in SQLite, with their history (graph-node's block ranges):
 *
 * - `<Entity>`: the current version of every entity, one column per stored field, plus
 *   `__block_start`, the block that wrote this version. Latest-block queries read only this.
 * - `<Entity>__history`: every superseded or removed version, valid for the blocks
 *   `[__block_start, __block_end)`. A query at block B reads the versions with
 *   `__block_start <= B < __block_end` from both tables (see `versionsAt`).
 *
 * A reorg back to block B deletes the versions that start after B and reopens the ones that
 * ended after it. BigInts are stored as text that sorts like the number (a two-digit length, then
 * the digits), so `ORDER BY` and range filters are numeric without a custom collation; stored
 * lists are JSON text.
 */

/** An entity in memory: BigInt/Int8/Timestamp as bigint, Int as number, Boolean as boolean, lists as arrays, the rest as strings. */
export type EntityRecord = Record<string, unknown>;

export const BLOCK_START = "__block_start";
export const BLOCK_END = "__block_end";

const MAX_DIGITS = 99;

/** Encodes a bigint so that text order is numeric order. */
export function encodeBigInt(value: bigint): string {
  if (value >= 0n) {
    const digits = value.toString();
    if (digits.length > MAX_DIGITS) throw new RangeError(`BigInt ${digits} has more than ${MAX_DIGITS} digits`);
    return String(digits.length).padStart(2, "0") + digits;
  }
  // Negatives sort first ('-' < '0'); more digits means smaller, and the nines' complement reverses the rest.
  const digits = (-value).toString();
  if (digits.length > MAX_DIGITS) throw new RangeError(`BigInt -${digits} has more than ${MAX_DIGITS} digits`);
  const complement = [...digits].map((c) => String(9 - Number(c))).join("");
  return "-" + String(MAX_DIGITS - digits.length).padStart(2, "0") + complement;
}

export function decodeBigInt(text: string): bigint {
  if (text.startsWith("-")) {
    const digits = [...text.slice(3)].map((c) => String(9 - Number(c))).join("");
    return -BigInt(digits);
  }
  return BigInt(text.slice(2));
}

/** The decimal string of a stored BigInt, without a round trip through bigint. */
export function bigIntText(stored: string): string {
  return stored.startsWith("-") ? decodeBigInt(stored).toString() : stored.slice(2);
}

export function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

export function historyTable(entity: string): string {
  return `${entity}__history`;
}

function isBigIntLike(f: FieldModel): boolean {
  return f.kind === "BigInt" || f.kind === "Int8" || f.kind === "Timestamp";
}

function columnType(f: FieldModel): string {
  if (f.list) return "TEXT";
  switch (f.kind) {
    case "Int":
    case "Boolean":
      return "INTEGER";
    default:
      return "TEXT";
  }
}

function elementFromJson(f: FieldModel, v: unknown): unknown {
  if (v === null) return null;
  if (isBigIntLike(f)) return BigInt(v as string);
  return v;
}

/** A column value back to its JS value. */
export function fromColumn(f: FieldModel, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (f.list) return (JSON.parse(value as string) as unknown[]).map((v) => elementFromJson(f, v));
  switch (f.kind) {
    case "BigInt":
    case "Int8":
    case "Timestamp":
      return decodeBigInt(value as string);
    case "Boolean":
      return value === 1;
    default:
      return value;
  }
}

export function rowToRecord(entity: EntityModel, row: Record<string, unknown>): EntityRecord {
  const record: EntityRecord = {};
  for (const f of entity.stored) record[f.name] = fromColumn(f, row[f.name]);
  return record;
}

/** The columns of an entity's tables, in order: its stored fields, then the block range. */
export function storedColumns(entity: EntityModel): string[] {
  return entity.stored.map((f) => f.name);
}

/** The relation columns some @derivedFrom list reads, per entity. */
function derivedColumns(schema: SchemaModel): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const e of schema.entities.values()) {
    for (const f of e.fields) {
      if (f.derivedFrom && f.relation) {
        const set = out.get(f.relation) ?? new Set<string>();
        set.add(f.derivedFrom);
        out.set(f.relation, set);
      }
    }
  }
  return out;
}

/** The DDL of every entity's current and history tables and the indexes relations and time travel use. */
export function schemaDdl(schema: SchemaModel): string[] {
  const ddl: string[] = [];
  const derived = derivedColumns(schema);
  for (const e of schema.entities.values()) {
    const cols = e.stored.map((f) => `${quote(f.name)} ${columnType(f)}${f.name === "id" ? " PRIMARY KEY" : ""}`);
    ddl.push(`CREATE TABLE IF NOT EXISTS ${quote(e.name)} (${cols.join(", ")}, ${quote(BLOCK_START)} INTEGER NOT NULL) WITHOUT ROWID`);
    ddl.push(indexDdl(e.name, [BLOCK_START]));
    for (const f of e.stored) {
      if (f.relation && !f.list) ddl.push(indexDdl(e.name, [f.name]));
    }
    if (e.immutable) continue; // never superseded: no history
    const history = historyTable(e.name);
    const hcols = e.stored.map((f) => `${quote(f.name)} ${columnType(f)}`);
    ddl.push(
      `CREATE TABLE IF NOT EXISTS ${quote(history)} (${hcols.join(", ")}, ${quote(BLOCK_START)} INTEGER NOT NULL, ${quote(BLOCK_END)} INTEGER NOT NULL, PRIMARY KEY ("id", ${quote(BLOCK_END)})) WITHOUT ROWID`,
    );
    ddl.push(indexDdl(history, [BLOCK_END]));
    for (const column of derived.get(e.name) ?? []) ddl.push(indexDdl(history, [column, BLOCK_END]));
  }
  return ddl;
}

export function indexDdl(table: string, columns: string[]): string {
  const name = `${table}_${columns.join("_")}_idx`;
  return `CREATE INDEX IF NOT EXISTS ${quote(name)} ON ${quote(table)} (${columns.map(quote).join(", ")})`;
}

/**
 * Indexes for the explorer's page and the matchmaker's common queries (filters and orders the
 * relation indexes do not cover). Each is (table, columns); unknown columns are skipped.
 *
 * Every one is created as (columns, `id`, `__block_start`): `id` is the tie-break of every ORDER BY,
 * so the index yields rows in the query's exact order, and `__block_start` lets a query at a past
 * block test which versions existed from the index alone (SQLite looks up a WITHOUT ROWID table's
 * row before it tests the WHERE terms, so a version the index cannot rule out costs a row lookup).
 * The ones that lead with a column a `@derivedFrom` list reads (a provider's agreements) are
 * mirrored on the history table too, so that a derived list at a past block is read in order from
 * both tables (see `QueryCompiler.list`) instead of sorted.
 */
export const QUERY_INDEXES: [string, string[]][] = [
  ["Provider", ["reputation"]],
  ["Provider", ["tier", "region"]],
  ["Provider", ["stake"]],
  ["Offer", ["provider", "withdrawn"]],
  ["Offer", ["pricePerMFuel"]],
  ["DeploymentRequest", ["status", "createdAt"]],
  ["DeploymentRequest", ["createdAt"]],
  ["DeploymentRequest", ["consumer"]],
  ["Bid", ["request", "seq"]],
  ["Bid", ["provider", "createdAt"]],
  ["Agreement", ["status", "awardedAt"]],
  ["Agreement", ["awardedAt"]],
  ["Agreement", ["provider", "awardedAt"]],
  ["Agreement", ["consumer", "awardedAt"]],
  ["UsageReport", ["provider", "reportedAt"]],
  ["Settlement", ["settledAt"]],
  ["MarketStats", ["day"]],
  ["MarketStats", ["tier", "day"]],
];

/** An index's columns as created: the query columns, then `id` and `__block_start` (see QUERY_INDEXES). */
function orderedColumns(cols: string[]): string[] {
  return [...cols, ...(cols.includes("id") ? [] : ["id"]), BLOCK_START];
}

export function queryIndexDdl(schema: SchemaModel): string[] {
  const derived = derivedColumns(schema);
  const ddl: string[] = [];
  for (const [t, cols] of QUERY_INDEXES) {
    const e = schema.entities.get(t);
    if (!e || !cols.every((c) => e.byName.has(c) && !e.byName.get(c)!.derivedFrom)) continue;
    // Databases built before the index had its id and __block_start columns (a single relation
    // column's name is the relation index's, which stays).
    if (!(cols.length === 1 && e.byName.get(cols[0]!)!.relation)) ddl.push(`DROP INDEX IF EXISTS ${quote(`${t}_${cols.join("_")}_idx`)}`);
    ddl.push(indexDdl(t, orderedColumns(cols)));
    if (!e.immutable && derived.get(t)?.has(cols[0]!)) ddl.push(indexDdl(historyTable(t), orderedColumns(cols)));
  }
  return ddl;
}

/**
 * The versions of `entity` valid at `block` as a FROM source with the entity's columns (plus
 * `__block_start`), or the current table alone at the latest block.
 */
export function versionsAt(entity: EntityModel, block: number | undefined): { sql: string; params: number[] } {
  if (block === undefined) return { sql: quote(entity.name), params: [] };
  const cols = [...entity.stored.map((f) => quote(f.name)), quote(BLOCK_START)].join(", ");
  if (entity.immutable) {
    return { sql: `(SELECT ${cols} FROM ${quote(entity.name)} WHERE ${quote(BLOCK_START)} <= ?)`, params: [block] };
  }
  return {
    sql: `(SELECT ${cols} FROM ${quote(entity.name)} WHERE ${quote(BLOCK_START)} <= ? UNION ALL SELECT ${cols} FROM ${quote(
      historyTable(entity.name),
    )} WHERE ${quote(BLOCK_END)} > ? AND ${quote(BLOCK_START)} <= ?)`,
    params: [block, block, block],
  };
}
