import type { Socket } from "node:net";

/** Limits per client (remote address) that shed abuse before any query work is done. */
export interface ClientLimitOptions {
  /** Open connections one address may hold. */
  maxConnectionsPerClient: number;
  /** Requests per second one address may send (token bucket rate). */
  requestsPerSecond: number;
  /** Requests one address may send at once above the rate (bucket size). */
  burst: number;
}

export const DEFAULT_CLIENT_LIMITS: ClientLimitOptions = {
  maxConnectionsPerClient: 64,
  requestsPerSecond: 5_000,
  burst: 10_000,
};

interface Bucket {
  tokens: number;
  at: number;
}

export class ClientLimits {
  private readonly connections = new Map<string, number>();
  private readonly buckets = new Map<string, Bucket>();

  constructor(readonly options: ClientLimitOptions = DEFAULT_CLIENT_LIMITS) {}

  /** Counts a new connection; false (and the socket is closed) when its address holds too many. */
  admit(socket: Socket): boolean {
    const key = socket.remoteAddress ?? "unknown";
    const open = this.connections.get(key) ?? 0;
    if (open >= this.options.maxConnectionsPerClient) {
      socket.end(
        "HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n" +
          `too many connections from ${key} (at most ${this.options.maxConnectionsPerClient})\n`,
      );
      socket.destroySoon();
      return false;
    }
    this.connections.set(key, open + 1);
    socket.once("close", () => {
      const n = (this.connections.get(key) ?? 1) - 1;
      if (n <= 0) this.connections.delete(key);
      else this.connections.set(key, n);
    });
    return true;
  }

  /** Takes one request token for `key`; false when it is over its rate. */
  take(key: string): boolean {
    const now = performance.now();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size > 10_000) this.buckets.clear();
      b = { tokens: this.options.burst, at: now };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.options.burst, b.tokens + ((now - b.at) / 1000) * this.options.requestsPerSecond);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
