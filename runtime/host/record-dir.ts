import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { readJsonFile, writeJsonAtomic } from "./atomic-file.js";

/** One JSON record per agreement in a directory, each replaced atomically. */
export class RecordDir<T> {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  get(id: bigint): T | undefined {
    return readJsonFile<T>(this.fileOf(id));
  }

  put(id: bigint, record: T): void {
    writeJsonAtomic(this.fileOf(id), record);
  }

  /** Every record's id, in ascending order. */
  ids(): bigint[] {
    return readdirSync(this.dir)
      .filter((name) => /^\d+\.json$/.test(name))
      .map((name) => BigInt(name.slice(0, -5)))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  private fileOf(id: bigint): string {
    if (id < 0n) throw new Error(`invalid agreement id ${id}`);
    return join(this.dir, `${id}.json`);
  }
}
