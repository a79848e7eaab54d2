/**
 * AssemblyScript's memory layout as graph-node reads and writes it for apiVersion >= 0.0.5
 * (graph-node runtime/wasm: AscPtr, asc_abi/v0_0_5). Every managed object has a 20-byte header
 * before its payload: mmInfo, gcInfo, gcInfo2, rtId (the class id, from the module's
 * `id_of_type`) and rtSize (the payload's length). The host allocates its objects in arenas it
 * takes from the module's `allocate` export, 16-byte aligned, and never frees them.
 */

/** graph-ts's TypeId (graph-node's IndexForAscTypeId): the classes the host allocates. */
export const TypeId = {
  String: 0,
  ArrayBuffer: 1,
  Uint8Array: 6,
  BigDecimal: 12,
  ArrayBool: 13,
  ArrayUint8Array: 14,
  ArrayEthereumValue: 15,
  ArrayStoreValue: 16,
  ArrayJsonValue: 17,
  ArrayString: 18,
  ArrayEventParam: 19,
  ArrayTypedMapEntryStringJsonValue: 20,
  ArrayTypedMapEntryStringStoreValue: 21,
  SmartContractCall: 22,
  EventParam: 23,
  EthereumTransaction: 24,
  EthereumBlock: 25,
  WrappedBool: 28,
  WrappedJsonValue: 29,
  EthereumValue: 30,
  StoreValue: 31,
  JsonValue: 32,
  EthereumEvent: 33,
  TypedMapEntryStringStoreValue: 34,
  TypedMapEntryStringJsonValue: 35,
  TypedMapStringStoreValue: 36,
  TypedMapStringJsonValue: 37,
  ResultJsonValueBool: 40,
  ArrayBigDecimal: 51,
  YamlValue: 5500,
  YamlTaggedValue: 5501,
  YamlTypedMapEntryValueValue: 5502,
  YamlTypedMapValueValue: 5503,
  YamlArrayValue: 5504,
  YamlArrayTypedMapEntryValueValue: 5505,
  YamlWrappedValue: 5506,
  YamlResultValueBool: 5507,
  TransactionReceipt: 1000,
  Log: 1001,
  ArrayH256: 1002,
  ArrayLog: 1003,
} as const;

const HEADER = 20;
const MIN_ARENA = 10_000;

/** A fault in the mapping's use of memory: deterministic, so the handler fails (graph-node: DeterministicHostError). */
export class DeterministicError extends Error {}

const utf16 = new TextDecoder("utf-16le");

/** Buffer's native slices (Node's own toString("utf16le" | "hex") without its argument handling). */
interface NativeBuffer extends Buffer {
  ucs2Slice(start: number, end: number): string;
  hexSlice(start: number, end: number): string;
}

const HEX_DIGITS = "0123456789abcdef";

/** A hex digit's value (the store's hex is lowercase; uppercase is accepted too). */
function nibble(c: number): number {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57;
}

export interface AscExports {
  memory: WebAssembly.Memory;
  allocate(size: number): number;
  id_of_type(index: number): number;
}

export class AscHeap {
  private arenaStart = 0;
  private arenaFree = 0;
  private bytes!: Uint8Array;
  private view!: DataView;
  /** The memory as a Buffer (native string and hex decoding). */
  private buffer!: NativeBuffer;
  private readonly typeIds = new Map<number, number>();
  /** Class ids of the low type indexes, by index (-1: not asked yet). */
  private readonly lowTypeIds = new Int32Array(64).fill(-1);
  /** Strings of the module's static data (below the first heap allocation): immutable, so decoded once. */
  private readonly statics = new Map<number, string>();
  private staticLimit = 0;

  constructor(private readonly exports: AscExports) {
    this.refresh();
  }

  /** Marks addresses below `limit` as static data (call right after the start function). */
  setStaticLimit(limit: number): void {
    this.staticLimit = limit;
  }

  /** Forgets the arena (the memory was restored to a state before it existed). */
  reset(): void {
    this.arenaStart = 0;
    this.arenaFree = 0;
    this.arenas = 0;
    this.refresh();
  }

  /** Images of objects written right after a reset (a trigger's block, its transaction), by key. */
  private readonly images = new Map<string, { start: number; end: number; free: number; arena: number; ptr: number; bytes: Uint8Array }>();
  private arenas = 0;

  /**
   * Writes what `write` writes, or replays the bytes it wrote last time. After a reset the
   * allocator is in the same state every time, so the same objects written first land at the
   * same addresses: a trigger's block is the same for every event of the block, and is copied
   * back instead of being encoded again. Only an image that fitted in the arena it started in
   * is kept.
   */
  cached(key: string, write: () => number): number {
    if (this.arenaStart === 0) this.raw(0, true);
    const hit = this.images.get(key);
    if (hit && hit.start === this.arenaStart && hit.arena === this.arenas) {
      this.check(hit.start, hit.bytes.length);
      this.bytes.set(hit.bytes, hit.start);
      this.arenaStart = hit.end;
      this.arenaFree = hit.free;
      return hit.ptr;
    }
    const start = this.arenaStart;
    const arena = this.arenas;
    const ptr = write();
    if (this.arenas === arena) {
      if (this.images.size >= 16) this.images.clear();
      this.images.set(key, { start, end: this.arenaStart, free: this.arenaFree, arena, ptr, bytes: this.bytes.slice(start, this.arenaStart) });
    }
    return ptr;
  }

  private refresh(): void {
    const buffer = this.exports.memory.buffer;
    if (this.bytes?.buffer !== buffer) {
      this.bytes = new Uint8Array(buffer);
      this.view = new DataView(buffer);
      this.buffer = Buffer.from(buffer) as NativeBuffer;
    }
  }

  private check(ptr: number, length: number): void {
    if (ptr + length > this.bytes.length) this.refresh();
    if (ptr < 0 || ptr + length > this.bytes.length) {
      throw new DeterministicError(`Heap access out of bounds. Offset: ${ptr} Size: ${length}`);
    }
  }

  private notNull(ptr: number): void {
    if (ptr === 0) {
      throw new DeterministicError(
        "Tried to read AssemblyScript value that is 'null'. Suggestion: look into the function that the error happened and add 'log' calls till you find where a 'null' value is being used as non-nullable.",
      );
    }
  }

  u32(ptr: number): number {
    this.check(ptr, 4);
    return this.view.getUint32(ptr, true);
  }

  i32(ptr: number): number {
    this.check(ptr, 4);
    return this.view.getInt32(ptr, true);
  }

  i64(ptr: number): bigint {
    this.check(ptr, 8);
    return this.view.getBigInt64(ptr, true);
  }

  f64(ptr: number): number {
    this.check(ptr, 8);
    return this.view.getFloat64(ptr, true);
  }

  u8(ptr: number): number {
    this.check(ptr, 1);
    return this.bytes[ptr]!;
  }

  /** The payload length an object's header records. */
  rtSize(ptr: number): number {
    this.notNull(ptr);
    return this.u32(ptr - 4);
  }

  slice(ptr: number, length: number): Uint8Array {
    this.check(ptr, length);
    return this.bytes.slice(ptr, ptr + length);
  }

  private typeId(index: number): number {
    if (index < 64) {
      let low = this.lowTypeIds[index]!;
      if (low === -1) {
        low = this.exports.id_of_type(index) >>> 0;
        this.lowTypeIds[index] = low;
      }
      return low >>> 0;
    }
    let id = this.typeIds.get(index);
    if (id === undefined) {
      id = this.exports.id_of_type(index) >>> 0;
      this.typeIds.set(index, id);
    }
    return id;
  }

  /** Copies `bytes` into the current arena (a new one when it does not fit) and returns their address. */
  private raw(size: number, force = false): number {
    if (size > this.arenaFree || force) {
      this.arenas++;
      const arena = Math.max(size, MIN_ARENA);
      // `allocate` is untyped: it returns the address after mmInfo, 12 bytes short of 16-byte alignment.
      this.arenaStart = (this.exports.allocate(arena) >>> 0) + 12;
      this.arenaFree = arena - 12;
      this.refresh();
    }
    const ptr = this.arenaStart;
    this.arenaStart += size;
    this.arenaFree -= size;
    return ptr;
  }

  /**
   * Allocates an object of class `typeIndex` with a payload of `length` bytes (zero-padded to keep
   * 16-byte alignment) and returns the payload's address; the caller writes the payload.
   */
  private object(typeIndex: number, length: number, rtSize = length): number {
    const padding = (16 - ((HEADER + length) % 16)) % 16;
    const full = length + padding;
    const rtId = this.typeId(typeIndex);
    const start = this.raw(HEADER + full);
    if (start + HEADER + full > this.bytes.length) this.refresh();
    const v = this.view;
    v.setUint32(start, 16 + full, true);
    v.setUint32(start + 4, 0, true);
    v.setUint32(start + 8, 0, true);
    v.setUint32(start + 12, rtId, true);
    v.setUint32(start + 16, rtSize, true);
    if (padding) {
      const bytes = this.bytes;
      for (let at = start + HEADER + length, end = start + HEADER + full; at < end; at++) bytes[at] = 0;
    }
    return start + HEADER;
  }

  /** Allocates an object of class `typeIndex` with `content` as its payload; returns the payload's address. */
  alloc(typeIndex: number, content: Uint8Array, contentLength = content.length): number {
    const ptr = this.object(typeIndex, content.length, contentLength);
    this.bytes.set(content, ptr);
    return ptr;
  }

  /** An object whose payload is two 32-bit words (a TypedMapEntry, a BigDecimal). */
  allocPair(typeIndex: number, a: number, b: number): number {
    const ptr = this.object(typeIndex, 8);
    const v = this.view;
    v.setUint32(ptr, a >>> 0, true);
    v.setUint32(ptr + 4, b >>> 0, true);
    return ptr;
  }

  /** An object whose payload is 32-bit words (pointers and small numbers). */
  allocWords(typeIndex: number, words: readonly number[]): number {
    const ptr = this.object(typeIndex, words.length * 4);
    const v = this.view;
    for (let i = 0; i < words.length; i++) v.setUint32(ptr + i * 4, words[i]! >>> 0, true);
    return ptr;
  }

  // --- strings -------------------------------------------------------------------------------

  readString(ptr: number): string {
    if (ptr !== 0 && ptr < this.staticLimit) {
      let s = this.statics.get(ptr);
      if (s === undefined) {
        s = this.decodeString(ptr);
        this.statics.set(ptr, s);
      }
      return s;
    }
    return this.decodeString(ptr);
  }

  private decodeString(ptr: number): string {
    const length = this.rtSize(ptr);
    this.check(ptr, length);
    if (length > 128) return utf16.decode(this.bytes.subarray(ptr, ptr + length));
    // Short strings (ids, field names) decode faster through Buffer's native UTF-16 than through TextDecoder.
    return this.buffer.ucs2Slice(ptr, ptr + (length & ~1));
  }

  readNullableString(ptr: number): string | null {
    return ptr === 0 ? null : this.readString(ptr);
  }

  writeString(s: string): number {
    const ptr = this.object(TypeId.String, s.length * 2);
    const bytes = this.bytes;
    for (let i = 0, at = ptr; i < s.length; i++, at += 2) {
      const c = s.charCodeAt(i);
      bytes[at] = c & 0xff;
      bytes[at + 1] = c >> 8;
    }
    return ptr;
  }

  // --- byte arrays (Uint8Array, Bytes, Address, BigInt) -----------------------------------------

  /** A TypedArray: { buffer, dataStart, byteLength }. */
  readBytes(ptr: number): Uint8Array {
    this.notNull(ptr);
    const dataStart = this.u32(ptr + 4);
    const byteLength = this.u32(ptr + 8);
    return this.slice(dataStart, byteLength);
  }

  /** A TypedArray's bytes as lowercase `0x` hex, read in place. */
  readHex(ptr: number): string {
    this.notNull(ptr);
    const dataStart = this.u32(ptr + 4);
    const byteLength = this.u32(ptr + 8);
    this.check(dataStart, byteLength);
    return "0x" + this.buffer.hexSlice(dataStart, dataStart + byteLength);
  }

  /** Whether the String at `ptr` is `s` (compared in place, nothing decoded). */
  stringEquals(ptr: number, s: string): boolean {
    const length = this.rtSize(ptr);
    if (length !== s.length * 2) return false;
    this.check(ptr, length);
    const bytes = this.bytes;
    for (let i = 0, at = ptr; i < s.length; i++, at += 2) {
      if ((bytes[at]! | (bytes[at + 1]! << 8)) !== s.charCodeAt(i)) return false;
    }
    return true;
  }

  /** Whether the TypedArray at `ptr` holds the bytes of `hex` (lowercase `0x` hex, compared in place). */
  hexEquals(ptr: number, hex: string): boolean {
    this.notNull(ptr);
    const dataStart = this.u32(ptr + 4);
    const byteLength = this.u32(ptr + 8);
    if (hex.length !== 2 + byteLength * 2) return false;
    this.check(dataStart, byteLength);
    const bytes = this.bytes;
    for (let i = 0, at = 2; i < byteLength; i++, at += 2) {
      const b = bytes[dataStart + i]!;
      if (HEX_DIGITS.charCodeAt(b >> 4) !== hex.charCodeAt(at) || HEX_DIGITS.charCodeAt(b & 15) !== hex.charCodeAt(at + 1)) return false;
    }
    return true;
  }

  /** A TypedArray's bytes as a little-endian two's-complement integer (graph-ts BigInt), read in place. */
  readSignedLe(ptr: number, existing?: bigint): bigint {
    this.notNull(ptr);
    const dataStart = this.u32(ptr + 4);
    const length = this.u32(ptr + 8);
    this.check(dataStart, length);
    const bytes = this.bytes;
    if (length === 0) return 0n;
    if (length <= 6) {
      let x = 0;
      for (let i = length - 1; i >= 0; i--) x = x * 256 + bytes[dataStart + i]!;
      if (bytes[dataStart + length - 1]! & 0x80) x -= 2 ** (8 * length);
      // An equal existing value is returned rather than a new bigint (exact: |x| < 2^47).
      return existing !== undefined && Number(existing) === x ? existing : BigInt(x);
    }
    // Four bytes at a time from the most significant end.
    let v = 0n;
    let i = length;
    const partial = length % 4;
    if (partial) {
      let x = 0;
      for (let j = length - 1; j >= length - partial; j--) x = x * 256 + bytes[dataStart + j]!;
      v = BigInt(x);
      i -= partial;
    }
    for (; i > 0; i -= 4) v = (v << 32n) | BigInt(this.view.getUint32(dataStart + i - 4, true));
    return BigInt.asIntN(length * 8, v);
  }

  /** A Uint8Array holding the bytes of `hex` (`0x` and an even number of hex digits, as the store keeps Bytes). */
  writeHex(hex: string, typeIndex: number = TypeId.Uint8Array): number {
    const length = (hex.length - 2) >> 1;
    const { ptr, data } = this.newBytes(length, typeIndex);
    const bytes = this.bytes;
    for (let i = 0, at = 2; i < length; i++, at += 2) bytes[data + i] = (nibble(hex.charCodeAt(at)) << 4) | nibble(hex.charCodeAt(at + 1));
    return ptr;
  }

  /** A Uint8Array of `length` bytes whose contents the caller writes at the returned `data` address. */
  newBytes(length: number, typeIndex: number = TypeId.Uint8Array): { ptr: number; data: number } {
    const buffer = this.object(TypeId.ArrayBuffer, length);
    const ptr = this.object(typeIndex, 12);
    const v = this.view;
    v.setUint32(ptr, buffer, true);
    v.setUint32(ptr + 4, buffer, true);
    v.setUint32(ptr + 8, length, true);
    return { ptr, data: buffer };
  }

  /** The memory as bytes (valid until the next allocation). */
  memoryBytes(): Uint8Array {
    return this.bytes;
  }

  writeBytes(bytes: Uint8Array, typeIndex: number = TypeId.Uint8Array): number {
    const buffer = this.alloc(TypeId.ArrayBuffer, bytes);
    const ptr = this.object(typeIndex, 12);
    const v = this.view;
    v.setUint32(ptr, buffer, true);
    v.setUint32(ptr + 4, buffer, true);
    v.setUint32(ptr + 8, bytes.length, true);
    return ptr;
  }

  // --- arrays ----------------------------------------------------------------------------------

  /** The 32-bit elements of an Array<T> of pointers (or i32s): { buffer, dataStart, byteLength, length }. */
  readPointerArray(ptr: number): number[] {
    this.notNull(ptr);
    const dataStart = this.u32(ptr + 4);
    const length = this.i32(ptr + 12);
    this.check(dataStart, length * 4);
    const out: number[] = new Array(length);
    for (let i = 0; i < length; i++) out[i] = this.view.getUint32(dataStart + i * 4, true);
    return out;
  }

  writePointerArray(typeIndex: number, elements: readonly number[]): number {
    const buffer = this.allocWords(TypeId.ArrayBuffer, elements);
    const ptr = this.object(typeIndex, 16);
    const v = this.view;
    v.setUint32(ptr, buffer, true);
    v.setUint32(ptr + 4, buffer, true);
    v.setUint32(ptr + 8, elements.length * 4, true);
    v.setUint32(ptr + 12, elements.length, true);
    return ptr;
  }

  /** An enum-like object { kind: u32, _padding: u32, payload: u64 } (ethereum.Value, store Value, JSONValue). */
  readEnum(ptr: number): { kind: number; low: number } {
    this.notNull(ptr);
    return { kind: this.u32(ptr), low: this.u32(ptr + 8) };
  }

  writeEnum(typeIndex: number, kind: number, payload: bigint | number): number {
    const ptr = this.object(typeIndex, 16);
    const v = this.view;
    v.setUint32(ptr, kind, true);
    v.setUint32(ptr + 4, 0, true);
    if (typeof payload === "number") {
      v.setUint32(ptr + 8, payload >>> 0, true);
      v.setUint32(ptr + 12, 0, true);
    } else v.setBigUint64(ptr + 8, BigInt.asUintN(64, payload), true);
    return ptr;
  }
}
