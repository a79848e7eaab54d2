/**
 * Token buckets per client, for the host's public endpoints: a client may spend `burst` at once
 * and `perSecond` after that. The table of clients is bounded (the least recently seen is
 * forgotten first), so a flood of new addresses cannot grow it without limit.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    private readonly maxClients = 10_000,
  ) {}

  /** Takes `cost` from `client`'s bucket; false (and nothing taken) when it has too little. */
  take(client: string, cost = 1, now = performance.now()): boolean {
    let bucket = this.buckets.get(client);
    if (bucket) {
      this.buckets.delete(client); // re-inserted below: most recently seen last
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
      bucket.at = now;
    } else {
      bucket = { tokens: this.burst, at: now };
      if (this.buckets.size >= this.maxClients) this.buckets.delete(this.buckets.keys().next().value!);
    }
    this.buckets.set(client, bucket);
    if (bucket.tokens < cost) return false;
    bucket.tokens -= cost;
    return true;
  }
}

/** Open connections per client, capped; the server refuses a client's connection over its share. */
export class ConnectionCounter {
  private readonly open = new Map<string, number>();

  constructor(readonly perClient: number) {}

  /** Counts a new connection; false when the client already holds its share. */
  add(client: string): boolean {
    const n = this.open.get(client) ?? 0;
    if (n >= this.perClient) return false;
    this.open.set(client, n + 1);
    return true;
  }

  remove(client: string): void {
    const n = (this.open.get(client) ?? 1) - 1;
    if (n <= 0) this.open.delete(client);
    else this.open.set(client, n);
  }
}
