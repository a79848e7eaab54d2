import { toQuantity } from "ethers";
import type { SchemaModel } from "../common/entity-model.js";
import { applyBlocks, type BlockLogs, type RawLog, type Warn } from "./apply-logs.js";
import { openIndexDb, readCheckpoint, readMeta, writeMeta, type Checkpoint, type Db } from "./database.js";
import { EntityStore } from "./entity-store.js";
import { watchedContracts, type MarketAddresses, type WatchedContract } from "./events.js";

/** A JSON-RPC endpoint (ethers' JsonRpcProvider is one); raw calls skip ethers' short-lived response cache. */
export interface JsonRpc {
  send(method: string, params: unknown[]): Promise<unknown>;
}

/** The block header fields the indexer uses, as eth_getBlockByNumber returns them. */
interface RpcBlock {
  number: number;
  hash: string;
  parentHash: string;
  timestamp: number;
}

export interface IndexerOptions {
  provider: JsonRpc;
  addresses: MarketAddresses;
  /** The first block to read (the market's deployment block). */
  startBlock: number;
  dbPath: string;
  schema: SchemaModel;
  /** Blocks to stay behind the head (0: follow the head and rely on rollbacks). */
  confirmations?: number;
  /** The most blocks one getLogs call spans (halved when the endpoint refuses a range). */
  maxBlockRange?: number;
  /** Blocks of undo history kept for rollbacks. */
  reorgWindow?: number;
  warn?: Warn;
  log?: (message: string) => void;
}

export interface SyncResult {
  /** The checkpoint after this round. */
  checkpoint: Checkpoint | undefined;
  applied: number;
  rolledBack: number;
}

/** The deployment a database was built for; a restart against other contracts is refused. */
interface DeploymentMeta {
  addresses: MarketAddresses;
  startBlock: number;
}

/** Raised when the chain changed under a batch being read; the next round sees the reorg. */
class ChainMoved extends Error {}

/**
 * Follows the market's contracts on a JSON-RPC chain into SQLite. Each round it checks that the
 * last applied block is still on the chain (rolling back what a reorg removed), then reads new
 * logs in bounded ranges up to `head - confirmations` and applies each range in one transaction
 * with its checkpoint, so a crash at any point resumes from a consistent state.
 */
export class Indexer {
  readonly db: Db;
  readonly store: EntityStore;
  private readonly contracts: Map<string, WatchedContract>;
  private readonly warn: Warn;
  private readonly log: (message: string) => void;
  private range: number;

  constructor(private readonly options: IndexerOptions) {
    this.db = openIndexDb(options.dbPath, options.schema);
    this.store = new EntityStore(this.db, options.schema, options.reorgWindow ?? 256);
    this.contracts = watchedContracts(options.addresses);
    this.warn = options.warn ?? ((m) => console.warn(`indexer: ${m}`));
    this.log = options.log ?? (() => {});
    this.range = options.maxBlockRange ?? 2000;
    this.checkDeployment();
  }

  private checkDeployment(): void {
    const wanted: DeploymentMeta = {
      addresses: {
        registry: this.options.addresses.registry.toLowerCase(),
        offers: this.options.addresses.offers.toLowerCase(),
        market: this.options.addresses.market.toLowerCase(),
      },
      startBlock: this.options.startBlock,
    };
    const stored = readMeta<DeploymentMeta>(this.db, "deployment");
    if (!stored) writeMeta(this.db, "deployment", wanted);
    else if (JSON.stringify(stored) !== JSON.stringify(wanted)) {
      throw new Error(
        `the database ${this.options.dbPath} indexes another deployment (${JSON.stringify(stored)}); use a new DB_PATH`,
      );
    }
  }

  checkpoint(): Checkpoint | undefined {
    return readCheckpoint(this.db);
  }

  private async block(tag: number | "latest"): Promise<RpcBlock | null> {
    const raw = (await this.options.provider.send("eth_getBlockByNumber", [
      tag === "latest" ? tag : toQuantity(tag),
      false,
    ])) as { number: string; hash: string; parentHash: string; timestamp: string } | null;
    if (!raw) return null;
    return { number: Number(raw.number), hash: raw.hash, parentHash: raw.parentHash, timestamp: Number(raw.timestamp) };
  }

  /** Rolls back blocks a reorg removed; returns how many applied blocks were undone. */
  private async handleReorg(): Promise<number> {
    const cp = this.checkpoint();
    if (!cp) return 0;
    const onChain = await this.block(cp.number);
    if (onChain?.hash === cp.hash) return 0;
    const known = this.db.prepare("SELECT number, hash, timestamp FROM _blocks WHERE number < ? ORDER BY number DESC").all(
      cp.number,
    ) as Checkpoint[];
    for (const candidate of known) {
      const b = await this.block(candidate.number);
      if (b?.hash === candidate.hash) {
        const undone = this.store.rollbackTo(candidate);
        this.warn(`reorg: block ${cp.number} (${cp.hash}) left the chain; rolled back ${undone} block(s) to ${candidate.number}`);
        return undone;
      }
    }
    if (known.length === 0 || known.at(-1)!.number <= this.options.startBlock) {
      // Nothing we applied survives: start over from the deployment block.
      const undone = this.store.rollbackTo(null);
      this.warn(`reorg: no applied block is on the chain any more; rolled back ${undone} block(s) to the start`);
      return undone;
    }
    throw new Error(
      `reorg deeper than the undo window (${this.options.reorgWindow ?? 256} blocks) at block ${cp.number}: re-index into a new database`,
    );
  }

  private async fetchLogs(from: number, to: number): Promise<RawLog[]> {
    const raw = (await this.options.provider.send("eth_getLogs", [
      { address: [...this.contracts.values()].map((c) => c.address), fromBlock: toQuantity(from), toBlock: toQuantity(to) },
    ])) as (Omit<RawLog, "blockNumber" | "index"> & { blockNumber: string; logIndex: string; removed?: boolean })[];
    return raw
      .filter((l) => !l.removed)
      .map((l) => ({ ...l, blockNumber: Number(l.blockNumber), index: Number(l.logIndex) }));
  }

  /** Reads blocks `from..to` and their logs, checking they all sit on one chain after `parent`. */
  private async readRange(from: number, to: number, parent: Checkpoint | undefined): Promise<{ blocks: BlockLogs[]; end: Checkpoint }> {
    const first = await this.block(from);
    if (!first) throw new ChainMoved(`block ${from} is gone`);
    if (parent && parent.hash && parent.number === from - 1 && first.parentHash !== parent.hash) {
      throw new ChainMoved(`block ${from} does not follow the checkpoint`);
    }
    const last = to === from ? first : await this.block(to);
    if (!last?.hash) throw new ChainMoved(`block ${to} is gone`);
    const logs = await this.fetchLogs(from, to);
    const byBlock = new Map<number, RawLog[]>();
    for (const log of logs) {
      const list = byBlock.get(log.blockNumber) ?? [];
      list.push(log);
      byBlock.set(log.blockNumber, list);
    }
    const blocks: BlockLogs[] = [];
    for (const [number, list] of [...byBlock].sort((a, b) => a[0] - b[0])) {
      const header = number === to ? last : number === from ? first : await this.block(number);
      if (!header?.hash) throw new ChainMoved(`block ${number} is gone`);
      if (list.some((l) => l.blockHash !== header.hash)) throw new ChainMoved(`logs of block ${number} are from another fork`);
      list.sort((a, b) => a.index - b.index);
      blocks.push({ block: { number, hash: header.hash, timestamp: header.timestamp }, logs: list });
    }
    const stillLast = await this.block(to);
    if (stillLast?.hash !== last.hash) throw new ChainMoved(`block ${to} changed while reading`);
    return { blocks, end: { number: to, hash: last.hash, timestamp: last.timestamp } };
  }

  /** One round: handle a reorg, then catch up to `head - confirmations`. */
  async syncOnce(): Promise<SyncResult> {
    const rolledBack = await this.handleReorg();
    const latest = await this.block("latest");
    if (!latest) throw new Error("the endpoint returned no latest block");
    const head = latest.number;
    const target = head - (this.options.confirmations ?? 0);
    this.log(`round: head ${head}, checkpoint ${this.checkpoint()?.number}`);
    let applied = 0;
    let cp = this.checkpoint();
    let next = cp ? cp.number + 1 : this.options.startBlock;
    while (next <= target) {
      const to = Math.min(next + this.range - 1, target);
      let read;
      try {
        read = await this.readRange(next, to, cp);
      } catch (error) {
        if (error instanceof ChainMoved) {
          this.log(`chain moved while reading ${next}..${to} (${error.message}); retrying next round`);
          break;
        }
        if (to > next && this.range > 1) {
          this.range = Math.max(1, Math.floor(this.range / 2));
          this.warn(`getLogs ${next}..${to} failed (${(error as Error).message}); trying ranges of ${this.range} blocks`);
          continue;
        }
        throw error;
      }
      try {
        applied += applyBlocks(this.store, this.contracts, read.blocks, this.warn);
        this.store.flush(read.end);
      } catch (error) {
        this.store.discard();
        throw error;
      }
      this.log(`indexed blocks ${next}..${to} (${read.blocks.reduce((n, b) => n + b.logs.length, 0)} logs)`);
      cp = read.end;
      next = to + 1;
    }
    return { checkpoint: this.checkpoint(), applied, rolledBack };
  }

  /** Polls until `signal` aborts. A failing round is logged and retried after `pollMs`. */
  async run(pollMs: number, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.syncOnce();
      } catch (error) {
        this.warn(`round failed: ${(error as Error).message}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
    }
  }

  close(): void {
    this.db.close();
  }
}
