/**
 * Reads a contract's logs the way an indexer must on a real chain: in bounded block ranges, only
 * up to `confirmations` blocks behind the head, and with a memory of the hashes of the blocks it
 * has read, so a reorganisation deeper than the confirmation depth is noticed: the cursor steps
 * back to the newest block it read that is still on the chain, says so (`onReorg`), and reads the
 * replaced blocks again. Handlers must therefore be idempotent (keyed by what the log names).
 */
import type { Filter, Log, Provider } from "ethers";

/** Where a cursor stands: the last block fully handled, and the hashes of recent handled blocks. */
export interface CursorState {
  block: number;
  /** [block number, block hash] of recently handled range ends, oldest first. */
  hashes: [number, string][];
}

export interface LogCursorOptions {
  provider: Provider;
  /** Which logs: contract address(es) and optional topics. */
  filter: Pick<Filter, "address" | "topics">;
  /** The first block to read when there is no saved state. */
  startBlock: number;
  /** Blocks to stay behind the head (0: read up to the head). */
  confirmations: number;
  /** The widest block range one getLogs asks for. */
  maxRange: number;
  /** Keeps the state across restarts (default: in memory only). */
  store?: { load(): CursorState | undefined; save(state: CursorState): void | Promise<void> };
  /** How many handled range ends are remembered to find the fork point (default 256). */
  memory?: number;
  /**
   * A range that held no logs is saved at most this often (ms, default 2000); one that held logs
   * is saved at once. Reading empty blocks again after a crash costs a getLogs, not a wrong
   * result, while a save is a durable write (two fsyncs) that a new block every poll would repeat.
   */
  quietSaveMs?: number;
}

export interface Reorg {
  /** The first block that was read before and must be read again. */
  from: number;
  /** The block the cursor stood at when the reorganisation was seen. */
  was: number;
}

export class LogCursor {
  private state: CursorState;
  private savedAt = 0;

  constructor(private readonly o: LogCursorOptions) {
    this.state = o.store?.load() ?? { block: o.startBlock - 1, hashes: [] };
  }

  /** The last block fully handled. */
  get block(): number {
    return this.state.block;
  }

  /**
   * Reads from the cursor to the confirmed head, awaiting `handle` for each range's logs in
   * order; the cursor (and its store) moves only after a range is handled. Returns the reorg it
   * found, if any (`onReorg` is told before anything is read again).
   */
  async poll(handle: (logs: Log[], range: { from: number; to: number }) => Promise<void>, onReorg?: (reorg: Reorg) => Promise<void> | void): Promise<{ reorg?: Reorg; read: number }> {
    const { provider, maxRange, confirmations } = this.o;
    const latest = await provider.getBlock("latest");
    if (!latest?.hash) throw new Error("the RPC node returned no latest block");
    const last = this.state.hashes.at(-1);
    // Nothing new (the usual poll on a quiet chain): one call.
    if (last && latest.number === last[0] && latest.hash === last[1]) return { read: 0 };
    const reorg = await this.checkFork(latest);
    if (reorg) await onReorg?.(reorg);
    const head = latest.number - confirmations;
    let read = 0;
    for (let from = this.state.block + 1; from <= head; from += maxRange) {
      const to = Math.min(head, from + maxRange - 1);
      const [logs, end] = await Promise.all([
        provider.getLogs({ ...this.o.filter, fromBlock: from, toBlock: to }),
        to === latest.number ? latest : provider.getBlock(to),
      ]);
      if (!end?.hash) break; // the chain got shorter under us: the next poll sees the fork
      // Logs of a block that is no longer the one at `to` are from a fork being replaced.
      if (logs.some((l) => l.blockNumber === to && l.blockHash !== end.hash)) break;
      await handle(logs, { from, to });
      read += logs.length;
      await this.advance(to, end.hash, logs.length > 0);
    }
    return { ...(reorg ? { reorg } : {}), read };
  }

  private async advance(block: number, hash: string, handled: boolean): Promise<void> {
    const memory = this.o.memory ?? 256;
    const hashes = [...this.state.hashes, [block, hash] as [number, string]].slice(-memory);
    this.state = { block, hashes };
    if (handled || Date.now() - this.savedAt >= (this.o.quietSaveMs ?? 2000)) await this.save();
  }

  private async save(): Promise<void> {
    this.savedAt = Date.now();
    await this.o.store?.save(this.state);
  }

  /** Whether the handled blocks are still the chain's; if not, steps back to the fork point. */
  private async checkFork(latest: { number: number; hash: string | null; parentHash: string }): Promise<Reorg | undefined> {
    const { hashes } = this.state;
    const last = hashes.at(-1);
    if (!last) return undefined;
    // The common case costs no call: the head is the last block read, or its child.
    if (latest.number === last[0] && latest.hash === last[1]) return undefined;
    if (latest.number === last[0] + 1 && latest.parentHash === last[1]) return undefined;
    if (latest.number > last[0] + 1 && (await this.o.provider.getBlock(last[0]))?.hash === last[1]) return undefined;
    const was = this.state.block;
    let keep = -1;
    for (let i = hashes.length - 2; i >= 0; i--) {
      const [number, hash] = hashes[i]!;
      if ((await this.o.provider.getBlock(number))?.hash === hash) {
        keep = i;
        break;
      }
    }
    const kept = keep >= 0 ? hashes.slice(0, keep + 1) : [];
    const block = kept.at(-1)?.[0] ?? this.o.startBlock - 1;
    this.state = { block, hashes: kept };
    await this.save();
    return { from: block + 1, was };
  }
}
