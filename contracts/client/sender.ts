/**
 * One account's transactions, sent the way a wallet sends them on a real network. Every actor that
 * sends (matchmaker agents, hosts, verifiers, consumers, the CLI) sends through a `Sender`.
 *
 * - **Local nonce.** Nonces are handed out here, in the order `send` is called, starting from the
 *   chain's pending count (as viem's nonce manager does: the larger of the chain's count and the
 *   local one). A send costs one RPC call: the transaction is signed locally and broadcast raw.
 * - **Pipelined.** `send` resolves once the transaction is broadcast; its receipt comes later
 *   through `wait()`, so the next send never waits for a block.
 * - **Stuck → replaced.** A transaction still unmined after `stuckAfterMs` is signed again with
 *   the same nonce and a higher fee (at least +25% on both fee fields, and at least the fees the
 *   node now asks for), which also re-broadcasts one the node dropped.
 * - **Recovered.** A broadcast the node refuses for its nonce (another process used the key, or a
 *   refused transaction left a gap) re-reads the nonce and signs again. A transaction whose nonce
 *   was taken by another one of the same key (never mined itself) is sent again with a new nonce.
 *   A reverted transaction rejects its `wait()` with `TxReverted`: its nonce is spent, nothing else
 *   needs mending.
 *
 * Receipts are found by polling: one `eth_getTransactionCount(latest)` per poll tells which nonces
 * are mined, and only those transactions' receipts are then asked for.
 */
import { keccak256, type Provider, type Signer, type TransactionReceipt, type TransactionRequest } from "ethers";
import { rawRpc } from "./rpc.js";

/**
 * Gas caps for the market's bounded-cost calls (none loops over bids or agreements): about 2.5×
 * what they were measured to use (bench/results/gas.json), so a cap only limits a failing call. A
 * fixed cap also lets a transaction go out before the one it depends on is mined (an estimate
 * would see the state without it).
 */
export const GAS_LIMITS = {
  bid: 250_000n,
  report: 400_000n,
  request: 450_000n,
  close: 250_000n,
  approve: 120_000n,
  settle: 300_000n,
  verdict: 400_000n,
  /** A court step with bounded work: stake, commit, reveal, appeal, claim. */
  court: 400_000n,
  /** Drawing a panel: up to four draws per seat of the largest sampled round. */
  draw: 2_000_000n,
  /** Counting a round, which may close the case (the market pays out, the registry slashes). */
  tally: 1_000_000n,
  transfer: 120_000n,
  ether: 21_000n,
} as const;

/** The transaction was mined and reverted; its nonce is spent. */
export class TxReverted extends Error {
  readonly code = "CALL_EXCEPTION";
  constructor(
    readonly receipt: TransactionReceipt,
    readonly label: string,
  ) {
    super(`${label} reverted in transaction ${receipt.hash} (block ${receipt.blockNumber})`);
  }
}

/** The sender gave up on a transaction (it kept being displaced, or the sender was closed). */
export class TxAbandoned extends Error {
  readonly code = "TX_ABANDONED";
}

export interface SenderOptions {
  /** How often receipts are looked for, in ms (default 250). */
  pollMs?: number;
  /**
   * How long a transaction may stay unmined before it is replaced with a higher fee, in ms. A
   * number, or a function called each time (so it can follow the measured block interval).
   * Default: 4 block intervals as measured by the sender, at least 6 s.
   */
  stuckAfterMs?: number | (() => number);
  /** Times a displaced transaction is sent again with a new nonce before it is given up (default 3). */
  maxResends?: number;
  /** Fees are read at most this often, in ms (default 1000). */
  feeTtlMs?: number;
  log?: (line: string) => void;
}

/** A broadcast transaction. */
export interface SentTx {
  nonce: number;
  /** The hash of the latest version broadcast (a replacement has a new one). */
  readonly hash: string;
  /** Every hash this transaction was broadcast under. */
  readonly hashes: readonly string[];
  /** The receipt of whichever version was mined; rejects with TxReverted or TxAbandoned. */
  wait(): Promise<TransactionReceipt>;
}

type Fees = { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } | { gasPrice: bigint };

interface Tracked extends SentTx {
  label: string;
  request: TransactionRequest;
  gasLimit: bigint;
  fees: Fees;
  hashes: string[];
  hash: string;
  sentAt: number;
  firstSentAt: number;
  resends: number;
  resolve(receipt: TransactionReceipt): void;
  reject(error: Error): void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Errors by which a node says a nonce is already used (the wording differs between nodes). */
const NONCE_USED = /nonce too low|nonce has already been used|already known|replacement transaction underpriced|replacement fee too low|NONCE_EXPIRED|REPLACEMENT_UNDERPRICED|known transaction|nonce.*(lower|less) than/i;
/** Errors by which a node says the fee is below what a block now asks. */
const FEE_LOW = /less than (the )?block base fee|fee cap less than|max fee per gas less than|transaction underpriced|gas price too low|FeeCapTooLow/i;
/** Errors by which a node says a nonce is ahead of the account (a gap before it). */
const NONCE_GAP = /nonce too high|can't be queued|gapped|nonce gap|higher than the next/i;

export class Sender {
  readonly address: string;
  private readonly provider: Provider;
  private next: number | undefined;
  private readonly pending = new Map<number, Tracked>();
  private queue: Promise<unknown> = Promise.resolve();
  private fees: { value: Fees; at: number } | undefined;
  private chainId: bigint | undefined;
  private monitor: Promise<void> | undefined;
  private monitoring = false;
  private closed = false;
  /** Recent gaps between blocks, to judge when a transaction is stuck. */
  private lastBlock: { number: number; at: number } | undefined;
  private blockIntervalMs = 2000;
  private inclusion = 0;
  private readonly o: Required<Omit<SenderOptions, "stuckAfterMs">> & Pick<SenderOptions, "stuckAfterMs">;

  constructor(
    private readonly signer: Signer & { address: string },
    options: SenderOptions = {},
  ) {
    if (!signer.provider) throw new Error("the sender's signer has no provider");
    this.provider = signer.provider;
    this.address = signer.address;
    this.o = { pollMs: 250, maxResends: 3, feeTtlMs: 1000, log: () => {}, ...options };
  }

  /** The measured time between blocks, in ms (an automining chain mines in a few ms). */
  get measuredBlockIntervalMs(): number {
    return this.blockIntervalMs;
  }

  /** How long this account's transactions have been taking from first broadcast to receipt (moving average, ms). */
  get inclusionMs(): number {
    return this.inclusion;
  }

  /** Transactions broadcast and not yet mined. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Signs and broadcasts `tx` with the next nonce; resolves once it is broadcast. Without
   * `gasLimit` the gas is estimated first, so a call the contract would refuse fails here and costs
   * nothing.
   */
  send(tx: TransactionRequest, options: { gasLimit?: bigint; label?: string } = {}): Promise<SentTx> {
    if (this.closed) return Promise.reject(new TxAbandoned("the sender is closed"));
    const label = options.label ?? describe(tx);
    const run = async (): Promise<SentTx> => {
      const gasLimit = options.gasLimit ?? (await this.provider.estimateGas({ ...tx, from: this.address }));
      const tracked = this.track(tx, gasLimit, label, await this.currentFees());
      await this.broadcastNew(tracked);
      return tracked;
    };
    // Nonces are handed out in call order: one broadcast at a time per account.
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * Sends several transactions with consecutive nonces in one JSON-RPC batch (one round trip for a
   * burst: a tick's bids). Resolves per transaction, in order: a SentTx, or the error that kept it
   * out. Those the node refused are sent again one by one, with the nonce read anew; a signer
   * without a local key sends them one by one.
   */
  sendBatch(items: { tx: TransactionRequest; gasLimit: bigint; label?: string }[]): Promise<(SentTx | Error)[]> {
    if (this.closed) return Promise.reject(new TxAbandoned("the sender is closed"));
    const run = async (): Promise<(SentTx | Error)[]> => {
      const fees = await this.currentFees();
      const tracked = items.map((item) => this.track(item.tx, item.gasLimit, item.label ?? describe(item.tx), fees));
      if (!("signingKey" in this.signer) || items.length < 2) {
        const out: (SentTx | Error)[] = [];
        for (const t of tracked) out.push(await this.broadcastNew(t).then(() => t as SentTx, (e: unknown) => asError(e)));
        return out;
      }
      this.chainId ??= (await this.provider.getNetwork()).chainId;
      const first = await this.nextNonce();
      const raws: string[] = [];
      for (const [i, t] of tracked.entries()) {
        const raw = await this.signer.signTransaction(this.populate(t, first + i, fees));
        this.recordSigned(t, first + i, fees, keccak256(raw));
        raws.push(raw);
      }
      const answers = await rawBatch(this.provider, raws);
      const out: (SentTx | Error)[] = [];
      const again: number[] = [];
      for (const [i, t] of tracked.entries()) {
        const error = answers[i];
        if (error === undefined || /already known|known transaction/i.test(error)) {
          this.pending.set(t.nonce, t);
          out[i] = t;
        } else if (/revert/i.test(error)) {
          // An automining node mined it and reports the revert: final, its nonce is spent.
          out[i] = Object.assign(new Error(`${t.label}: ${error}`), { code: "CALL_EXCEPTION" });
        } else {
          t.hashes.length = 0;
          again.push(i);
        }
      }
      // The nonce after the batch: what the chain counts, above anything still tracked.
      const chainNext = await this.provider.getTransactionCount(this.address, "pending");
      this.next = Math.max(chainNext, this.lowestFree(chainNext));
      if (out.length > 0) this.watch();
      for (const i of again) {
        out[i] = await this.broadcastNew(tracked[i]!).then(() => tracked[i]! as SentTx, (e: unknown) => asError(e));
      }
      return out;
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** `send` and then the receipt. */
  async sendAndWait(tx: TransactionRequest, options: { gasLimit?: bigint; label?: string } = {}): Promise<TransactionReceipt> {
    return (await this.send(tx, options)).wait();
  }

  private track(request: TransactionRequest, gasLimit: bigint, label: string, fees: Fees): Tracked {
    let resolve!: (r: TransactionReceipt) => void;
    let reject!: (e: Error) => void;
    const receipt = new Promise<TransactionReceipt>((res, rej) => ((resolve = res), (reject = rej)));
    receipt.catch(() => {}); // a caller that never waits must not crash the process
    return {
      label, request, gasLimit, fees, hashes: [], hash: "", nonce: -1, sentAt: 0, firstSentAt: 0, resends: 0,
      resolve, reject, wait: () => receipt,
    };
  }

  private populate(t: Tracked, nonce: number, fees: Fees): TransactionRequest {
    return {
      ...t.request, from: this.address, nonce, gasLimit: t.gasLimit, chainId: this.chainId, ...fees,
      ...("gasPrice" in fees ? { type: 0 } : { type: 2 }),
    };
  }

  private recordSigned(t: Tracked, nonce: number, fees: Fees, hash: string): void {
    t.nonce = nonce;
    t.fees = fees;
    t.sentAt = Date.now();
    if (t.hashes.length === 0) t.firstSentAt = t.sentAt;
    t.hashes.push(hash);
    t.hash = hash;
  }

  /** Stops watching; transactions still pending reject with TxAbandoned. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.pending.values()) t.reject(new TxAbandoned(`${t.label}: the sender closed before it was mined`));
    this.pending.clear();
    await this.monitor;
  }

  /** Assigns the next nonce and broadcasts, recovering from a stale nonce by reading it again. */
  private async broadcastNew(t: Tracked): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const nonce = await this.nextNonce();
      try {
        await this.broadcast(t, nonce, t.fees);
        this.next = nonce + 1;
        this.pending.set(nonce, t);
        this.watch();
        return;
      } catch (error) {
        const message = errorText(error);
        // Whether the failed transaction used its nonce (an automining node mines a reverting
        // transaction and then reports the revert) or not is read from the chain.
        const chainNext = await this.provider.getTransactionCount(this.address, "pending");
        if (NONCE_USED.test(message) && attempt < 5) {
          this.next = Math.max(chainNext, nonce + 1);
          continue;
        }
        if (NONCE_GAP.test(message) && attempt < 5) {
          this.next = chainNext;
          continue;
        }
        if (FEE_LOW.test(message) && !NONCE_USED.test(message) && attempt < 5) {
          t.fees = bumped(t.fees, await this.currentFees(true));
          continue;
        }
        this.next = Math.max(chainNext, this.lowestFree(chainNext));
        throw error;
      }
    }
  }

  private lowestFree(from: number): number {
    let n = from;
    while (this.pending.has(n)) n++;
    return n;
  }

  private async nextNonce(): Promise<number> {
    if (this.next === undefined) {
      this.next = await this.provider.getTransactionCount(this.address, "pending");
    }
    return this.next;
  }

  private async broadcast(t: Tracked, nonce: number, fees: Fees): Promise<void> {
    this.chainId ??= (await this.provider.getNetwork()).chainId;
    const populated = this.populate(t, nonce, fees);
    if (!("signingKey" in this.signer)) {
      // A signer that holds no key here (a node's unlocked account): the node signs and sends.
      const response = await this.signer.sendTransaction(populated);
      this.recordSigned(t, nonce, fees, response.hash);
      return;
    }
    const raw = await this.signer.signTransaction(populated);
    // A signed transaction's hash is the hash of its bytes.
    this.recordSigned(t, nonce, fees, keccak256(raw));
    try {
      await sendRaw(this.provider, raw);
    } catch (error) {
      // The node knows it already (a retried broadcast): it is out there.
      if (/already known|known transaction/i.test(errorText(error))) return;
      t.hashes.pop();
      t.hash = t.hashes.at(-1) ?? "";
      throw error;
    }
  }

  private async currentFees(fresh = false): Promise<Fees> {
    if (!fresh && this.fees && Date.now() - this.fees.at < this.o.feeTtlMs) return this.fees.value;
    const data = await this.provider.getFeeData();
    let value: Fees;
    if (data.maxFeePerGas !== null && data.maxPriorityFeePerGas !== null) {
      value = { maxFeePerGas: data.maxFeePerGas, maxPriorityFeePerGas: data.maxPriorityFeePerGas };
    } else if (data.gasPrice !== null) {
      value = { gasPrice: data.gasPrice };
    } else {
      throw new Error("the RPC gave no fee data");
    }
    this.fees = { value, at: Date.now() };
    return value;
  }

  private watch(): void {
    if (this.monitoring) return;
    this.monitoring = true;
    this.monitor = (async () => {
      try {
        // The first look comes at once, as viem's receipt wait does: a node that mines on demand, or
        // a rollup's sequencer, has the receipt by the time the broadcast is answered.
        let pause = 0;
        while (!this.closed && this.pending.size > 0) {
          await sleep(pause);
          pause = this.o.pollMs;
          try {
            await this.poll();
          } catch (error) {
            this.o.log(`sender ${this.address}: ${errorText(error).split("\n")[0]} (will look again)`);
          }
        }
      } finally {
        // Set in the same turn as the loop's last check: a send after it starts a new monitor.
        this.monitoring = false;
      }
    })();
  }

  private stuckAfter(): number {
    const s = this.o.stuckAfterMs;
    if (typeof s === "function") return s();
    if (typeof s === "number") return s;
    return Math.max(6000, 4 * this.blockIntervalMs);
  }

  private async poll(): Promise<void> {
    const [mined, head] = await Promise.all([
      this.provider.getTransactionCount(this.address, "latest"),
      this.provider.getBlockNumber(),
    ]);
    this.observeBlock(head);
    for (const t of [...this.pending.values()].sort((a, b) => a.nonce - b.nonce)) {
      if (t.nonce < mined) {
        await this.settle(t);
      } else if (Date.now() - t.sentAt > this.stuckAfter()) {
        await this.replace(t);
      }
    }
  }

  private observeBlock(head: number): void {
    const now = Date.now();
    if (this.lastBlock && head > this.lastBlock.number) {
      const gap = (now - this.lastBlock.at) / (head - this.lastBlock.number);
      this.blockIntervalMs = 0.8 * this.blockIntervalMs + 0.2 * gap;
    }
    if (!this.lastBlock || head !== this.lastBlock.number) this.lastBlock = { number: head, at: now };
  }

  /** The nonce is mined: by one of our versions (its receipt), or by another transaction of this key. */
  private async settle(t: Tracked): Promise<void> {
    for (const hash of [...t.hashes].reverse()) {
      const receipt = await this.provider.getTransactionReceipt(hash);
      if (!receipt) continue;
      this.pending.delete(t.nonce);
      const took = Date.now() - t.firstSentAt;
      this.inclusion = this.inclusion === 0 ? took : 0.8 * this.inclusion + 0.2 * took;
      if (receipt.status === 1) t.resolve(receipt);
      else t.reject(new TxReverted(receipt, t.label));
      return;
    }
    // Receipts can lag the nonce for a moment on some nodes; give them one poll interval more.
    if (Date.now() - t.sentAt < 2 * this.o.pollMs) return;
    this.pending.delete(t.nonce);
    if (t.resends >= this.o.maxResends) {
      t.reject(new TxAbandoned(`${t.label}: nonce ${t.nonce} was taken by another transaction of ${this.address}, ${t.resends} times`));
      return;
    }
    t.resends++;
    this.o.log(`sender ${this.address}: ${t.label} was displaced at nonce ${t.nonce}; sending it again`);
    // Through the queue, so it takes the next nonce in turn.
    t.hashes.length = 0;
    const resend = this.queue.then(() => this.broadcastNew(t));
    this.queue = resend.catch((error: unknown) => t.reject(error instanceof Error ? error : new Error(String(error))));
  }

  /** Signs the transaction again with the same nonce and a higher fee. */
  private async replace(t: Tracked): Promise<void> {
    const fresh = await this.currentFees(true);
    const fees = bumped(t.fees, fresh);
    try {
      await this.broadcast(t, t.nonce, fees);
      this.o.log(`sender ${this.address}: ${t.label} (nonce ${t.nonce}) unmined after ${this.stuckAfter()} ms; replaced with a higher fee (${t.hash})`);
    } catch (error) {
      const message = errorText(error);
      // Mined meanwhile, or the node still holds a version it prefers: the next poll sees which.
      if (NONCE_USED.test(message)) {
        t.sentAt = Date.now();
        return;
      }
      // Still below what blocks ask: the next poll bumps again from the fees just tried.
      if (FEE_LOW.test(message)) {
        t.fees = fees;
        return;
      }
      throw error;
    }
  }
}

/**
 * Broadcasts one raw transaction with a bare `eth_sendRawTransaction`. ethers' own
 * `broadcastTransaction` also reads the block number and recovers the sender's public key from
 * the signature to build a response object nobody here reads: several milliseconds of CPU a send.
 */
async function sendRaw(provider: Provider, raw: string): Promise<void> {
  const send = rawRpc(provider);
  if (send) await send("eth_sendRawTransaction", [raw]);
  else await provider.broadcastTransaction(raw);
}

/** Broadcasts raw transactions in one JSON-RPC batch, in order; per transaction the node's error, or undefined. */
async function rawBatch(provider: Provider, raws: string[]): Promise<(string | undefined)[]> {
  const rpc = provider as unknown as { _send(payload: { method: string; params: unknown[]; id: number; jsonrpc: "2.0" }[]): Promise<{ id: number; result?: unknown; error?: { message?: string } }[]> };
  const answers = await rpc._send(raws.map((raw, i) => ({ method: "eth_sendRawTransaction", params: [raw], id: i + 1, jsonrpc: "2.0" as const })));
  const byId = new Map(answers.map((a) => [a.id, a]));
  return raws.map((_, i) => {
    const a = byId.get(i + 1);
    if (!a) return "no answer";
    return a.error ? (a.error.message ?? "refused") : undefined;
  });
}

const asError = (e: unknown) => (e instanceof Error ? e : new Error(String(e)));

/** Fees at least 25% above `old` on every field (nodes want ≥ 10%), and at least `fresh`. */
export function bumped(old: Fees, fresh: Fees): Fees {
  const up = (v: bigint) => (v * 125n) / 100n + 1n;
  const max = (a: bigint, b: bigint) => (a > b ? a : b);
  if ("gasPrice" in old) {
    const current = "gasPrice" in fresh ? fresh.gasPrice : fresh.maxFeePerGas;
    return { gasPrice: max(up(old.gasPrice), current) };
  }
  const freshTip = "gasPrice" in fresh ? fresh.gasPrice : fresh.maxPriorityFeePerGas;
  const freshMax = "gasPrice" in fresh ? fresh.gasPrice : fresh.maxFeePerGas;
  const tip = max(up(old.maxPriorityFeePerGas), freshTip);
  return { maxPriorityFeePerGas: tip, maxFeePerGas: max(max(up(old.maxFeePerGas), freshMax), tip) };
}

function describe(tx: TransactionRequest): string {
  const selector = typeof tx.data === "string" && tx.data.length >= 10 ? tx.data.slice(0, 10) : "transfer";
  return `transaction ${selector} to ${String(tx.to)}`;
}

function errorText(error: unknown): string {
  const e = error as { shortMessage?: string; message?: string; info?: { error?: { message?: string } }; error?: { message?: string } };
  return [e?.shortMessage, e?.info?.error?.message, e?.error?.message, e?.message].filter(Boolean).join(" | ") || String(error);
}

const senders = new Map<string, Sender>();

/**
 * The one sender of an account in this process (per RPC provider): every flow that signs with the
 * key shares its nonce.
 */
export function senderFor(signer: Signer & { address: string }, options: SenderOptions = {}): Sender {
  const key = `${signer.address.toLowerCase()}@${providerId(signer.provider)}`;
  let sender = senders.get(key);
  if (!sender) {
    sender = new Sender(signer, options);
    senders.set(key, sender);
  }
  return sender;
}

const providerIds = new WeakMap<object, number>();
let nextProviderId = 1;
function providerId(provider: unknown): number {
  if (!provider || typeof provider !== "object") return 0;
  let id = providerIds.get(provider);
  if (id === undefined) {
    id = nextProviderId++;
    providerIds.set(provider, id);
  }
  return id;
}
