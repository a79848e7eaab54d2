import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { readJsonFile, writeJsonDurable } from "./atomic-file.js";
import { KeyedChain } from "./keyed-chain.js";

/**
 * One JSON record per agreement in a directory, each replaced atomically. The directory is read
 * once when opened and then mirrored in memory (this process is its only writer), so listing the
 * records on every poll costs no disk reads.
 */
export class RecordDir<T> {
  private readonly records = new Map<bigint, T>();
  /** Pending writes by record: changes of one record apply in call order. */
  private readonly writing = new KeyedChain<bigint>();

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    for (const name of readdirSync(dir)) {
      if (!/^\d+\.json$/.test(name)) continue;
      const record = readJsonFile<T>(join(dir, name));
      if (record !== undefined) this.records.set(BigInt(name.slice(0, -5)), record);
    }
  }

  get(id: bigint): T | undefined {
    return this.records.get(id);
  }

  /** Writes the record to disk (durably) before it becomes visible to readers. */
  put(id: bigint, record: T): Promise<T> {
    return this.change(id, () => record);
  }

  /**
   * Computes a record from the one that stands once the earlier changes of `id` are on disk,
   * writes it durably, and only then makes it visible. `compute` may throw to refuse the change.
   * Different records are written side by side (see `writeFileDurable`).
   */
  change(id: bigint, compute: (current: T | undefined) => T): Promise<T> {
    if (id < 0n) return Promise.reject(new Error(`invalid agreement id ${id}`));
    return this.writing.run(id, async () => {
      const record = compute(this.records.get(id));
      await writeJsonDurable(join(this.dir, `${id}.json`), record);
      this.records.set(id, record);
      return record;
    });
  }

  /** Every record, in ascending id order. */
  values(): T[] {
    return [...this.records.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, record]) => record);
  }
}
