import type { Provider } from "ethers";
import type { TroupeMarket } from "../../types/ethers-contracts/index.js";
import { readJsonFile, writeJsonAtomic } from "./atomic-file.js";

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

interface Checkpoint {
  /** The last block whose events have all been handled. */
  block: number;
}

/**
 * Finds AgreementCreated events for one provider by polling getLogs in bounded ranges. Progress
 * is checkpointed on disk only after a range's events were all handled, so after a crash or a
 * long outage the watcher resumes where it stopped and catches up: no event is skipped.
 */
export class ChainWatcher {
  constructor(private readonly opts: WatcherOptions) {}

  /** The last block fully handled. */
  get checkpoint(): number {
    return readJsonFile<Checkpoint>(this.opts.checkpointFile)?.block ?? this.opts.startBlock - 1;
  }

  /** Scans from the checkpoint to the head, awaiting `handle` for every event in order. */
  async catchUp(handle: (event: AgreementCreatedLog) => Promise<void>): Promise<number> {
    const { market, provider, providerAddress, maxRange, confirmations } = this.opts;
    const head = (await provider.getBlockNumber()) - confirmations;
    const filter = market.filters.AgreementCreated(undefined, providerAddress);
    let seen = 0;
    for (let from = this.checkpoint + 1; from <= head; from += maxRange) {
      const to = Math.min(head, from + maxRange - 1);
      const logs = await market.queryFilter(filter, from, to);
      for (const log of logs) {
        const a = log.args;
        await handle({
          agreementId: a.agreementId,
          consumer: a.consumer,
          offerId: a.offerId,
          maxFuel: a.maxFuel,
          deadline: a.deadline,
          blockNumber: log.blockNumber,
        });
        seen++;
      }
      writeJsonAtomic(this.opts.checkpointFile, { block: to } satisfies Checkpoint);
    }
    return seen;
  }
}
