/**
 * The graph-ts host functions, implemented with graph-node's semantics (runtime/wasm
 * host_exports.rs): store, BigInt / BigDecimal arithmetic, type conversions, crypto, JSON, logging,
 * dataSource and the ethereum chain functions. A function graph-node fails on deterministically
 * throws a DeterministicError here, which fails the handler.
 */
import { AbiCoder, keccak256, ParamType } from "ethers";
import type { AscHeap} from "./asc-heap.js";
import { DeterministicError, TypeId } from "./asc-heap.js";
import {
  EthKind,
  parseJson,
  readBigDecimal,
  readBigInt,
  readEthValue,
  readStoreValue,
  readTypedMap,
  writeBigDecimal,
  writeBigInt,
  writeEntity,
  writeEthValue,
  writeJsonValue,
  writeYamlValue,
  type YamlTree,
  type EthValue,
  type StoreValue,
} from "./asc-values.js";
import { BigDecimal } from "./big-numbers.js";
import { isAlias, isMap, isScalar, isSeq, parseDocument, type Node } from "yaml";

export type EntityData = [string, StoreValue][];

/**
 * The entity store as the mappings see it (graph-node's EntityCache). Entities cross as addresses
 * of graph-ts `Entity` objects in the heap (0: none), converted by the store's side.
 */
export interface MappingStore {
  get(heap: AscHeap, entity: string, id: string): number;
  getInBlock(heap: AscHeap, entity: string, id: string): number;
  loadRelated(heap: AscHeap, entity: string, id: string, field: string): number[];
  set(heap: AscHeap, entity: string, id: string, data: number): void;
  remove(entity: string, id: string): void;
}

/** Synchronous chain reads for ethereum.call / getBalance / hasCode, at the trigger's block. */
export interface ChainReader {
  call(address: string, data: string, blockNumber: number): Uint8Array | null;
  getBalance(address: string, blockNumber: number): bigint;
  getCode(address: string, blockNumber: number): string;
}

export enum LogLevel {
  CRITICAL = 0,
  ERROR = 1,
  WARNING = 2,
  INFO = 3,
  DEBUG = 4,
}

export interface HostContext {
  heap(): AscHeap;
  store: MappingStore;
  log(level: LogLevel, message: string): void;
  chain?: ChainReader;
  /** The running data source. */
  dataSource(): { address: string; network: string; context: EntityData; blockNumber: number };
  createDataSource(template: string, params: string[], context: EntityData | null): void;
}

const hex = (b: Uint8Array) => "0x" + Buffer.from(b).toString("hex");
const BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

function base58(bytes: Uint8Array): string {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  let out = "";
  while (n > 0n) {
    out = BASE58[Number(n % 58n)] + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = "1" + out;
  }
  return out;
}

const DEFAULT_TAGS = /^tag:yaml\.org,2002:/;

/** A YAML document as YAMLValue sees it: numbers keep their text, explicit tags wrap their value. */
function yamlTree(text: string): YamlTree {
  const doc = parseDocument(text, { intAsBigInt: true, uniqueKeys: false });
  if (doc.errors.length) throw new DeterministicError(`Failed to parse YAML: ${doc.errors[0]!.message}`);
  const convert = (node: unknown): YamlTree => {
    if (node === null || node === undefined) return null;
    if (isAlias(node)) return convert(node.resolve(doc));
    let out: YamlTree;
    if (isScalar(node)) {
      const v = node.value;
      out = v === null || v === undefined ? null : typeof v === "boolean" ? v : typeof v === "number" || typeof v === "bigint" ? { number: node.source ?? String(v) } : String(v);
    } else if (isSeq(node)) out = node.items.map(convert);
    else if (isMap(node)) out = { entries: node.items.map((pair) => [convert(pair.key), convert(pair.value)]) };
    else out = null;
    const tag = (node as Node).tag;
    return tag && !DEFAULT_TAGS.test(tag) ? { tag, value: out } : out;
  };
  return convert(doc.contents);
}

function parseBigInt(s: string): bigint {
  if (!/^[-+]?\d+$/.test(s.trim())) throw new DeterministicError(`failed to parse BigInt from "${s}"`);
  return BigInt(s.trim());
}

/** ethereum.Value -> an ABI type and a value ethers can encode. */
function abiOf(v: EthValue): { type: string; value: unknown } {
  switch (v.kind) {
    case EthKind.ADDRESS:
      return { type: "address", value: hex(v.value) };
    case EthKind.FIXED_BYTES:
      return { type: `bytes${v.value.length}`, value: hex(v.value) };
    case EthKind.BYTES:
      return { type: "bytes", value: hex(v.value) };
    case EthKind.INT:
      return { type: "int256", value: v.value };
    case EthKind.UINT:
      return { type: "uint256", value: v.value };
    case EthKind.BOOL:
      return { type: "bool", value: v.value };
    case EthKind.STRING:
      return { type: "string", value: v.value };
    case EthKind.FIXED_ARRAY:
    case EthKind.ARRAY: {
      const items = v.value.map(abiOf);
      const inner = items[0]?.type ?? "uint256";
      return { type: v.kind === EthKind.ARRAY ? `${inner}[]` : `${inner}[${items.length}]`, value: items.map((i) => i.value) };
    }
    default: {
      const items = v.value.map(abiOf);
      return { type: `(${items.map((i) => i.type).join(",")})`, value: items.map((i) => i.value) };
    }
  }
}

/** An ethers-decoded value -> ethereum.Value for the ABI type `t`. */
function ethValueOf(t: ParamType, v: unknown): EthValue {
  const bytes = (x: unknown) => Uint8Array.from(Buffer.from(String(x).slice(2), "hex"));
  if (t.baseType === "address") return { kind: EthKind.ADDRESS, value: bytes(String(v).toLowerCase()) };
  if (t.baseType === "bool") return { kind: EthKind.BOOL, value: Boolean(v) };
  if (t.baseType === "string") return { kind: EthKind.STRING, value: String(v) };
  if (t.baseType === "bytes") return { kind: EthKind.BYTES, value: bytes(v) };
  if (/^bytes\d+$/.test(t.baseType)) return { kind: EthKind.FIXED_BYTES, value: bytes(v) };
  if (t.baseType.startsWith("uint")) return { kind: EthKind.UINT, value: BigInt(v as bigint) };
  if (t.baseType.startsWith("int")) return { kind: EthKind.INT, value: BigInt(v as bigint) };
  const list = [...(v as unknown[])];
  if (t.baseType === "array") {
    return { kind: t.arrayLength === -1 ? EthKind.ARRAY : EthKind.FIXED_ARRAY, value: list.map((x) => ethValueOf(t.arrayChildren!, x)) };
  }
  return { kind: EthKind.TUPLE, value: list.map((x, i) => ethValueOf(t.components![i]!, x)) };
}

/** The import object for one instance; `ctx` supplies the heap and the trigger's context. */
export function hostImports(ctx: HostContext): Record<string, (...args: never[]) => unknown> {
  const h = () => ctx.heap();
  const str = (p: number) => h().readString(p);
  const big = (p: number) => readBigInt(h(), p);
  const dec = (p: number) => readBigDecimal(h(), p);
  const outBig = (v: bigint) => writeBigInt(h(), v);
  const outDec = (v: BigDecimal) => writeBigDecimal(h(), v);
  const coder = AbiCoder.defaultAbiCoder();

  const fns: Record<string, (...args: number[]) => unknown> = {
    abort(message: number, file: number, line: number, column: number) {
      const heap = h();
      const text = message ? heap.readString(message) : "(no message)";
      const where = file ? heap.readString(file) : "(unknown file)";
      throw new DeterministicError(`Mapping aborted at ${where}, line ${line}, column ${column}, with message: ${text}`);
    },

    // --- store ---------------------------------------------------------------------------------
    "store.get": (entity, id) => ctx.store.get(h(), str(entity), str(id)),
    "store.get_in_block": (entity, id) => ctx.store.getInBlock(h(), str(entity), str(id)),
    "store.loadRelated": (entity, id, field) => {
      const heap = h();
      return heap.writePointerArray(TypeId.ArrayTypedMapEntryStringStoreValue, ctx.store.loadRelated(heap, str(entity), str(id), str(field)));
    },
    "store.set": (entity, id, data) => {
      ctx.store.set(h(), str(entity), str(id), data);
    },
    "store.remove": (entity, id) => {
      ctx.store.remove(str(entity), str(id));
    },

    // --- logging -------------------------------------------------------------------------------
    "log.log": (level, message) => {
      const text = str(message);
      ctx.log(level as LogLevel, text);
      if (level === LogLevel.CRITICAL) throw new DeterministicError(`Critical error logged in mapping: ${text}`);
    },

    // --- conversions ---------------------------------------------------------------------------
    "typeConversion.bytesToString": (p) => h().writeString(new TextDecoder().decode(h().readBytes(p)).replace(/\u0000+$/, "")),
    "typeConversion.bytesToHex": (p) => h().writeString(hex(h().readBytes(p))),
    "typeConversion.bigIntToString": (p) => h().writeString(big(p).toString()),
    "typeConversion.bigIntToHex": (p) => {
      const v = big(p);
      const abs = v < 0n ? -v : v;
      return h().writeString(v === 0n ? "0x0" : `0x${abs.toString(16)}`);
    },
    "typeConversion.stringToH160": (p) => {
      const s = str(p);
      const body = s.startsWith("0x") ? s.slice(2) : s;
      if (!/^[0-9a-fA-F]{40}$/.test(body)) throw new DeterministicError(`Failed to convert string to Address/H160: '${s}'`);
      return h().writeBytes(Uint8Array.from(Buffer.from(body, "hex")));
    },
    "typeConversion.bytesToBase58": (p) => h().writeString(base58(h().readBytes(p))),

    // --- BigInt --------------------------------------------------------------------------------
    "bigInt.plus": (x, y) => outBig(big(x) + big(y)),
    "bigInt.minus": (x, y) => outBig(big(x) - big(y)),
    "bigInt.times": (x, y) => outBig(big(x) * big(y)),
    "bigInt.dividedBy": (x, y) => {
      const d = big(y);
      if (d === 0n) throw new DeterministicError(`attempted to divide BigInt \`${big(x)}\` by zero`);
      return outBig(big(x) / d);
    },
    "bigInt.dividedByDecimal": (x, y) => {
      const d = dec(y);
      if (d.digits === 0n) throw new DeterministicError(`attempted to divide BigInt \`${big(x)}\` by zero`);
      return outDec(BigDecimal.fromBigInt(big(x)).dividedBy(d));
    },
    "bigInt.mod": (x, y) => {
      const d = big(y);
      if (d === 0n) throw new DeterministicError(`attempted to calculate the remainder of \`${big(x)}\` with a divisor of zero`);
      return outBig(big(x) % d);
    },
    "bigInt.pow": (x, exp) => outBig(big(x) ** BigInt(exp & 0xff)),
    "bigInt.fromString": (s) => outBig(parseBigInt(str(s))),
    "bigInt.bitOr": (x, y) => outBig(big(x) | big(y)),
    "bigInt.bitAnd": (x, y) => outBig(big(x) & big(y)),
    "bigInt.leftShift": (x, bits) => outBig(big(x) << BigInt(bits & 0xff)),
    "bigInt.rightShift": (x, bits) => outBig(big(x) >> BigInt(bits & 0xff)),

    // --- BigDecimal ----------------------------------------------------------------------------
    "bigDecimal.plus": (x, y) => outDec(dec(x).plus(dec(y))),
    "bigDecimal.minus": (x, y) => outDec(dec(x).minus(dec(y))),
    "bigDecimal.times": (x, y) => outDec(dec(x).times(dec(y))),
    "bigDecimal.dividedBy": (x, y) => outDec(dec(x).dividedBy(dec(y))),
    "bigDecimal.equals": (x, y) => (dec(x).equals(dec(y)) ? 1 : 0),
    "bigDecimal.toString": (x) => h().writeString(dec(x).normalized().toString()),
    "bigDecimal.fromString": (s) => outDec(BigDecimal.parse(str(s))),

    // --- crypto --------------------------------------------------------------------------------
    "crypto.keccak256": (p) => h().writeBytes(Uint8Array.from(Buffer.from(keccak256(h().readBytes(p)).slice(2), "hex"))),

    // --- json ----------------------------------------------------------------------------------
    "json.fromBytes": (p) => {
      const text = new TextDecoder().decode(h().readBytes(p));
      let tree;
      try {
        tree = parseJson(text);
      } catch (error) {
        throw new DeterministicError(`Failed to parse JSON from byte array. Bytes: \`${text.slice(0, 200)}\`. Error: ${(error as Error).message}`);
      }
      return writeJsonValue(h(), tree);
    },
    "json.try_fromBytes": (p) => {
      const heap = h();
      let value = 0;
      let error = 0;
      try {
        value = heap.allocWords(TypeId.WrappedJsonValue, [writeJsonValue(heap, parseJson(new TextDecoder().decode(heap.readBytes(p))))]);
      } catch {
        error = heap.alloc(TypeId.WrappedBool, Uint8Array.of(1, 0, 0, 0), 1);
      }
      return heap.allocWords(TypeId.ResultJsonValueBool, [value, error]);
    },
    "json.toI64": (p) => {
      const s = str(p);
      const v = parseBigInt(s);
      if (v < -(2n ** 63n) || v >= 2n ** 63n) throw new DeterministicError(`JSON number \`${s}\` cannot fit in i64`);
      return v;
    },
    "json.toU64": (p) => {
      const s = str(p);
      const v = parseBigInt(s);
      if (v < 0n || v >= 2n ** 64n) throw new DeterministicError(`JSON number \`${s}\` cannot fit in u64`);
      return BigInt.asIntN(64, v);
    },
    "json.toF64": (p) => {
      const s = str(p);
      const v = Number(s);
      if (s.trim() === "" || Number.isNaN(v)) throw new DeterministicError(`JSON number \`${s}\` is not a float`);
      return v;
    },
    "json.toBigInt": (p) => outBig(parseBigInt(str(p))),

    // --- yaml ----------------------------------------------------------------------------------
    "yaml.fromBytes": (p) => writeYamlValue(h(), yamlTree(new TextDecoder().decode(h().readBytes(p)))),
    "yaml.try_fromBytes": (p) => {
      const heap = h();
      let value = 0;
      let error = 0;
      try {
        value = heap.allocWords(TypeId.YamlWrappedValue, [writeYamlValue(heap, yamlTree(new TextDecoder().decode(heap.readBytes(p))))]);
      } catch {
        error = heap.alloc(TypeId.WrappedBool, Uint8Array.of(1, 0, 0, 0), 1);
      }
      return heap.allocWords(TypeId.YamlResultValueBool, [value, error]);
    },

    // --- data sources --------------------------------------------------------------------------
    "dataSource.address": () => h().writeBytes(Uint8Array.from(Buffer.from(ctx.dataSource().address.slice(2), "hex"))),
    "dataSource.network": () => h().writeString(ctx.dataSource().network),
    "dataSource.context": () => writeEntity(h(), ctx.dataSource().context),
    "dataSource.create": (name, params) => {
      ctx.createDataSource(str(name), h().readPointerArray(params).map(str), null);
    },
    "dataSource.createWithContext": (name, params, context) => {
      ctx.createDataSource(str(name), h().readPointerArray(params).map(str), readTypedMap(h(), context, (p) => readStoreValue(h(), p)));
    },

    // --- ethereum ------------------------------------------------------------------------------
    "ethereum.encode": (p) => {
      try {
        const { type, value } = abiOf(readEthValue(h(), p));
        return h().writeBytes(Uint8Array.from(Buffer.from(coder.encode([type], [value]).slice(2), "hex")));
      } catch {
        return 0;
      }
    },
    "ethereum.decode": (types, data) => {
      const heap = h();
      const signature = heap.readString(types);
      try {
        const t = ParamType.from(signature);
        const [value] = coder.decode([t], heap.readBytes(data));
        return writeEthValue(heap, ethValueOf(t, value));
      } catch {
        return 0;
      }
    },
    "ethereum.call": (call) => {
      const heap = h();
      const chain = ctx.chain ?? fail("ethereum.call");
      const [, address, fnName, fnSignature, params] = [heap.u32(call), heap.u32(call + 4), heap.u32(call + 8), heap.u32(call + 12), heap.u32(call + 16)];
      const name = heap.readString(fnName);
      const signature = heap.readString(fnSignature);
      const args = heap.readPointerArray(params).map((p) => readEthValue(heap, p));
      // "name(inputs):(outputs)"
      const m = /^([^(]+)\((.*)\):\((.*)\)$/.exec(signature);
      if (!m) throw new DeterministicError(`ethereum.call: bad function signature ${signature} for ${name}`);
      const inputs = ParamType.from(`(${m[2]})`).components!;
      const outputs = ParamType.from(`(${m[3]})`).components!;
      const selector = keccak256(Buffer.from(`${m[1]}(${m[2]})`)).slice(0, 10);
      const encoded = coder.encode(inputs, args.map((a) => abiOf(a).value)).slice(2);
      const to = hex(heap.readBytes(address));
      const result = chain.call(to, selector + encoded, ctx.dataSource().blockNumber);
      if (result === null) return 0; // reverted: try_ calls see a revert
      try {
        const decoded = coder.decode(outputs, result);
        return heap.writePointerArray(TypeId.ArrayEthereumValue, outputs.map((t, i) => writeEthValue(heap, ethValueOf(t, decoded[i]))));
      } catch {
        return 0;
      }
    },
    "ethereum.getBalance": (address) => {
      const chain = ctx.chain ?? fail("ethereum.getBalance");
      return outBig(chain.getBalance(hex(h().readBytes(address)), ctx.dataSource().blockNumber));
    },
    "ethereum.hasCode": (address) => {
      const chain = ctx.chain ?? fail("ethereum.hasCode");
      const code = chain.getCode(hex(h().readBytes(address)), ctx.dataSource().blockNumber);
      return h().alloc(TypeId.WrappedBool, Uint8Array.of(code !== "0x" ? 1 : 0, 0, 0, 0), 1);
    },

    // --- off-chain data the embedded indexer cannot reach ---------------------------------------
    "ipfs.cat": (p) => {
      ctx.log(LogLevel.WARNING, `ipfs.cat(${str(p)}): no IPFS node is configured; returning null`);
      return 0;
    },
    "ipfs.getBlock": (p) => {
      ctx.log(LogLevel.WARNING, `ipfs.getBlock(${str(p)}): no IPFS node is configured; returning null`);
      return 0;
    },
    "ipfs.map": (p) => {
      throw new DeterministicError(`ipfs.map(${str(p)}): no IPFS node is configured`);
    },
    "ens.nameByHash": () => 0,
  };
  return fns as Record<string, (...args: never[]) => unknown>;
}

function fail(name: string): never {
  throw new DeterministicError(`${name} needs a chain connection, and this indexer runs without one`);
}
