/**
 * The value classes of graph-ts in the module's memory: store `Value`, `ethereum.Value`,
 * `JSONValue` (all `{ kind: u32, payload: u64 }`), `BigDecimal` (`{ digits, exp }`), `TypedMap`
 * (`{ entries: Array<TypedMapEntry> }`) and `Entity`.
 */
import type { AscHeap} from "./asc-heap.js";
import { DeterministicError, TypeId } from "./asc-heap.js";
import { BigDecimal } from "./big-numbers.js";

/** graph-ts `ValueKind` (store values). */
export const ValueKind = {
  STRING: 0,
  INT: 1,
  BIGDECIMAL: 2,
  BOOL: 3,
  ARRAY: 4,
  NULL: 5,
  BYTES: 6,
  BIGINT: 7,
  INT8: 8,
  TIMESTAMP: 9,
} as const;

export const VALUE_KIND_NAMES = ["String", "Int", "BigDecimal", "Boolean", "Array", "Null", "Bytes", "BigInt", "Int8", "Timestamp"];

/** A store value with its kind. */
export type StoreValue =
  | { kind: 0; value: string }
  | { kind: 1; value: number }
  | { kind: 2; value: BigDecimal }
  | { kind: 3; value: boolean }
  | { kind: 4; value: StoreValue[] }
  | { kind: 5; value: null }
  | { kind: 6; value: Uint8Array }
  | { kind: 7 | 8 | 9; value: bigint };

export function readBigInt(heap: AscHeap, ptr: number): bigint {
  return heap.readSignedLe(ptr);
}

export function writeBigInt(heap: AscHeap, v: bigint): number {
  if (v >= -0x1fffffffffffffn && v <= 0x1fffffffffffffn) return writeSafeInteger(heap, Number(v));
  // ~v (= -v - 1) of a negative has the bytes of v inverted: one hex conversion, no per-byte BigInt arithmetic.
  const negative = v < 0n;
  const digits = (negative ? -v - 1n : v).toString(16);
  let length = (digits.length + 1) >> 1;
  if (digits.length % 2 === 0 && hexDigit(digits.charCodeAt(0)) >= 8) length++; // room for the sign bit
  const { ptr, data } = heap.newBytes(length);
  const bytes = heap.memoryBytes();
  const flip = negative ? 0xff : 0;
  for (let i = 0, at = digits.length; i < length; i++, at -= 2) {
    const byte = at >= 2 ? (hexDigit(digits.charCodeAt(at - 2)) << 4) | hexDigit(digits.charCodeAt(at - 1)) : at === 1 ? hexDigit(digits.charCodeAt(0)) : 0;
    bytes[data + i] = byte ^ flip;
  }
  return ptr;
}

/** A graph-ts BigInt of a safe integer: its two's-complement bytes written straight into memory. */
export function writeSafeInteger(heap: AscHeap, x: number): number {
  if ((x | 0) === x) {
    // An int32: at most four bytes, by shifts.
    const length = x >= -0x80 && x < 0x80 ? 1 : x >= -0x8000 && x < 0x8000 ? 2 : x >= -0x800000 && x < 0x800000 ? 3 : 4;
    const { ptr, data } = heap.newBytes(length);
    const bytes = heap.memoryBytes();
    for (let i = 0; i < length; i++) bytes[data + i] = (x >> (8 * i)) & 0xff;
    return ptr;
  }
  if (!Number.isSafeInteger(x)) return writeBigInt(heap, BigInt(x));
  let length = 1;
  for (let y = x; !(y >= -128 && y <= 127); y = Math.floor(y / 256)) length++;
  const { ptr, data } = heap.newBytes(length);
  const bytes = heap.memoryBytes();
  let y = x;
  for (let i = 0; i < length; i++) {
    bytes[data + i] = ((y % 256) + 256) % 256;
    y = Math.floor(y / 256);
  }
  return ptr;
}

function hexDigit(c: number): number {
  return c <= 0x39 ? c - 0x30 : c - 0x57;
}

export function readBigDecimal(heap: AscHeap, ptr: number): BigDecimal {
  heap.rtSize(ptr);
  const digits = readBigInt(heap, heap.u32(ptr));
  const exp = readBigInt(heap, heap.u32(ptr + 4));
  if (exp > 100_000n || exp < -100_000n) throw new DeterministicError(`BigDecimal exponent ${exp} is out of range`);
  return new BigDecimal(digits, Number(exp));
}

export function writeBigDecimal(heap: AscHeap, v: BigDecimal): number {
  const digits = writeBigInt(heap, v.digits);
  const exp = writeBigInt(heap, BigInt(v.exp));
  return heap.allocWords(TypeId.BigDecimal, [digits, exp]);
}

export function readStoreValue(heap: AscHeap, ptr: number): StoreValue {
  heap.rtSize(ptr);
  const kind = heap.u32(ptr);
  const low = heap.u32(ptr + 8);
  switch (kind) {
    case ValueKind.STRING:
      return { kind, value: heap.readString(low) };
    case ValueKind.INT:
      return { kind, value: low | 0 };
    case ValueKind.BIGDECIMAL:
      return { kind, value: readBigDecimal(heap, low) };
    case ValueKind.BOOL:
      return { kind, value: low !== 0 };
    case ValueKind.ARRAY:
      return { kind, value: heap.readPointerArray(low).map((p) => readStoreValue(heap, p)) };
    case ValueKind.NULL:
      return { kind, value: null };
    case ValueKind.BYTES:
      return { kind, value: heap.readBytes(low) };
    case ValueKind.BIGINT:
      return { kind, value: readBigInt(heap, low) };
    case ValueKind.INT8:
    case ValueKind.TIMESTAMP:
      return { kind, value: heap.i64(ptr + 8) };
    default:
      throw new DeterministicError(`invalid store value kind ${kind}`);
  }
}

export function writeStoreValue(heap: AscHeap, v: StoreValue): number {
  let payload: bigint | number;
  switch (v.kind) {
    case ValueKind.STRING:
      payload = heap.writeString(v.value);
      break;
    case ValueKind.INT:
      payload = v.value >>> 0;
      break;
    case ValueKind.BIGDECIMAL:
      payload = writeBigDecimal(heap, v.value);
      break;
    case ValueKind.BOOL:
      payload = v.value ? 1 : 0;
      break;
    case ValueKind.ARRAY:
      payload = heap.writePointerArray(TypeId.ArrayStoreValue, v.value.map((e) => writeStoreValue(heap, e)));
      break;
    case ValueKind.NULL:
      payload = 0;
      break;
    case ValueKind.BYTES:
      payload = heap.writeBytes(v.value);
      break;
    case ValueKind.BIGINT:
      payload = writeBigInt(heap, v.value);
      break;
    default:
      payload = v.value;
  }
  return heap.writeEnum(TypeId.StoreValue, v.kind, payload);
}

/** A TypedMap<string, V>'s entries, in order. */
export function readTypedMap<V>(heap: AscHeap, ptr: number, value: (ptr: number) => V): [string, V][] {
  heap.rtSize(ptr);
  return heap.readPointerArray(heap.u32(ptr)).map((entry) => [heap.readString(heap.u32(entry)), value(heap.u32(entry + 4))]);
}

export function writeTypedMap(
  heap: AscHeap,
  kinds: { entry: number; array: number; map: number },
  entries: [string, number][],
): number {
  const ptrs = entries.map(([key, value]) => heap.allocWords(kinds.entry, [heap.writeString(key), value]));
  return heap.allocWords(kinds.map, [heap.writePointerArray(kinds.array, ptrs)]);
}

const ENTITY_KINDS = {
  entry: TypeId.TypedMapEntryStringStoreValue,
  array: TypeId.ArrayTypedMapEntryStringStoreValue,
  map: TypeId.TypedMapStringStoreValue,
};

export function readEntity(heap: AscHeap, ptr: number): [string, StoreValue][] {
  return readTypedMap(heap, ptr, (p) => readStoreValue(heap, p));
}

export function writeEntity(heap: AscHeap, entries: [string, StoreValue][]): number {
  return writeTypedMap(heap, ENTITY_KINDS, entries.map(([k, v]) => [k, writeStoreValue(heap, v)]));
}

// --- ethereum.Value ----------------------------------------------------------------------------

export const EthKind = {
  ADDRESS: 0,
  FIXED_BYTES: 1,
  BYTES: 2,
  INT: 3,
  UINT: 4,
  BOOL: 5,
  STRING: 6,
  FIXED_ARRAY: 7,
  ARRAY: 8,
  TUPLE: 9,
} as const;

export type EthValue =
  | { kind: 0 | 1 | 2; value: Uint8Array }
  | { kind: 3 | 4; value: bigint }
  | { kind: 5; value: boolean }
  | { kind: 6; value: string }
  | { kind: 7 | 8 | 9; value: EthValue[] };

export function writeEthValue(heap: AscHeap, v: EthValue): number {
  let payload: number;
  switch (v.kind) {
    case EthKind.ADDRESS:
    case EthKind.FIXED_BYTES:
    case EthKind.BYTES:
      payload = heap.writeBytes(v.value);
      break;
    case EthKind.INT:
    case EthKind.UINT:
      payload = writeBigInt(heap, v.value);
      break;
    case EthKind.BOOL:
      payload = v.value ? 1 : 0;
      break;
    case EthKind.STRING:
      payload = heap.writeString(v.value);
      break;
    default:
      payload = heap.writePointerArray(TypeId.ArrayEthereumValue, v.value.map((e) => writeEthValue(heap, e)));
  }
  return heap.writeEnum(TypeId.EthereumValue, v.kind, payload);
}

export function readEthValue(heap: AscHeap, ptr: number): EthValue {
  const { kind, low } = heap.readEnum(ptr);
  switch (kind) {
    case EthKind.ADDRESS:
    case EthKind.FIXED_BYTES:
    case EthKind.BYTES:
      return { kind, value: heap.readBytes(low) };
    case EthKind.INT:
    case EthKind.UINT:
      return { kind, value: readBigInt(heap, low) };
    case EthKind.BOOL:
      return { kind, value: low !== 0 };
    case EthKind.STRING:
      return { kind, value: heap.readString(low) };
    case EthKind.FIXED_ARRAY:
    case EthKind.ARRAY:
    case EthKind.TUPLE:
      return { kind, value: heap.readPointerArray(low).map((p) => readEthValue(heap, p)) };
    default:
      throw new DeterministicError(`invalid ethereum value kind ${kind}`);
  }
}

// --- JSONValue ---------------------------------------------------------------------------------

export const JsonKind = { NULL: 0, BOOL: 1, NUMBER: 2, STRING: 3, ARRAY: 4, OBJECT: 5 } as const;

/** A JSON number, with its source text (JSONValue numbers are strings). */
export class JsonNumber {
  constructor(readonly text: string) {}
}

export class JsonObject {
  constructor(readonly entries: [string, JsonTree][]) {}
}

export type JsonTree = null | boolean | string | JsonNumber | JsonObject | JsonTree[];

export function parseJson(text: string): JsonTree {
  // The reviver runs bottom-up and sees each primitive's source text.
  return JSON.parse(text, (_key: string, value: unknown, context?: { source?: string }) => {
    if (typeof value === "number") return new JsonNumber(context?.source ?? String(value));
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      return new JsonObject(Object.entries(value as Record<string, JsonTree>));
    }
    return value;
  }) as JsonTree;
}

export function writeJsonValue(heap: AscHeap, v: JsonTree): number {
  if (v === null) return heap.writeEnum(TypeId.JsonValue, JsonKind.NULL, 0);
  if (typeof v === "boolean") return heap.writeEnum(TypeId.JsonValue, JsonKind.BOOL, v ? 1 : 0);
  if (typeof v === "string") return heap.writeEnum(TypeId.JsonValue, JsonKind.STRING, heap.writeString(v));
  if (Array.isArray(v)) {
    return heap.writeEnum(TypeId.JsonValue, JsonKind.ARRAY, heap.writePointerArray(TypeId.ArrayJsonValue, v.map((e) => writeJsonValue(heap, e))));
  }
  if (v instanceof JsonNumber) return heap.writeEnum(TypeId.JsonValue, JsonKind.NUMBER, heap.writeString(v.text));
  const map = writeTypedMap(
    heap,
    { entry: TypeId.TypedMapEntryStringJsonValue, array: TypeId.ArrayTypedMapEntryStringJsonValue, map: TypeId.TypedMapStringJsonValue },
    v.entries.map(([k, e]) => [k, writeJsonValue(heap, e)]),
  );
  return heap.writeEnum(TypeId.JsonValue, JsonKind.OBJECT, map);
}

// --- YAMLValue ---------------------------------------------------------------------------------

export const YamlKind = { NULL: 0, BOOL: 1, NUMBER: 2, STRING: 3, ARRAY: 4, OBJECT: 5, TAGGED: 6 } as const;

/** A parsed YAML node (the `yaml` package's document nodes, reduced to what YAMLValue holds). */
export type YamlTree =
  | null
  | boolean
  | { number: string }
  | string
  | YamlTree[]
  | { entries: [YamlTree, YamlTree][] }
  | { tag: string; value: YamlTree };

export function writeYamlValue(heap: AscHeap, v: YamlTree): number {
  const write = (kind: number, payload: number) => heap.writeEnum(TypeId.YamlValue, kind, payload);
  if (v === null) return write(YamlKind.NULL, 0);
  if (typeof v === "boolean") return write(YamlKind.BOOL, v ? 1 : 0);
  if (typeof v === "string") return write(YamlKind.STRING, heap.writeString(v));
  if (Array.isArray(v)) return write(YamlKind.ARRAY, heap.writePointerArray(TypeId.YamlArrayValue, v.map((e) => writeYamlValue(heap, e))));
  if ("number" in v) return write(YamlKind.NUMBER, heap.writeString(v.number));
  if ("tag" in v) return write(YamlKind.TAGGED, heap.allocWords(TypeId.YamlTaggedValue, [heap.writeString(v.tag), writeYamlValue(heap, v.value)]));
  const entries = v.entries.map(([k, e]) => heap.allocWords(TypeId.YamlTypedMapEntryValueValue, [writeYamlValue(heap, k), writeYamlValue(heap, e)]));
  return write(YamlKind.OBJECT, heap.allocWords(TypeId.YamlTypedMapValueValue, [heap.writePointerArray(TypeId.YamlArrayTypedMapEntryValueValue, entries)]));
}
