import { Interface, type EventFragment, type InterfaceAbi, type ParamType } from "ethers";

/**
 * A lean decoder for the market's events. ethers' generic `parseLog` hashes the event signature
 * and checksums every address on each call (keccak, twice per address), which made decoding the
 * indexer's hot spot; the market's events only use static words and strings, so they are decoded
 * here straight from the 32-byte words. Addresses come out lower-case, as entity ids want them.
 */

export type EventArgs = Record<string, unknown>;

export interface EventDecoder {
  name: string;
  topic: string;
  decode(topics: readonly string[], data: string): EventArgs;
}

const WORD = 64; // hex characters per 32-byte word

function word(hex: string, index: number, what: string): string {
  const start = index * WORD;
  if (hex.length < start + WORD) throw new Error(`data too short for ${what}`);
  return hex.slice(start, start + WORD);
}

/** Decodes one static value from a word; returns undefined for types this decoder does not handle. */
function staticValue(type: string, w: string): unknown {
  if (type === "address") return "0x" + w.slice(24);
  if (type === "bool") return w !== "0".repeat(WORD);
  if (type.startsWith("uint")) return BigInt("0x" + w);
  if (type.startsWith("int")) {
    const bits = Number(type.slice(3) || 256);
    const v = BigInt("0x" + w);
    return BigInt.asIntN(bits, v);
  }
  if (/^bytes\d+$/.test(type)) return "0x" + w.slice(0, Number(type.slice(5)) * 2);
  return undefined;
}

function isSupported(p: ParamType): boolean {
  const t = p.type;
  return t === "address" || t === "bool" || t === "string" || t === "bytes" || /^u?int\d*$/.test(t) || /^bytes\d+$/.test(t);
}

function dynamicValue(type: string, hex: string, offsetWord: string): unknown {
  const offset = Number(BigInt("0x" + offsetWord)) * 2;
  if (offset % 2 !== 0 || hex.length < offset + WORD) throw new Error(`bad offset for ${type}`);
  const length = Number(BigInt("0x" + hex.slice(offset, offset + WORD))) * 2;
  const body = hex.slice(offset + WORD, offset + WORD + length);
  if (body.length !== length) throw new Error(`data too short for a ${type}`);
  if (type === "bytes") return "0x" + body;
  return Buffer.from(body, "hex").toString("utf8");
}

function decoderFor(iface: Interface, fragment: EventFragment): EventDecoder {
  const topic = fragment.topicHash;
  const name = fragment.name;
  if (fragment.anonymous || !fragment.inputs.every(isSupported)) {
    // Fallback: ethers' generic decoder, for events with arrays or tuples.
    return {
      name,
      topic,
      decode(topics, data) {
        const result = iface.decodeEventLog(fragment, data, topics);
        const args: EventArgs = {};
        fragment.inputs.forEach((input, i) => (args[input.name] = result[i]));
        return args;
      },
    };
  }
  const indexed = fragment.inputs.filter((p) => p.indexed);
  const plain = fragment.inputs.filter((p) => !p.indexed);
  return {
    name,
    topic,
    decode(topics, data) {
      if (topics.length !== indexed.length + 1) throw new Error(`${name} takes ${indexed.length} indexed topics, got ${topics.length - 1}`);
      const hex = data.startsWith("0x") ? data.slice(2) : data;
      if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length % 2 !== 0) throw new Error("data is not hex");
      const args: EventArgs = {};
      indexed.forEach((p, i) => {
        const t = topics[i + 1]!.slice(2).toLowerCase();
        // An indexed string or bytes is only its hash.
        args[p.name] = p.type === "string" || p.type === "bytes" ? "0x" + t : staticValue(p.type, t);
      });
      const lower = hex.toLowerCase();
      plain.forEach((p, i) => {
        const w = word(lower, i, `${name}.${p.name}`);
        args[p.name] = p.type === "string" || p.type === "bytes" ? dynamicValue(p.type, p.type === "string" ? hex : lower, w) : staticValue(p.type, w);
      });
      return args;
    },
  };
}

/** The decoders of every event in `abi`, by topic 0. */
export function eventDecoders(abi: InterfaceAbi): Map<string, EventDecoder> {
  const iface = new Interface(abi);
  const decoders = new Map<string, EventDecoder>();
  iface.forEachEvent((fragment) => {
    const d = decoderFor(iface, fragment);
    decoders.set(d.topic, d);
  });
  return decoders;
}
