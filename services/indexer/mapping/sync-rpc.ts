/**
 * Synchronous JSON-RPC for the mappings' chain reads (ethereum.call, getBalance, hasCode): a
 * mapping runs synchronously inside WebAssembly, so the request goes to a helper thread that does
 * the HTTP call while this thread waits on a shared flag (Atomics.wait), as graph-node's handlers
 * block on their calls.
 */
import { Worker } from "node:worker_threads";
import { toQuantity } from "ethers";
import type { ChainReader } from "./host-exports.js";

const BUFFER_BYTES = 4 * 1024 * 1024;
const HELPER = `
const { parentPort, workerData } = require("node:worker_threads");
const { url, shared } = workerData;
const flag = new Int32Array(shared, 0, 2);
const data = new Uint8Array(shared, 8);
parentPort.on("message", async ({ method, params }) => {
  let text;
  try {
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
    text = await res.text();
  } catch (error) {
    text = JSON.stringify({ transport: String(error && error.message || error) });
  }
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > data.length) {
    const msg = new TextEncoder().encode(JSON.stringify({ transport: "the answer of " + method + " is larger than " + data.length + " bytes" }));
    data.set(msg); flag[1] = msg.length;
  } else { data.set(bytes); flag[1] = bytes.length; }
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
`;

/** A chain read that failed for reasons unrelated to the mapping (the node is down): the batch is retried. */
export class ChainUnavailable extends Error {}

export class SyncRpcChain implements ChainReader {
  private readonly shared = new SharedArrayBuffer(8 + BUFFER_BYTES);
  private readonly flag = new Int32Array(this.shared, 0, 2);
  private readonly data = new Uint8Array(this.shared, 8);
  private readonly worker: Worker;

  constructor(
    readonly url: string,
    private readonly timeoutMs = 30_000,
  ) {
    this.worker = new Worker(HELPER, { eval: true, workerData: { url, shared: this.shared } });
    this.worker.unref();
  }

  private send(method: string, params: unknown[]): { result?: unknown; error?: { code?: number; message?: string; data?: unknown } } {
    Atomics.store(this.flag, 0, 0);
    this.worker.postMessage({ method, params });
    if (Atomics.wait(this.flag, 0, 0, this.timeoutMs) === "timed-out") {
      throw new ChainUnavailable(`${method} to ${this.url} took longer than ${this.timeoutMs} ms`);
    }
    const text = new TextDecoder().decode(this.data.slice(0, this.flag[1]));
    let reply: { result?: unknown; error?: { code?: number; message?: string }; transport?: string };
    try {
      reply = JSON.parse(text) as typeof reply;
    } catch {
      throw new ChainUnavailable(`${method} to ${this.url} answered with something that is not JSON: ${text.slice(0, 200)}`);
    }
    if (reply.transport) throw new ChainUnavailable(`${method} to ${this.url} failed: ${reply.transport}`);
    return reply;
  }

  call(address: string, data: string, blockNumber: number): Uint8Array | null {
    const reply = this.send("eth_call", [{ to: address, data }, toQuantity(blockNumber)]);
    if (reply.error) {
      // A revert is the mapping's business (try_ calls see null); anything else is the node's.
      if (reply.error.code === 3 || /revert|invalid opcode|out of gas/i.test(reply.error.message ?? "")) return null;
      throw new ChainUnavailable(`eth_call at block ${blockNumber} failed: ${reply.error.message}`);
    }
    return Buffer.from(String(reply.result).slice(2), "hex");
  }

  getBalance(address: string, blockNumber: number): bigint {
    const reply = this.send("eth_getBalance", [address, toQuantity(blockNumber)]);
    if (reply.error) throw new ChainUnavailable(`eth_getBalance failed: ${reply.error.message}`);
    return BigInt(String(reply.result));
  }

  getCode(address: string, blockNumber: number): string {
    const reply = this.send("eth_getCode", [address, toQuantity(blockNumber)]);
    if (reply.error) throw new ChainUnavailable(`eth_getCode failed: ${reply.error.message}`);
    return String(reply.result);
  }

  close(): void {
    void this.worker.terminate();
  }
}
