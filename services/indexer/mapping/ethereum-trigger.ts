/**
 * An event trigger in the module's memory: `ethereum.Event` with its block, transaction and
 * decoded parameters (graph-node chain/ethereum runtime/abi.rs, for the manifest's apiVersion:
 * the transaction's nonce and the block's baseFeePerGas from 0.0.6 on, the receipt from 0.0.7).
 */
import type { AscHeap} from "./asc-heap.js";
import { TypeId } from "./asc-heap.js";
import { writeBigInt, writeEthValue, writeSafeInteger } from "./asc-values.js";
import type { DecodedParam } from "./abi-values.js";

/** A block header as JSON-RPC returns it (hex strings); fields a source lacks default to zero. */
export interface BlockData {
  number: number;
  hash: string;
  parentHash?: string;
  timestamp: number;
  sha3Uncles?: string;
  miner?: string;
  stateRoot?: string;
  transactionsRoot?: string;
  receiptsRoot?: string;
  gasUsed?: string;
  gasLimit?: string;
  difficulty?: string;
  totalDifficulty?: string;
  size?: string;
  baseFeePerGas?: string;
}

export interface TransactionData {
  hash: string;
  transactionIndex?: string | number;
  from?: string;
  to?: string | null;
  value?: string;
  gas?: string;
  gasPrice?: string;
  input?: string;
  nonce?: string;
}

export interface ReceiptData {
  transactionHash: string;
  transactionIndex: string;
  blockHash: string;
  blockNumber: string;
  cumulativeGasUsed: string;
  gasUsed: string;
  contractAddress: string | null;
  logs: { address: string; topics: string[]; data: string; blockHash: string; blockNumber: string; transactionHash: string; transactionIndex: string; logIndex: string; removed?: boolean }[];
  status?: string;
  root?: string;
  logsBloom: string;
}

export interface EventTrigger {
  address: string;
  logIndex: number;
  transactionLogIndex: number;
  block: BlockData;
  transaction: TransactionData;
  params: DecodedParam[];
  receipt?: ReceiptData;
}

function bytesOf(hex: string | null | undefined, length = 0): Uint8Array {
  if (!hex) return new Uint8Array(length);
  const body = hex.startsWith("0x") ? hex.slice(2) : hex;
  return Buffer.from(body.length % 2 ? "0" + body : body, "hex");
}

const quantity = (v: string | number | undefined | null): bigint => (v === undefined || v === null || v === "" ? 0n : BigInt(v));

const patches = new Map<string, number>();

function apiPatch(apiVersion: string): number {
  let patch = patches.get(apiVersion);
  if (patch === undefined) {
    patch = Number(apiVersion.split(".")[2]);
    patches.set(apiVersion, patch);
  }
  return patch;
}

/** Contract addresses as bytes (a few contracts emit every event). */
const addressBytes = new Map<string, Uint8Array>();

function addressOf(address: string): Uint8Array {
  let bytes = addressBytes.get(address);
  if (bytes === undefined) {
    bytes = bytesOf(address, 20);
    if (addressBytes.size >= 1024) addressBytes.clear();
    addressBytes.set(address, bytes);
  }
  return bytes;
}

function writeBlock(heap: AscHeap, b: BlockData, apiVersion: string): number {
  const bytes = (h: string | undefined, n = 32) => heap.writeBytes(bytesOf(h, n));
  const big = (v: string | number | undefined) => writeBigInt(heap, quantity(v));
  const words = [
    bytes(b.hash),
    bytes(b.parentHash),
    bytes(b.sha3Uncles),
    bytes(b.miner, 20),
    bytes(b.stateRoot),
    bytes(b.transactionsRoot),
    bytes(b.receiptsRoot),
    big(b.number),
    big(b.gasUsed),
    big(b.gasLimit),
    big(b.timestamp),
    big(b.difficulty),
    big(b.totalDifficulty),
    b.size === undefined ? 0 : big(b.size),
  ];
  if (apiPatch(apiVersion) >= 6) words.push(b.baseFeePerGas === undefined ? 0 : big(b.baseFeePerGas));
  return heap.allocWords(TypeId.EthereumBlock, words);
}

function writeTransaction(heap: AscHeap, t: TransactionData, apiVersion: string): number {
  const big = (v: string | number | undefined) => writeBigInt(heap, quantity(v));
  const words = [
    heap.writeBytes(bytesOf(t.hash, 32)),
    big(t.transactionIndex),
    heap.writeBytes(bytesOf(t.from, 20)),
    t.to ? heap.writeBytes(bytesOf(t.to, 20)) : 0,
    big(t.value),
    big(t.gas),
    big(t.gasPrice),
    heap.writeBytes(bytesOf(t.input)),
  ];
  if (apiPatch(apiVersion) >= 6) words.push(big(t.nonce));
  return heap.allocWords(TypeId.EthereumTransaction, words);
}

function writeReceipt(heap: AscHeap, r: ReceiptData): number {
  const big = (v: string | undefined | null) => writeBigInt(heap, quantity(v));
  const bytes = (h: string | null | undefined, n = 0) => heap.writeBytes(bytesOf(h, n));
  const logs = r.logs.map((l, i) =>
    heap.allocWords(TypeId.Log, [
      bytes(l.address, 20),
      heap.writePointerArray(TypeId.ArrayH256, l.topics.map((t) => bytes(t, 32))),
      bytes(l.data),
      bytes(l.blockHash, 32),
      bytes(l.blockNumber),
      bytes(l.transactionHash, 32),
      big(l.transactionIndex),
      big(l.logIndex),
      writeBigInt(heap, BigInt(i)),
      heap.writeString(""),
      0,
    ]),
  );
  return heap.allocWords(TypeId.TransactionReceipt, [
    bytes(r.transactionHash, 32),
    big(r.transactionIndex),
    bytes(r.blockHash, 32),
    big(r.blockNumber),
    big(r.cumulativeGasUsed),
    big(r.gasUsed),
    bytes(r.contractAddress, 20),
    heap.writePointerArray(TypeId.ArrayLog, logs),
    big(r.status),
    bytes(r.root),
    bytes(r.logsBloom),
  ]);
}

/** Writes the event and returns its address (the handler's argument). */
export function writeEventTrigger(heap: AscHeap, e: EventTrigger, apiVersion: string): number {
  // The block and the transaction first: the heap replays them for the next events of the block.
  const block = heap.cached(`block ${e.block.hash}`, () => writeBlock(heap, e.block, apiVersion));
  const transaction = heap.cached(`tx ${e.block.hash} ${e.transaction.hash}`, () => writeTransaction(heap, e.transaction, apiVersion));
  const params = e.params.map((p) => heap.allocWords(TypeId.EventParam, [heap.writeString(p.name), writeEthValue(heap, p.value)]));
  const words = [
    heap.writeBytes(addressOf(e.address)),
    writeSafeInteger(heap, e.logIndex),
    writeSafeInteger(heap, e.transactionLogIndex),
    0, // logType
    block,
    transaction,
    heap.writePointerArray(TypeId.ArrayEventParam, params),
  ];
  if (apiPatch(apiVersion) >= 7) words.push(e.receipt ? writeReceipt(heap, e.receipt) : 0);
  return heap.allocWords(TypeId.EthereumEvent, words);
}

/** An `ethereum.Block` alone, for block handlers. */
export function writeBlockTrigger(heap: AscHeap, b: BlockData, apiVersion: string): number {
  return writeBlock(heap, b, apiVersion);
}
