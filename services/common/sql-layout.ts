import type { EntityModel, FieldModel, SchemaModel } from "./entity-model.js";

/**
 * How entities live in SQLite: one table per entity named after it, one column per stored field.
 * BigInts are stored as text that sorts like the number (a two-digit length, then the digits), so
 * `ORDER BY` and range filters are numeric without a custom collation.
 */

/** An entity in memory: BigInt as bigint, Int as number, Boolean as boolean, the rest as strings. */
export type EntityRecord = Record<string, unknown>;

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

function columnType(f: FieldModel): string {
  switch (f.kind) {
    case "Int":
    case "Boolean":
      return "INTEGER";
    default:
      return "TEXT";
  }
}

/** A JS value to its column value. */
export function toColumn(f: FieldModel, value: unknown): string | number | null {
  if (value === null || value === undefined) return null;
  switch (f.kind) {
    case "BigInt":
      return encodeBigInt(typeof value === "bigint" ? value : BigInt(value as string));
    case "Int":
      return Number(value);
    case "Boolean":
      return value ? 1 : 0;
    case "Bytes":
      return String(value).toLowerCase();
    default:
      return String(value);
  }
}

/** A column value back to its JS value. */
export function fromColumn(f: FieldModel, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (f.kind) {
    case "BigInt":
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

/** The DDL of every entity table plus the indexes that relations and common queries use. */
export function schemaDdl(schema: SchemaModel): string[] {
  const ddl: string[] = [];
  for (const e of schema.entities.values()) {
    const cols = e.stored.map((f) => `${quote(f.name)} ${columnType(f)}${f.name === "id" ? " PRIMARY KEY" : ""}`);
    ddl.push(`CREATE TABLE IF NOT EXISTS ${quote(e.name)} (${cols.join(", ")}) WITHOUT ROWID`);
    for (const f of e.stored) {
      if (f.relation) ddl.push(indexDdl(e.name, [f.name]));
    }
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

export function queryIndexDdl(schema: SchemaModel): string[] {
  return QUERY_INDEXES.filter(([t, cols]) => {
    const e = schema.entities.get(t);
    return e && cols.every((c) => e.byName.has(c) && !e.byName.get(c)!.derivedFrom);
  }).map(([t, cols]) => indexDdl(t, cols));
}
