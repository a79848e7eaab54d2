import type { Provider } from "ethers";

/**
 * The chain's clock as of now, for deciding whether a court window has passed. The head block's
 * timestamp alone stays old on a chain that mines only on demand; the wall clock alone is wrong on
 * a chain whose clock runs ahead of it or behind it (a dev node after time travel, or one that
 * stamps each block a second after the last). So the clock is the wall clock moved by the offset
 * measured when a new head was last seen (it was mined within a poll of being seen), and never
 * earlier than the head itself.
 */
export class ChainClock {
  private headNumber = -1;
  private offsetS = 0;

  constructor(private readonly provider: Provider) {}

  async now(): Promise<{ timestamp: number; head: number }> {
    const b = await this.provider.getBlock("latest");
    if (!b) throw new Error("the node returned no latest block");
    const wall = Date.now() / 1000;
    if (b.number !== this.headNumber) {
      this.headNumber = b.number;
      this.offsetS = b.timestamp - wall;
    }
    return { timestamp: Math.max(b.timestamp, Math.floor(wall + this.offsetS)), head: b.timestamp };
  }
}
