/**
 * Answers to identical queries, valid while the indexer's checkpoint does not move: explorer pages
 * poll the same queries every few seconds from every viewer, and the data only changes when the
 * indexer commits. (graph-node caches recent query results the same way.)
 */
export interface CachedResponse {
  status: number;
  contentType: string;
  body: Buffer;
}

export class ResponseCache {
  private readonly entries = new Map<string, CachedResponse>();
  private version = "";

  constructor(private readonly capacity = 2000) {}

  get(version: string, key: string): CachedResponse | undefined {
    if (version !== this.version) {
      this.entries.clear();
      this.version = version;
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
    if (version !== this.version) return;
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, value);
  }
}
