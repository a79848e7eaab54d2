/**
 * The chain's clock as an agent can know it between blocks. A block's timestamp is whole seconds
 * and only as fresh as the block: on a chain idle while consumers wait for bids, the latest block
 * was seconds old, and an agent that took its time for "now" sent bids the contract refused
 * (BidWindowClosed) after judging them in time. The clock keeps how far the chain's time is from
 * this machine's, as the latest blocks show it (the largest gap of the last few reads: a stale
 * block only understates it), and tells the time by this machine's clock.
 */
export class ChainClock {
  private readonly offsets: number[] = [];

  /** @param keep how many reads the offset is taken over (a clock set back, as a test node's snapshot revert does, is believed after that many) */
  constructor(private readonly keep = 8) {}

  /** Records a block's timestamp (seconds), read at `wallMs` (this machine's clock, ms). */
  observe(timestamp: number, wallMs = Date.now()): void {
    this.offsets.push(timestamp - wallMs / 1000);
    if (this.offsets.length > this.keep) this.offsets.shift();
  }

  /** The chain's time now, in (fractional) seconds; NaN before any block was observed. */
  now(wallMs = Date.now()): number {
    return this.offsets.length === 0 ? NaN : wallMs / 1000 + Math.max(...this.offsets);
  }
}
