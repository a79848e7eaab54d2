import { zeroPadValue, type Provider } from "ethers";
import { LogCursor, type CursorState, type Reorg } from "../../contracts/client/log-cursor.js";
import type { TroupeMarket } from "../../types/ethers-contracts/index.js";
import { readJsonFile, writeJsonDurable } from "./atomic-file.js";

/** An AgreementCreated event awarded to the watched provider. */
export interface AgreementCreatedLog {
  agreementId: bigint;
  consumer: string;
  offerId: bigint;
  maxFuel: bigint;
  deadline: bigint;
  blockNumber: number;
}

export interface WatcherOptions {
  market: TroupeMarket;
  provider: Provider;
  /** The market's address. */
  marketAddress: string;
  /** The provider whose agreements to watch. */
  providerAddress: string;
  /** The first block to scan when there is no checkpoint yet. */
  startBlock: number;
  /** Where the last fully handled block is kept across restarts. */
  checkpointFile: string;
  /** The widest block range one getLogs asks for. */
  maxRange: number;
  /** Blocks to stay behind the head (0 on a local chain). */
  confirmations: number;
}

/**
 * Finds AgreementCreated events for one provider by polling getLogs in bounded ranges, up to
 * `confirmations` blocks behind the head (contracts/client/log-cursor.ts). Progress, with the
 * hashes of recently read blocks, is checkpointed on disk only after a range's events were all
 * handled, so after a crash or a long outage the watcher resumes where it stopped, and after a
 * reorganisation deeper than the confirmation depth it reads the replaced blocks again (handling
 * an agreement twice is a no-op; one the reorganisation removed is found not Awarded before it
 * runs or is reported).
 */
export class ChainWatcher {
  private readonly cursor: LogCursor;
  /** Called when a reorganisation deeper than the confirmation depth was found. */
  onReorg: (reorg: Reorg) => void = () => {};

  constructor(private readonly opts: WatcherOptions) {
    const file = opts.checkpointFile;
    this.cursor = new LogCursor({
      provider: opts.provider,
      filter: {
        address: opts.marketAddress,
        topics: [opts.market.interface.getEvent("AgreementCreated")!.topicHash, null, zeroPadValue(opts.providerAddress, 32)],
      },
      startBlock: opts.startBlock,
      confirmations: opts.confirmations,
      maxRange: opts.maxRange,
      store: {
        load: () => {
          const saved = readJsonFile<Partial<CursorState>>(file);
          return saved?.block === undefined ? undefined : { block: saved.block, hashes: saved.hashes ?? [] };
        },
        save: (state) => writeJsonDurable(file, state),
      },
    });
  }

  /** The last block fully handled. */
  get checkpoint(): number {
    return this.cursor.block;
  }

  /**
   * Scans from the checkpoint to the confirmed head, awaiting `handle` for every event (the events
   * of one range side by side: they are different agreements) before the checkpoint moves past them.
   */
  async catchUp(handle: (event: AgreementCreatedLog) => Promise<void>): Promise<number> {
    const { market } = this.opts;
    let seen = 0;
    await this.cursor.poll(async (logs) => {
      const handled: Promise<void>[] = [];
      for (const log of logs) {
        const parsed = market.interface.parseLog(log);
        if (parsed?.name !== "AgreementCreated") continue;
        const a = parsed.args;
        handled.push(handle({
          agreementId: a.agreementId,
          consumer: a.consumer,
          offerId: a.offerId,
          maxFuel: a.maxFuel,
          deadline: a.deadline,
          blockNumber: log.blockNumber,
        }));
        seen++;
      }
      const failed = (await Promise.allSettled(handled)).find((r) => r.status === "rejected");
      if (failed) throw failed.reason;
    }, (reorg) => this.onReorg(reorg));
    return seen;
  }
}
