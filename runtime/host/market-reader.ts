import type { Provider } from "ethers";
import type { TroupeMarket } from "../../types/ethers-contracts/index.js";
import type { StatusCode } from "../../contracts/client/status.js";
import { agreementMemoryMiB, type Agreement } from "./agreement.js";

/** Reads what the host needs from the market contract and its events. */
export class MarketReader {
  /** A read of the latest block under way, which concurrent callers of chainTime() share. */
  private clockRead: Promise<number> | undefined;

  constructor(
    readonly market: TroupeMarket,
    readonly provider: Provider,
    /** The market's deployment block: no event of it is older. */
    readonly startBlock: number,
    /** The widest block range one getLogs may ask for. */
    readonly maxRange: number,
  ) {}

  /** The agreement created by `event`, with the request's workload, input and limits. */
  async agreementFrom(event: {
    agreementId: bigint;
    consumer: string;
    offerId: bigint;
    maxFuel: bigint;
    deadline: bigint;
    blockNumber: number;
  }): Promise<Agreement> {
    const posted = await this.requestPosted(event.agreementId, event.blockNumber);
    return {
      agreementId: event.agreementId,
      consumer: event.consumer,
      offerId: event.offerId,
      maxFuel: event.maxFuel,
      deadline: Number(event.deadline),
      memoryMiB: agreementMemoryMiB(Number(posted.minMemoryMiB)),
      workloadHash: posted.workloadHash,
      workloadURI: posted.workloadURI,
      inputHash: posted.inputHash,
      inputURI: posted.inputURI,
      meteringVersion: Number(posted.meteringVersion),
      blockNumber: event.blockNumber,
    };
  }

  /** The RequestPosted event of request `id`, searched backwards from `beforeBlock` in bounded ranges. */
  async requestPosted(id: bigint, beforeBlock: number) {
    const filter = this.market.filters.RequestPosted(id);
    for (let to = beforeBlock; to >= this.startBlock; to -= this.maxRange) {
      const from = Math.max(this.startBlock, to - this.maxRange + 1);
      const logs = await this.market.queryFilter(filter, from, to);
      const last = logs.at(-1);
      if (last) return last.args;
    }
    throw new Error(`request ${id}: no RequestPosted event between blocks ${this.startBlock} and ${beforeBlock}`);
  }

  /** The agreement's status on chain now. */
  async status(id: bigint): Promise<StatusCode> {
    return Number((await this.market.request(id)).status) as StatusCode;
  }

  /**
   * The chain's clock: the latest block's timestamp, which the contract's deadlines compare against.
   * Callers that ask while a read is under way share it (a burst of jobs starting reads it once).
   */
  chainTime(): Promise<number> {
    this.clockRead ??= this.provider
      .getBlock("latest")
      .then((block) => {
        if (!block) throw new Error("the RPC node returned no latest block");
        return block.timestamp;
      })
      .finally(() => {
        this.clockRead = undefined;
      });
    return this.clockRead;
  }
}
