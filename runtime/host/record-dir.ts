import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { readJsonFile, writeJsonAtomic } from "./atomic-file.js";

/**
 * One JSON record per agreement in a directory, each replaced atomically. The directory is read
 * once when opened and then mirrored in memory (this process is its only writer), so listing the
 * records on every poll costs no disk reads.
 */
export class RecordDir<T> {
  private readonly records = new Map<bigint, T>();

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
  put(id: bigint, record: T): void {
    if (id < 0n) throw new Error(`invalid agreement id ${id}`);
    writeJsonAtomic(join(this.dir, `${id}.json`), record);
    this.records.set(id, record);
  }

  /** Every record, in ascending id order. */
  values(): T[] {
    return [...this.records.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, record]) => record);
  }
}
