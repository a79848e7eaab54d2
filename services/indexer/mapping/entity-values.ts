/**
 * Entities between the module's memory and the store's form (entity-layout.ts), without
 * intermediate objects: `store.set` reads the mapping's `Entity` (a TypedMap of graph-ts `Value`s),
 * checks it against subgraph/schema.graphql with graph-node's validation messages and merges it
 * into the entity's current fields; `store.get` writes the fields back as an `Entity` whose entries
 * are sorted by field name, as graph-node's `sorted_ref()` hands them over.
 */
import type { EntityLayout, FieldLayout, Fields } from "../entity-layout.js";
import { DeterministicError, TypeId, type AscHeap } from "./asc-heap.js";
import { readBigDecimal, readStoreValue, ValueKind, VALUE_KIND_NAMES, writeBigDecimal, writeBigInt, type StoreValue } from "./asc-values.js";
import type { BigDecimal } from "./big-numbers.js";

const hex = (b: Uint8Array) => "0x" + Buffer.from(b.buffer, b.byteOffset, b.length).toString("hex");

function typeName(f: FieldLayout): string {
  const base = f.field.relation ?? f.field.kind;
  const inner = f.list ? `[${base}${f.field.nullableElements ? "" : "!"}]` : base;
  return f.field.nullable ? inner : `${inner}!`;
}

/** A value as graph-node prints it in a type mismatch. */
function display(kind: number, v: unknown): string {
  switch (kind) {
    case ValueKind.ARRAY:
      return `[${(v as StoreValue[]).map((e) => display(e.kind, e.kind === ValueKind.BYTES ? hex(e.value) : e.value)).join(", ")}]`;
    case ValueKind.BIGDECIMAL:
      return (v as BigDecimal).toString();
    default:
      return String(v);
  }
}

/** "Entity X[id]" */
const label = (entity: string, id: string) => `Entity ${entity}[${id}]`;

function mismatch(entity: string, id: string, f: FieldLayout, kind: number, value: unknown): DeterministicError {
  return new DeterministicError(
    `${label(entity, id)}: the value \`${display(kind, value)}\` for field \`${f.name}\` must have type ${typeName(f)} but has type ${VALUE_KIND_NAMES[kind]}`,
  );
}

/** A list element (a StoreValue) in the store's form. */
function elementOf(e: StoreValue): unknown {
  switch (e.kind) {
    case ValueKind.BYTES:
      return hex(e.value);
    case ValueKind.BIGDECIMAL:
      return e.value.normalized();
    default:
      return e.value;
  }
}

// The entries of the Entity being read: read completely before any is checked (reading may fail
// on a malformed value; checking fails on the first bad field). Reused: reads do not nest.
const names: string[] = [];
const kinds: number[] = [];
const raws: unknown[] = [];

export class EntityValues {
  constructor(private readonly layouts: ReadonlyMap<string, EntityLayout>) {}

  defines(entity: string): boolean {
    return this.layouts.has(entity);
  }

  layout(entity: string): EntityLayout {
    const e = this.layouts.get(entity);
    if (!e) throw new DeterministicError(`Entity type ${entity} is not defined in the subgraph's schema`);
    return e;
  }

  /**
   * The Entity at `ptr` merged into `existing` (graph-node's store.set: absent fields keep their
   * value, nulls clear it), checked against the schema.
   */
  read(heap: AscHeap, ptr: number, entity: string, id: string, existing: Fields | undefined): Fields {
    const count = readEntries(heap, ptr, this.layouts.get(entity), existing);
    const layout = this.layout(entity);
    const out: Fields = existing ? existing.slice() : new Array<unknown>(layout.fields.length);
    for (let i = 0; i < count; i++) {
      const name = names[i]!;
      const f = layout.byName.get(name);
      if (!f) {
        if (layout.model.byName.get(name)?.derivedFrom) {
          throw new DeterministicError(`${label(entity, id)}: field \`${name}\` is derived (@derivedFrom) and can not be set`);
        }
        throw new DeterministicError(`${label(entity, id)}: Unknown key \`${name}\`. It probably is not defined in the schema`);
      }
      const kind = kinds[i]!;
      const raw = raws[i];
      if (kind === ValueKind.NULL) {
        out[f.index] = undefined;
        continue;
      }
      if (f.list) {
        if (kind !== ValueKind.ARRAY) throw mismatch(entity, id, f, kind, raw);
        const list: unknown[] = [];
        for (const e of raw as StoreValue[]) {
          if (e.kind === ValueKind.NULL && f.field.nullableElements) list.push(null);
          else if (e.kind !== f.kind) throw mismatch(entity, id, f, kind, raw);
          else list.push(elementOf(e));
        }
        out[f.index] = list;
        continue;
      }
      if (kind !== f.kind) throw mismatch(entity, id, f, kind, raw);
      out[f.index] = kind === ValueKind.BIGDECIMAL ? (raw as BigDecimal).normalized() : raw;
    }
    const idIndex = layout.idField.index;
    if (out[idIndex] === undefined) out[idIndex] = id;
    if (out[idIndex] !== id) {
      throw new DeterministicError(`Value of id attribute 'id' conflicts with ID passed to \`store.set()\`: ${String(out[idIndex])} != ${id}`);
    }
    for (const f of layout.fields) {
      if (out[f.index] === undefined && !f.field.nullable) throw new DeterministicError(`${label(entity, id)}: missing value for non-nullable field \`${f.name}\``);
    }
    return out;
  }

  /** The entity as an Entity in the module's memory, its fields sorted by name, null fields left out. */
  write(heap: AscHeap, layout: EntityLayout, fields: Fields): number {
    const entries: number[] = [];
    for (const i of layout.sorted) {
      const v = fields[i];
      if (v === undefined) continue;
      const f = layout.fields[i]!;
      const value = f.list
        ? heap.writeEnum(
            TypeId.StoreValue,
            ValueKind.ARRAY,
            heap.writePointerArray(
              TypeId.ArrayStoreValue,
              (v as unknown[]).map((e) => (e === null ? heap.writeEnum(TypeId.StoreValue, ValueKind.NULL, 0) : writeScalar(heap, f.kind, e))),
            ),
          )
        : writeScalar(heap, f.kind, v);
      entries.push(heap.allocPair(TypeId.TypedMapEntryStringStoreValue, heap.writeString(f.name), value));
    }
    return heap.allocWords(TypeId.TypedMapStringStoreValue, [heap.writePointerArray(TypeId.ArrayTypedMapEntryStringStoreValue, entries)]);
  }
}

/**
 * Reads the entries of the Entity (TypedMap) at `ptr` into names/kinds/raws; returns how many. A
 * string or Bytes value equal to the field's existing one is that value, not a new copy: most of
 * a saved entity is what it loaded.
 */
function readEntries(heap: AscHeap, ptr: number, layout: EntityLayout | undefined, existing: Fields | undefined): number {
  heap.rtSize(ptr);
  const array = heap.u32(ptr);
  heap.rtSize(array);
  const dataStart = heap.u32(array + 4);
  const count = heap.i32(array + 12);
  for (let i = 0; i < count; i++) {
    const entry = heap.u32(dataStart + i * 4);
    const name = heap.readString(heap.u32(entry));
    names[i] = name;
    const value = heap.u32(entry + 4);
    heap.rtSize(value);
    const kind = heap.u32(value);
    kinds[i] = kind;
    const f = existing && layout?.byName.get(name);
    raws[i] = readScalar(heap, kind, value, f ? existing[f.index] : undefined);
  }
  return count;
}

/** A store Value's payload in the store's form (an array: its StoreValues, checked per element later). */
function readScalar(heap: AscHeap, kind: number, ptr: number, existing: unknown): unknown {
  const low = heap.u32(ptr + 8);
  switch (kind) {
    case ValueKind.STRING:
      return typeof existing === "string" && low !== 0 && heap.stringEquals(low, existing) ? existing : heap.readString(low);
    case ValueKind.INT:
      return low | 0;
    case ValueKind.BIGDECIMAL:
      return readBigDecimal(heap, low);
    case ValueKind.BOOL:
      return low !== 0;
    case ValueKind.ARRAY:
      return heap.readPointerArray(low).map((p) => readStoreValue(heap, p));
    case ValueKind.NULL:
      return null;
    case ValueKind.BYTES:
      return typeof existing === "string" && heap.hexEquals(low, existing) ? existing : heap.readHex(low);
    case ValueKind.BIGINT:
      return heap.readSignedLe(low, typeof existing === "bigint" ? existing : undefined);
    case ValueKind.INT8:
    case ValueKind.TIMESTAMP:
      return heap.i64(ptr + 8);
    default:
      throw new DeterministicError(`invalid store value kind ${kind}`);
  }
}

function writeScalar(heap: AscHeap, kind: number, v: unknown): number {
  switch (kind) {
    case ValueKind.STRING:
      return heap.writeEnum(TypeId.StoreValue, kind, heap.writeString(v as string));
    case ValueKind.INT:
      return heap.writeEnum(TypeId.StoreValue, kind, (v as number) >>> 0);
    case ValueKind.BIGDECIMAL:
      return heap.writeEnum(TypeId.StoreValue, kind, writeBigDecimal(heap, v as BigDecimal));
    case ValueKind.BOOL:
      return heap.writeEnum(TypeId.StoreValue, kind, v ? 1 : 0);
    case ValueKind.BYTES:
      return heap.writeEnum(TypeId.StoreValue, kind, heap.writeHex(v as string));
    case ValueKind.BIGINT:
      return heap.writeEnum(TypeId.StoreValue, kind, writeBigInt(heap, v as bigint));
    default:
      return heap.writeEnum(TypeId.StoreValue, kind, v as bigint);
  }
}
