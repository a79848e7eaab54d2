/**
 * An entity as the store keeps it between the mappings and SQLite: its field values in a plain
 * array by the position of the field among the entity's stored fields (`undefined`: null or
 * absent). Values have one form per field kind, close to both sides: ID/String as strings, Bytes
 * as lowercase `0x` hex, Int as numbers, Boolean as booleans, BigInt/Int8/Timestamp as bigints,
 * BigDecimal as a normalised `BigDecimal`, lists as arrays of those (null elements as null). The
 * mappings' values are converted into it once per `store.set`, and it is written to SQLite only
 * when a batch is flushed; no per-field objects are kept.
 */
import type { EntityModel, FieldModel, SchemaModel } from "../common/entity-model.js";
import { encodeBigInt, fromColumn, type EntityRecord } from "../common/sql-layout.js";
import { ValueKind } from "./mapping/asc-values.js";
import { BigDecimal } from "./mapping/big-numbers.js";

export type Fields = unknown[];

export interface FieldLayout {
  readonly name: string;
  readonly index: number;
  readonly field: FieldModel;
  /** The graph-ts ValueKind of the field's values (a list: of its elements; a relation: its target's id kind). */
  readonly kind: number;
  readonly list: boolean;
  /** The value as its SQLite column. */
  readonly column: (v: unknown) => string | number | null;
}

function valueKindOf(schema: SchemaModel, f: FieldModel): number {
  const kind = f.relation ? schema.entities.get(f.relation)!.byName.get("id")!.kind : f.kind;
  switch (kind) {
    case "ID":
    case "String":
      return ValueKind.STRING;
    case "Bytes":
      return ValueKind.BYTES;
    case "Int":
      return ValueKind.INT;
    case "Int8":
      return ValueKind.INT8;
    case "BigInt":
      return ValueKind.BIGINT;
    case "BigDecimal":
      return ValueKind.BIGDECIMAL;
    case "Boolean":
      return ValueKind.BOOL;
    case "Timestamp":
      return ValueKind.TIMESTAMP;
  }
}

const isBigIntKind = (kind: number) => kind === ValueKind.BIGINT || kind === ValueKind.INT8 || kind === ValueKind.TIMESTAMP;

/** A scalar as its SQLite column, the form `fromColumn` (services/common/sql-layout.ts) reads back; chosen once per field. */
function scalarColumn(f: FieldModel, kind: number): (v: unknown) => string | number | null {
  if (isBigIntKind(kind) && !f.relation) return (v) => (v === undefined ? null : encodeBigInt(v as bigint));
  switch (f.kind) {
    case "Int":
      return (v) => (v === undefined ? null : (v as number));
    case "Boolean":
      return (v) => (v === undefined ? null : v ? 1 : 0);
    default:
      return (v) => (v === undefined ? null : String(v));
  }
}

/** A list as its SQLite column: JSON, bigints as decimal strings, BigDecimals as their text. */
function listColumn(kind: number): (v: unknown) => string | null {
  return (v) => {
    if (v === undefined) return null;
    return JSON.stringify((v as unknown[]).map((e) => (e === null ? null : isBigIntKind(kind) || kind === ValueKind.BIGDECIMAL ? String(e) : e)));
  };
}

/** A record's or a column's scalar (fromColumn's form) in the store's form. */
function scalarFromRecord(kind: number, v: unknown): unknown {
  if (v === null || v === undefined) return undefined;
  switch (kind) {
    case ValueKind.BIGDECIMAL:
      return v instanceof BigDecimal ? v.normalized() : BigDecimal.parse(String(v));
    case ValueKind.BYTES:
      return String(v).toLowerCase();
    case ValueKind.BIGINT:
    case ValueKind.INT8:
    case ValueKind.TIMESTAMP:
      return typeof v === "bigint" ? v : BigInt(v as string);
    default:
      return v;
  }
}

export class EntityLayout {
  readonly fields: FieldLayout[];
  readonly byName = new Map<string, FieldLayout>();
  /** Field positions in key order: graph-node hands entities to the mappings sorted by field name. */
  readonly sorted: number[];
  readonly idField: FieldLayout;

  constructor(
    readonly model: EntityModel,
    schema: SchemaModel,
  ) {
    this.fields = model.stored.map((field, index) => {
      const kind = valueKindOf(schema, field);
      return { name: field.name, index, field, kind, list: field.list, column: field.list ? listColumn(kind) : scalarColumn(field, kind) };
    });
    for (const f of this.fields) this.byName.set(f.name, f);
    this.sorted = this.fields.map((f) => f.index).sort((a, b) => (this.fields[a]!.name < this.fields[b]!.name ? -1 : 1));
    this.idField = this.byName.get("id")!;
  }

  get name(): string {
    return this.model.name;
  }

  /** The SQLite row values of the stored fields, in order, followed by `extra` (the block range). */
  columns(fields: Fields, ...extra: number[]): (string | number | null)[] {
    const n = this.fields.length;
    const out: (string | number | null)[] = new Array(n + extra.length);
    for (let i = 0; i < n; i++) out[i] = this.fields[i]!.column(fields[i]);
    for (let i = 0; i < extra.length; i++) out[n + i] = extra[i]!;
    return out;
  }

  /** A row of the entity's table in the store's form. */
  fromRow(row: Record<string, unknown>): Fields {
    return this.fields.map((f) => {
      const v = fromColumn(f.field, row[f.name]);
      if (v === null) return undefined;
      return f.list ? (v as unknown[]).map((e) => (e === null ? null : scalarFromRecord(f.kind, e))) : scalarFromRecord(f.kind, v);
    });
  }

  /** A record (services/common/sql-layout.ts's EntityRecord: absent fields null, BigDecimals as text). */
  toRecord(fields: Fields): EntityRecord {
    const record: EntityRecord = {};
    for (const f of this.fields) {
      const v = fields[f.index];
      if (v === undefined) record[f.name] = null;
      else if (f.kind === ValueKind.BIGDECIMAL) record[f.name] = f.list ? (v as unknown[]).map((e) => (e === null ? null : String(e))) : String(v);
      else record[f.name] = f.list ? [...(v as unknown[])] : v;
    }
    return record;
  }

  /** A record in the store's form. */
  fromRecord(record: EntityRecord): Fields {
    return this.fields.map((f) => {
      const v = record[f.name];
      if (v === null || v === undefined) return undefined;
      return f.list ? (v as unknown[]).map((e) => (e === null || e === undefined ? null : scalarFromRecord(f.kind, e))) : scalarFromRecord(f.kind, v);
    });
  }
}

/** The layouts of every entity of the schema. */
export function entityLayouts(schema: SchemaModel): Map<string, EntityLayout> {
  return new Map([...schema.entities.values()].map((e) => [e.name, new EntityLayout(e, schema)]));
}
