import { createHash } from "node:crypto";

/** A deterministic byte stream: SHA-256(seed || counter) blocks, counter as u64 little-endian. */
export class SeededStream {
  private block = new Uint8Array(0);
  private used = 0;
  private counter = 0n;

  constructor(private readonly seed: Uint8Array) {}

  fill(out: Uint8Array): void {
    let off = 0;
    while (off < out.length) {
      if (this.used === this.block.length) this.refill();
      const n = Math.min(out.length - off, this.block.length - this.used);
      out.set(this.block.subarray(this.used, this.used + n), off);
      this.used += n;
      off += n;
    }
  }

  private refill(): void {
    const ctr = Buffer.alloc(8);
    ctr.writeBigUInt64LE(this.counter++);
    this.block = createHash("sha256").update(this.seed).update(ctr).digest();
    this.used = 0;
  }
}
