/**
 * Answers to identical queries, valid while the indexer's checkpoint does not move: explorer pages
 * poll the same queries every few seconds from every viewer, and the data only changes when the
 * indexer commits. (graph-node caches recent query results the same way.) The cache holds at
 * most `budgetBytes` of keys and bodies, least recently used out first; an answer larger than an
 * eighth of the budget is not kept.
 */
export interface CachedResponse {
  status: number;
  contentType: string;
  body: Buffer;
}

export class ResponseCache {
  private readonly entries = new Map<string, CachedResponse>();
  private version = "";
  private bytes = 0;

  constructor(readonly budgetBytes = 64 * 1024 * 1024) {}

  private static size(key: string, value: CachedResponse): number {
    return key.length * 2 + value.body.length + 64;
  }

  /** Bytes held now. */
  get size(): number {
    return this.bytes;
  }

  private clear(version: string): void {
    this.entries.clear();
    this.bytes = 0;
    this.version = version;
  }

  get(version: string, key: string): CachedResponse | undefined {
    if (version !== this.version) {
      this.clear(version);
      return undefined;
    }
    const hit = this.entries.get(key);
    if (hit) {
      // Most recently used last, so eviction drops the oldest.
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  set(version: string, key: string, value: CachedResponse): void {
    if (version !== this.version) this.clear(version);
    const size = ResponseCache.size(key, value);
    if (size > this.budgetBytes / 8) return;
    const old = this.entries.get(key);
    if (old) {
      this.bytes -= ResponseCache.size(key, old);
      this.entries.delete(key);
    }
    while (this.bytes + size > this.budgetBytes && this.entries.size) {
      const [oldestKey, oldest] = this.entries.entries().next().value!;
      this.entries.delete(oldestKey);
      this.bytes -= ResponseCache.size(oldestKey, oldest);
    }
    this.entries.set(key, value);
    this.bytes += size;
  }
}
