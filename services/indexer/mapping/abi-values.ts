/**
 * ABI decoding of event logs into `ethereum.Value` trees, as graph-node (ethabi) produces them:
 * every ABI type (static words, bytes, string, arrays, fixed arrays, tuples); an indexed dynamic
 * parameter is only its topic hash (a FixedBytes of 32). Decoding works on raw bytes, without
 * ethers' address checksumming or per-call hashing, because it runs for every log.
 */
import type { EventFragment, ParamType } from "ethers";
import { EthKind, type EthValue } from "./asc-values.js";

const WORD = 32;

function isDynamic(t: ParamType): boolean {
  if (t.baseType === "string" || t.baseType === "bytes") return true;
  if (t.baseType === "array") return t.arrayLength === -1 || isDynamic(t.arrayChildren!);
  if (t.baseType === "tuple") return t.components!.some(isDynamic);
  return false;
}

function headSize(t: ParamType): number {
  if (isDynamic(t)) return WORD;
  if (t.baseType === "array") return t.arrayLength! * headSize(t.arrayChildren!);
  if (t.baseType === "tuple") return t.components!.reduce((n, c) => n + headSize(c), 0);
  return WORD;
}

class Reader {
  constructor(readonly data: Uint8Array) {}

  word(at: number, what: string): Uint8Array {
    if (at < 0 || at + WORD > this.data.length) throw new Error(`data too short for ${what}`);
    return this.data.subarray(at, at + WORD);
  }

  uint(at: number, what: string): bigint {
    return wordToBigInt(this.word(at, what));
  }

  offset(at: number, what: string): number {
    const v = this.uint(at, what);
    if (v > BigInt(this.data.length)) throw new Error(`bad offset for ${what}`);
    return Number(v);
  }
}

const utf8 = new TextDecoder();

/** A 32-byte big-endian word as an unsigned bigint: small values through a number, the rest through hex. */
function wordToBigInt(w: Uint8Array): bigint {
  let i = 0;
  while (i < WORD && w[i] === 0) i++;
  if (i >= WORD - 6) {
    let x = 0;
    for (; i < WORD; i++) x = x * 256 + w[i]!;
    return BigInt(x);
  }
  return BigInt("0x" + Buffer.from(w.buffer, w.byteOffset + i, WORD - i).toString("hex"));
}

/** One word-sized value from a 32-byte word (event topics and static heads). */
export function staticValue(t: ParamType, w: Uint8Array): EthValue {
  switch (t.baseType) {
    case "address":
      return { kind: EthKind.ADDRESS, value: w.slice(12) };
    case "bool":
      return { kind: EthKind.BOOL, value: w.some((b) => b !== 0) };
    default: {
      const v = wordToBigInt(w);
      if (t.baseType.startsWith("uint")) return { kind: EthKind.UINT, value: v };
      if (t.baseType.startsWith("int")) return { kind: EthKind.INT, value: BigInt.asIntN(256, v) };
      const m = /^bytes(\d+)$/.exec(t.baseType);
      if (m) return { kind: EthKind.FIXED_BYTES, value: w.slice(0, Number(m[1])) };
      throw new Error(`unsupported ABI type ${t.type}`);
    }
  }
}

function decodeValue(r: Reader, t: ParamType, at: number, name: string): EthValue {
  if (t.baseType === "string" || t.baseType === "bytes") {
    const length = r.offset(at, name);
    if (at + WORD + length > r.data.length) throw new Error(`data too short for ${name}`);
    const body = r.data.subarray(at + WORD, at + WORD + length);
    return t.baseType === "string" ? { kind: EthKind.STRING, value: utf8.decode(body) } : { kind: EthKind.BYTES, value: body.slice() };
  }
  if (t.baseType === "array") {
    const child = t.arrayChildren!;
    if (t.arrayLength === -1) {
      const length = r.offset(at, name);
      if (length * WORD > r.data.length) throw new Error(`array too long for ${name}`);
      return { kind: EthKind.ARRAY, value: decodeList(r, Array(length).fill(child), at + WORD, name) };
    }
    return { kind: EthKind.FIXED_ARRAY, value: decodeList(r, Array(t.arrayLength!).fill(child), at, name) };
  }
  if (t.baseType === "tuple") return { kind: EthKind.TUPLE, value: decodeList(r, t.components!, at, name) };
  return staticValue(t, r.word(at, name));
}

/** A head/tail encoded list of values starting at `base`. */
function decodeList(r: Reader, types: readonly ParamType[], base: number, name: string): EthValue[] {
  let head = base;
  return types.map((t, i) => {
    const what = `${name}[${i}]`;
    const at = isDynamic(t) ? base + r.offset(head, what) : head;
    head += headSize(t);
    return decodeValue(r, t, at, what);
  });
}

export interface DecodedParam {
  name: string;
  value: EthValue;
}

function hexBytes(hex: string): Uint8Array {
  const h = hex.startsWith("0x") ? hex.slice(2) : hex;
  // Buffer stops decoding at the first pair that is not hex: a short result is a bad input.
  const bytes = Buffer.from(h, "hex");
  if (bytes.length * 2 !== h.length) throw new Error("data is not hex");
  return bytes;
}

/** The event's parameters in declaration order, from its topics and data. */
export function decodeEventParams(fragment: EventFragment, topics: readonly string[], data: string): DecodedParam[] {
  const indexed = fragment.inputs.filter((p) => p.indexed);
  const offset = fragment.anonymous ? 0 : 1;
  if (topics.length !== indexed.length + offset) {
    throw new Error(`${fragment.name} takes ${indexed.length} indexed topics, got ${topics.length - offset}`);
  }
  const plain = fragment.inputs.filter((p) => !p.indexed);
  const values = decodeList(new Reader(hexBytes(data)), plain, 0, fragment.name);
  let nextTopic = offset;
  let nextPlain = 0;
  return fragment.inputs.map((p) => {
    if (!p.indexed) return { name: p.name, value: values[nextPlain++]! };
    const word = hexBytes(topics[nextTopic++]!);
    if (word.length !== WORD) throw new Error(`topic of ${p.name} is not 32 bytes`);
    // An indexed dynamic value is only its hash.
    const value: EthValue = isDynamic(p) || p.baseType === "array" || p.baseType === "tuple"
      ? { kind: EthKind.FIXED_BYTES, value: word }
      : staticValue(p, word);
    return { name: p.name, value };
  });
}
