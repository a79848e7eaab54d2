/**
 * Decodes logs of known contracts by their first topic. ethers' `Interface.parseLog` finds a log's
 * event by hashing the signature of every event of the interface until one matches (a keccak and a
 * UTF-8 encoding each, for every log), and its ABI reader builds a `Result` proxy per log: a
 * process that reads every market event spent most of its decoding time there. Here each event's
 * topic is hashed once, and events made only of the ABI's plain types (integers, address, bool,
 * fixed bytes, string, bytes) are read straight from the bytes; anything else, or data that does
 * not fit, goes through ethers (which decodes it or says what is wrong).
 */
import { getAddress, type EventFragment, type Interface, type ParamType } from "ethers";

export interface DecodedLog {
  name: string;
  fragment: EventFragment;
  /** The event's arguments in the fragment's order, as ethers decodes them (bigints, checksummed addresses, hex). */
  values: unknown[];
}

/** How one argument is read: from a 32-byte word, or (dynamic) from the data the word points at. */
type Reader =
  | { kind: "uint" | "int"; bits: number }
  | { kind: "address" | "bool" | "string" | "bytes" }
  | { kind: "fixed"; size: number };

interface Plan {
  iface: Interface;
  fragment: EventFragment;
  /** Each input's reader and whether it is indexed; undefined when an input needs ethers. */
  readers?: { reader: Reader; indexed: boolean }[];
}

export class EventDecoder {
  private readonly byTopic = new Map<string, Plan>();
  /** Checksummed forms of addresses seen (a keccak each, otherwise). */
  private readonly checksummed = new Map<string, string>();
  private readonly utf8 = new TextDecoder("utf-8", { fatal: true });

  /** `interfaces`: the ABIs whose events to decode (a topic two of them share is the first's). */
  constructor(interfaces: Interface[]) {
    for (const iface of interfaces) {
      iface.forEachEvent((fragment) => {
        if (fragment.anonymous || this.byTopic.has(fragment.topicHash)) return;
        const readers = fragment.inputs.map((input) => ({ reader: readerOf(input), indexed: input.indexed === true }));
        const plain = readers.every((r) => r.reader !== undefined && (!r.indexed || !isDynamic(r.reader)));
        this.byTopic.set(fragment.topicHash, { iface, fragment, ...(plain ? { readers: readers as { reader: Reader; indexed: boolean }[] } : {}) });
      });
    }
  }

  /** The log decoded, or undefined when its first topic is none of the known events'. */
  decode(log: { topics: readonly string[]; data: string }): DecodedLog | undefined {
    const topic = log.topics[0];
    const plan = topic === undefined ? undefined : this.byTopic.get(topic.toLowerCase());
    if (!plan) return undefined;
    const values = (plan.readers && this.readPlain(plan.readers, log)) ?? plan.iface.decodeEventLog(plan.fragment, log.data, log.topics).toArray(true);
    return { name: plan.fragment.name, fragment: plan.fragment, values };
  }

  /** The arguments read directly, or undefined when the log does not fit its event exactly (ethers then judges it). */
  private readPlain(readers: { reader: Reader; indexed: boolean }[], log: { topics: readonly string[]; data: string }): unknown[] | undefined {
    const indexedCount = readers.filter((r) => r.indexed).length;
    if (log.topics.length !== indexedCount + 1 || !/^0x(?:[0-9a-fA-F]{2})*$/.test(log.data)) return undefined;
    const data = Buffer.from(log.data.slice(2), "hex");
    const values: unknown[] = [];
    let topicAt = 1;
    let head = 0;
    for (const { reader, indexed } of readers) {
      let value: unknown;
      if (indexed) {
        const word = log.topics[topicAt++]!;
        if (!/^0x[0-9a-fA-F]{64}$/.test(word)) return undefined;
        value = this.readWord(reader, Buffer.from(word.slice(2), "hex"), 0);
      } else {
        if (head + 32 > data.length) return undefined;
        value = isDynamic(reader) ? this.readDynamic(reader, data, head) : this.readWord(reader, data, head);
        head += 32;
      }
      if (value === undefined) return undefined;
      values.push(value);
    }
    return values;
  }

  private readWord(reader: Reader, bytes: Buffer, at: number): unknown {
    const word = bytes.subarray(at, at + 32);
    switch (reader.kind) {
      case "uint":
      case "int": {
        const raw = BigInt("0x" + word.toString("hex"));
        const mask = (1n << BigInt(reader.bits)) - 1n;
        const value = raw & mask;
        return reader.kind === "int" && value >> BigInt(reader.bits - 1) === 1n ? value - (1n << BigInt(reader.bits)) : value;
      }
      case "address": {
        if (word.subarray(0, 12).some((b) => b !== 0)) return undefined;
        const lower = "0x" + word.subarray(12).toString("hex");
        let address = this.checksummed.get(lower);
        if (address === undefined) {
          address = getAddress(lower);
          if (this.checksummed.size > 100_000) this.checksummed.clear();
          this.checksummed.set(lower, address);
        }
        return address;
      }
      case "bool":
        return word.some((b) => b !== 0);
      case "fixed":
        return "0x" + word.subarray(0, reader.size).toString("hex");
      default:
        return undefined;
    }
  }

  private readDynamic(reader: Reader, data: Buffer, head: number): unknown {
    const offset = wordAsIndex(data, head);
    if (offset === undefined || offset + 32 > data.length) return undefined;
    const length = wordAsIndex(data, offset);
    if (length === undefined || offset + 32 + length > data.length) return undefined;
    const bytes = data.subarray(offset + 32, offset + 32 + length);
    if (reader.kind === "bytes") return "0x" + bytes.toString("hex");
    try {
      return this.utf8.decode(bytes);
    } catch {
      return undefined; // not UTF-8: ethers says so
    }
  }
}

function readerOf(input: ParamType): Reader | undefined {
  if (input.isArray() || input.isTuple()) return undefined;
  const t = input.baseType;
  const int = /^(u?)int(\d*)$/.exec(t);
  if (int) return { kind: int[1] ? "uint" : "int", bits: Number(int[2] || 256) };
  if (t === "address" || t === "bool" || t === "string" || t === "bytes") return { kind: t };
  const fixed = /^bytes(\d+)$/.exec(t);
  if (fixed) return { kind: "fixed", size: Number(fixed[1]) };
  return undefined;
}

function isDynamic(reader: Reader): boolean {
  return reader.kind === "string" || reader.kind === "bytes";
}

/** A word holding an offset or a length: undefined when it is too large to be one. */
function wordAsIndex(data: Buffer, at: number): number | undefined {
  if (at + 32 > data.length || data.subarray(at, at + 26).some((b) => b !== 0)) return undefined;
  return data.readUIntBE(at + 26, 6);
}
