/**
 * Entities between the mappings and the store: graph-ts `Value`s checked against
 * subgraph/schema.graphql (with graph-node's validation messages) and turned into the store's
 * records, and back.
 */
import type { EntityModel, FieldModel, SchemaModel } from "../../common/entity-model.js";
import type { EntityRecord } from "../../common/sql-layout.js";
import { DeterministicError } from "./asc-heap.js";
import { ValueKind, VALUE_KIND_NAMES, type StoreValue } from "./asc-values.js";
import { BigDecimal } from "./big-numbers.js";

const hex = (b: Uint8Array) => "0x" + Buffer.from(b.buffer, b.byteOffset, b.length).toString("hex");

/** The store value kind a field's values have (a relation: its target's id kind). */
function scalarKindOf(schema: SchemaModel, f: FieldModel): number {
  let kind = f.kind;
  if (f.relation) kind = schema.entities.get(f.relation)!.byName.get("id")!.kind;
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

function typeName(f: FieldModel): string {
  const base = f.relation ?? f.kind;
  const inner = f.list ? `[${base}${f.nullableElements ? "" : "!"}]` : base;
  return f.nullable ? inner : `${inner}!`;
}

function display(v: StoreValue): string {
  switch (v.kind) {
    case ValueKind.BYTES:
      return hex(v.value);
    case ValueKind.ARRAY:
      return `[${v.value.map(display).join(", ")}]`;
    case ValueKind.BIGDECIMAL:
      return v.value.toString();
    default:
      return String(v.value);
  }
}

function scalarOf(v: StoreValue): unknown {
  switch (v.kind) {
    case ValueKind.BYTES:
      return hex(v.value);
    case ValueKind.BIGDECIMAL:
      return v.value.normalized().toString();
    default:
      return v.value;
  }
}

/** "Entity X[id]", built only when an error needs it. */
class Label {
  constructor(
    readonly entity: string,
    readonly id: string,
  ) {}

  toString(): string {
    return `Entity ${this.entity}[${this.id}]`;
  }
}

function mismatch(what: Label, name: string, f: FieldModel, value: StoreValue): DeterministicError {
  return new DeterministicError(
    `${what}: the value \`${display(value)}\` for field \`${name}\` must have type ${typeName(f)} but has type ${VALUE_KIND_NAMES[value.kind]}`,
  );
}

interface FieldKind {
  field: FieldModel;
  kind: number;
}

/** A function copying a record of one entity type into an object literal of fixed shape (fast properties). */
function copier(e: EntityModel): (r: EntityRecord | undefined) => EntityRecord {
  const body = e.stored.map((f) => `${JSON.stringify(f.name)}: r === undefined ? undefined : r[${JSON.stringify(f.name)}]`).join(", ");
  return new Function("r", `return { ${body} };`) as (r: EntityRecord | undefined) => EntityRecord;
}

export class EntityValues {
  private readonly kinds = new Map<string, Map<string, FieldKind>>();
  private readonly copiers = new Map<string, (r: EntityRecord | undefined) => EntityRecord>();
  private readonly data = new WeakMap<EntityRecord, [string, StoreValue][]>();

  constructor(readonly schema: SchemaModel) {
    for (const e of schema.entities.values()) {
      this.copiers.set(e.name, copier(e));
      this.kinds.set(e.name, new Map(e.fields.map((f) => [f.name, { field: f, kind: f.derivedFrom ? -1 : scalarKindOf(schema, f) }])));
    }
  }

  model(entity: string): EntityModel {
    const e = this.schema.entities.get(entity);
    if (!e) throw new DeterministicError(`Entity type ${entity} is not defined in the subgraph's schema`);
    return e;
  }

  /** Merges `data` into `existing` (graph-node's store.set: absent fields keep their value, nulls clear it) and checks it. */
  toRecord(entity: string, id: string, data: [string, StoreValue][], existing: EntityRecord | undefined): EntityRecord {
    const model = this.model(entity);
    const kinds = this.kinds.get(entity)!;
    const record: EntityRecord = this.copiers.get(entity)!(existing);
    const what = new Label(entity, id);
    for (const [name, value] of data) {
      const fk = kinds.get(name);
      if (!fk) throw new DeterministicError(`${what}: Unknown key \`${name}\`. It probably is not defined in the schema`);
      const f = fk.field;
      if (f.derivedFrom) throw new DeterministicError(`${what}: field \`${name}\` is derived (@derivedFrom) and can not be set`);
      if (value.kind === ValueKind.NULL) {
        record[name] = null;
        continue;
      }
      const kind = fk.kind;
      if (f.list) {
        if (value.kind !== ValueKind.ARRAY) throw mismatch(what, name, f, value);
        const list: unknown[] = [];
        for (const e of value.value) {
          if (e.kind === ValueKind.NULL && f.nullableElements) list.push(null);
          else if (e.kind !== kind) throw mismatch(what, name, f, value);
          else list.push(scalarOf(e));
        }
        record[name] = list;
        continue;
      }
      if (value.kind !== kind) throw mismatch(what, name, f, value);
      record[name] = scalarOf(value);
    }
    if (record.id === undefined || record.id === null) record.id = id;
    if (record.id !== id) {
      throw new DeterministicError(`Value of id attribute 'id' conflicts with ID passed to \`store.set()\`: ${String(record.id)} != ${id}`);
    }
    for (const f of model.stored) {
      if (record[f.name] === undefined) record[f.name] = null;
      if (record[f.name] === null && !f.nullable) throw new DeterministicError(`${what}: missing value for non-nullable field \`${f.name}\``);
    }
    // The values the mapping will read back on its next load of this entity, without converting again.
    const previous = existing ? this.data.get(existing) : undefined;
    if (previous || !existing) {
      const merged = new Map<string, StoreValue>(previous ?? []);
      for (const [name, value] of data) {
        if (value.kind === ValueKind.NULL) merged.delete(name);
        else merged.set(name, value);
      }
      if (!merged.has("id")) merged.set("id", this.idValue(entity, id));
      this.data.set(record, [...merged]);
    }
    return record;
  }

  private idValue(entity: string, id: string): StoreValue {
    return toValue(this.kinds.get(entity)!.get("id")!.kind, id);
  }

  /** A stored record as graph-ts values (null fields are left out, as graph-node does). */
  toData(entity: string, record: EntityRecord): [string, StoreValue][] {
    const cached = this.data.get(record);
    if (cached) return cached;
    const model = this.model(entity);
    const kinds = this.kinds.get(entity)!;
    const out: [string, StoreValue][] = [];
    for (const f of model.stored) {
      const v = record[f.name];
      if (v === null || v === undefined) continue;
      const kind = kinds.get(f.name)!.kind;
      out.push([f.name, f.list ? { kind: ValueKind.ARRAY, value: (v as unknown[]).map((e) => toValue(kind, e)) } : toValue(kind, v)]);
    }
    this.data.set(record, out);
    return out;
  }
}

function toValue(kind: number, v: unknown): StoreValue {
  if (v === null) return { kind: ValueKind.NULL, value: null };
  switch (kind) {
    case ValueKind.STRING:
      return { kind: ValueKind.STRING, value: String(v) };
    case ValueKind.BYTES:
      return { kind: ValueKind.BYTES, value: Buffer.from(String(v).slice(2), "hex") };
    case ValueKind.INT:
      return { kind: ValueKind.INT, value: Number(v) };
    case ValueKind.BIGDECIMAL:
      return { kind: ValueKind.BIGDECIMAL, value: BigDecimal.parse(String(v)) };
    case ValueKind.BOOL:
      return { kind: ValueKind.BOOL, value: Boolean(v) };
    default:
      return { kind: kind as 7 | 8 | 9, value: BigInt(v as bigint) };
  }
}
