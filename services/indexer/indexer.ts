import { toQuantity } from "ethers";
import type { SchemaModel } from "../common/entity-model.js";
import { openIndexDb, readCheckpoint, readMeta, writeMeta, type Checkpoint, type Db } from "./database.js";
import { EntityStore } from "./entity-store.js";
import { loadSubgraphManifest, type SubgraphManifest } from "./mapping/manifest.js";
import { SubgraphRunner, type BlockInput, type RawLog } from "./mapping/subgraph-runner.js";
import type { BlockData, ReceiptData, TransactionData } from "./mapping/ethereum-trigger.js";
import type { ChainReader } from "./mapping/host-exports.js";

/** A JSON-RPC endpoint (ethers' JsonRpcProvider is one); raw calls skip ethers' short-lived response cache. */
export interface JsonRpc {
  send(method: string, params: unknown[]): Promise<unknown>;
}

/** The market's contract addresses, as a deployment file names them. */
export interface MarketAddresses {
  registry: string;
  offers: string;
  market: string;
  /** The verifier court; without it disputes are not indexed (with a warning). */
  court?: string;
  /** The model-update board; without it model updates are not indexed (with a warning). */
  models?: string;
  [name: string]: string | undefined;
}

/** Deployment-file keys of the market's data sources (other data sources are named as in the manifest). */
const ADDRESS_KEYS: Record<string, string> = {
  registry: "ProviderRegistry",
  offers: "OfferBook",
  market: "TroupeMarket",
  court: "VerifierCourt",
  models: "ModelUpdates",
};

export interface IndexerOptions {
  provider: JsonRpc;
  /** Contract addresses replacing the manifest's, by deployment key (registry, offers, market, court, models) or data source name. */
  addresses?: Record<string, string | undefined>;
  /** The first block to read (default: the manifest's lowest startBlock). */
  startBlock?: number;
  dbPath: string;
  schema: SchemaModel;
  /** The compiled subgraph (default: subgraph/build/subgraph.yaml). */
  manifest?: SubgraphManifest;
  /** Blocks to stay behind the head (0: follow the head and rely on rollbacks). */
  confirmations?: number;
  /** The most blocks one getLogs call spans (halved when the endpoint refuses a range). */
  maxBlockRange?: number;
  /** How many blocks back a reorg may reach before the indexer refuses to follow it. */
  reorgWindow?: number;
  /** Synchronous chain reads for mappings that call contracts (ethereum.call). */
  chain?: ChainReader;
  /** The steps one handler may take before it is stopped and recorded as failed (wasm-fuel.ts). */
  handlerSteps?: number;
  warn?: (message: string) => void;
  log?: (message: string) => void;
}

export interface SyncResult {
  checkpoint: Checkpoint | undefined;
  applied: number;
  rolledBack: number;
}

/** The deployment a database was built for; a restart against other contracts is refused. */
interface DeploymentMeta {
  addresses: Record<string, string>;
  startBlock: number;
}

interface RpcBlock extends BlockData {
  parentHash: string;
  transactions?: (TransactionData | string)[];
}

/** Raised when the chain changed under a batch being read; the next round sees the reorg. */
class ChainMoved extends Error {}

/** The data sources of the manifest that `addresses` gives no address for (they are left out). */
export function unaddressedSources(manifest: SubgraphManifest, addresses: Record<string, string | undefined> | undefined): string[] {
  if (!addresses) return [];
  const named = new Set(Object.entries(addresses).filter(([, v]) => v).map(([k]) => ADDRESS_KEYS[k] ?? k));
  return manifest.dataSources.filter((d) => !named.has(d.name)).map((d) => d.name);
}

/**
 * The manifest with the configured addresses and start block applied. With `addresses`, a data
 * source they name no address for is left out (its checked-in address belongs to no deployment).
 */
export function configureManifest(manifest: SubgraphManifest, addresses: Record<string, string | undefined> | undefined, startBlock: number | undefined): SubgraphManifest {
  const byName = new Map<string, string>();
  for (const [k, v] of Object.entries(addresses ?? {})) if (v) byName.set(ADDRESS_KEYS[k] ?? k, v.toLowerCase());
  const left = new Set(unaddressedSources(manifest, addresses));
  return {
    ...manifest,
    dataSources: manifest.dataSources.filter((d) => !left.has(d.name)).map((d) => ({
      ...d,
      address: byName.get(d.name) ?? d.address,
      startBlock: startBlock ?? d.startBlock,
    })),
  };
}

/**
 * Follows the subgraph's contracts on a JSON-RPC chain into SQLite, running the compiled
 * mappings (subgraph/build) on every event. Each round it checks that the last applied block is
 * still on the chain (reverting what a reorg removed), then reads new logs and block headers in
 * bounded ranges up to `head - confirmations` and applies each range in one transaction with its
 * checkpoint, so a crash at any point resumes from a consistent state.
 */
export class Indexer {
  readonly db: Db;
  readonly store: EntityStore;
  runner: SubgraphRunner;
  private readonly manifest: SubgraphManifest;
  private readonly warn: (message: string) => void;
  private readonly log: (message: string) => void;
  private readonly startBlock: number;
  private range: number;

  constructor(private readonly options: IndexerOptions) {
    const full = options.manifest ?? loadSubgraphManifest();
    const manifest = configureManifest(full, options.addresses, options.startBlock);
    this.db = openIndexDb(options.dbPath, options.schema);
    const historyBlocks = manifest.prune === "never" ? undefined : manifest.prune === "auto" ? 10_000 : manifest.prune;
    this.store = new EntityStore(this.db, options.schema, historyBlocks);
    this.warn = options.warn ?? ((m) => console.warn(`indexer: ${m}`));
    this.log = options.log ?? (() => {});
    for (const name of unaddressedSources(full, options.addresses)) {
      const key = Object.entries(ADDRESS_KEYS).find(([, n]) => n === name)?.[0] ?? name;
      this.warn(`no address for data source ${name} (deployment key "${key}"): its events are not indexed`);
    }
    this.manifest = manifest;
    this.runner = this.newRunner();
    this.startBlock = this.runner.startBlock();
    this.range = options.maxBlockRange ?? 2000;
    this.checkDeployment(manifest);
  }

  /** A runner over the data sources in the database (the manifest's and those created by mappings). */
  private newRunner(): SubgraphRunner {
    return new SubgraphRunner(this.manifest, this.store, this.options.schema, { warn: this.warn, chain: this.options.chain, handlerSteps: this.options.handlerSteps });
  }

  private checkDeployment(manifest: SubgraphManifest): void {
    const wanted: DeploymentMeta = {
      addresses: Object.fromEntries(manifest.dataSources.map((d) => [d.name, d.address!])),
      startBlock: this.startBlock,
    };
    const stored = readMeta<DeploymentMeta>(this.db, "deployment");
    if (!stored) writeMeta(this.db, "deployment", wanted);
    else if (JSON.stringify(stored) !== JSON.stringify(wanted)) {
      throw new Error(`the database ${this.options.dbPath} indexes another deployment (${JSON.stringify(stored)}); use a new DB_PATH`);
    }
  }

  checkpoint(): Checkpoint | undefined {
    return readCheckpoint(this.db);
  }

  private async block(tag: number | "latest", full = false): Promise<RpcBlock | null> {
    const raw = (await this.options.provider.send("eth_getBlockByNumber", [tag === "latest" ? tag : toQuantity(tag), full])) as
      | (Omit<RpcBlock, "number" | "timestamp"> & { number: string; timestamp: string })
      | null;
    if (!raw) return null;
    return { ...raw, number: Number(raw.number), timestamp: Number(raw.timestamp) };
  }

  /** Reverts blocks a reorg removed; returns how many applied blocks were undone. */
  private async handleReorg(): Promise<number> {
    const cp = this.checkpoint();
    if (!cp) return 0;
    const onChain = await this.block(cp.number);
    if (onChain?.hash === cp.hash) return 0;
    const window = this.options.reorgWindow ?? 256;
    const known = this.db
      .prepare("SELECT number, hash, parentHash, timestamp FROM _blocks WHERE number < ? ORDER BY number DESC LIMIT ?")
      .all(cp.number, window) as Checkpoint[];
    for (const candidate of known) {
      const b = await this.block(candidate.number);
      if (b?.hash === candidate.hash) {
        const undone = this.store.revertTo(candidate);
        this.runner = this.newRunner(); // data sources created in the reverted blocks are gone
        this.warn(`reorg: block ${cp.number} (${cp.hash}) left the chain; reverted ${undone} block(s) to ${candidate.number}`);
        return undone;
      }
    }
    if (known.length === 0 || known.at(-1)!.number <= this.startBlock) {
      const undone = this.store.revertTo(null);
      this.runner = this.newRunner();
      this.warn(`reorg: no indexed block is on the chain any more; reverted ${undone} block(s) to the start`);
      return undone;
    }
    throw new Error(`reorg deeper than ${window} blocks at block ${cp.number}: re-index into a new database`);
  }

  private async fetchLogs(from: number, to: number): Promise<RawLog[]> {
    const raw = (await this.options.provider.send("eth_getLogs", [
      { address: this.runner.addresses(), fromBlock: toQuantity(from), toBlock: toQuantity(to) },
    ])) as (Omit<RawLog, "blockNumber" | "index" | "transactionIndex"> & { blockNumber: string; logIndex: string; transactionIndex: string; removed?: boolean })[];
    return raw
      .filter((l) => !l.removed)
      .map((l) => ({ ...l, blockNumber: Number(l.blockNumber), index: Number(l.logIndex), transactionIndex: Number(l.transactionIndex) }));
  }

  /** Reads blocks `from..to` (every header, full blocks where there are logs), checking they form one chain after `parent`. */
  private async readRange(from: number, to: number, parent: Checkpoint | undefined): Promise<BlockInput[]> {
    const logs = await this.fetchLogs(from, to);
    const byBlock = new Map<number, RawLog[]>();
    for (const log of logs) {
      const list = byBlock.get(log.blockNumber) ?? [];
      list.push(log);
      byBlock.set(log.blockNumber, list);
    }
    const numbers = Array.from({ length: to - from + 1 }, (_, i) => from + i);
    const headers = await Promise.all(numbers.map((n) => this.block(n, byBlock.has(n))));
    const out: BlockInput[] = [];
    let previous = parent && parent.number === from - 1 ? parent.hash : undefined;
    for (const header of headers) {
      if (!header?.hash) throw new ChainMoved(`block ${header?.number ?? "?"} is gone`);
      if (previous !== undefined && header.parentHash !== previous) throw new ChainMoved(`block ${header.number} does not follow block ${header.number - 1}`);
      previous = header.hash;
      const list = (byBlock.get(header.number) ?? []).sort((a, b) => a.index - b.index);
      if (list.some((l) => l.blockHash !== header.hash)) throw new ChainMoved(`logs of block ${header.number} are from another fork`);
      const transactions = new Map<string, TransactionData>();
      for (const tx of header.transactions ?? []) if (typeof tx === "object") transactions.set(tx.hash, tx);
      const block: BlockData = { ...header };
      delete (block as { transactions?: unknown }).transactions;
      let receipts: Map<string, ReceiptData> | undefined;
      const wanted = [...new Set(list.filter((l) => this.runner.wantsReceipt(l)).map((l) => l.transactionHash))];
      if (wanted.length) {
        receipts = new Map();
        for (const hash of wanted) {
          const r = (await this.options.provider.send("eth_getTransactionReceipt", [hash])) as ReceiptData | null;
          if (!r) throw new ChainMoved(`the receipt of ${hash} is gone`);
          receipts.set(hash, r);
        }
      }
      out.push({ block, logs: list, transactions, receipts });
    }
    const stillLast = await this.block(to);
    if (stillLast?.hash !== headers.at(-1)!.hash) throw new ChainMoved(`block ${to} changed while reading`);
    return out;
  }

  /** One round: handle a reorg, then catch up to `head - confirmations`. */
  async syncOnce(): Promise<SyncResult> {
    const rolledBack = await this.handleReorg();
    const latest = await this.block("latest");
    if (!latest) throw new Error("the endpoint returned no latest block");
    const head = latest.number;
    const target = head - (this.options.confirmations ?? 0);
    let applied = 0;
    let cp = this.checkpoint();
    let next = cp ? cp.number + 1 : this.startBlock;
    while (next <= target) {
      const to = Math.min(next + this.range - 1, target);
      let blocks: BlockInput[];
      try {
        blocks = await this.readRange(next, to, cp);
      } catch (error) {
        if (error instanceof ChainMoved) {
          this.log(`chain moved while reading ${next}..${to} (${error.message}); retrying next round`);
          break;
        }
        if (to > next && this.range > 1) {
          this.range = Math.max(1, Math.floor(this.range / 2));
          this.warn(`reading ${next}..${to} failed (${(error as Error).message}); trying ranges of ${this.range} blocks`);
          continue;
        }
        throw error;
      }
      const result = this.apply(blocks);
      applied += result.applied;
      const last = result.last;
      cp = { number: last.number, hash: last.hash, timestamp: last.timestamp, parentHash: last.parentHash };
      this.log(`indexed blocks ${next}..${last.number} (${blocks.reduce((n, b) => n + b.logs.length, 0)} logs read)`);
      next = last.number + 1;
    }
    return { checkpoint: this.checkpoint(), applied, rolledBack };
  }

  /**
   * Applies blocks through the mappings and commits them with their checkpoint; returns the
   * handlers run and the last block applied. A block whose handlers created data sources ends the
   * batch: the blocks after it are read again with the new contracts' logs.
   */
  apply(blocks: BlockInput[]): { applied: number; last: BlockData } {
    let applied = 0;
    let last = blocks[0]!.block;
    try {
      for (const input of blocks) {
        last = input.block;
        if (input.logs.length === 0 && !this.runner.needsEveryBlock()) {
          const b = input.block;
          this.store.noteBlock({ number: b.number, hash: b.hash, parentHash: b.parentHash, timestamp: b.timestamp });
          continue;
        }
        applied += this.runner.processBlock(input);
        if (this.runner.createdSources()) break;
      }
      this.store.flush({ number: last.number, hash: last.hash, parentHash: last.parentHash, timestamp: last.timestamp }, () =>
        this.runner.persist(this.db),
      );
    } catch (error) {
      this.store.discard();
      this.runner.discard();
      throw error;
    }
    return { applied, last };
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
