import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync, unlinkSync } from "node:fs";
import { dirname, join, basename } from "node:path";

/**
 * Writes `data` to `file` so that a crash leaves either the old or the new content, never a
 * torn file: write a temporary sibling, fsync it, rename it over the target, fsync the directory.
 * `durable: false` skips both fsyncs, for caches whose reader checks what it reads: readers never
 * see a partial file (the rename is atomic), but a crash may leave a torn one.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, { durable = true } = {}): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(file)}.${process.pid}.tmp`);
  const fd = openSync(tmp, "w");
  try {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, file);
  } catch (error) {
    unlinkSync(tmp);
    throw error;
  }
  if (durable) syncDirectory(dir);
}

/** Makes a rename inside `dir` durable (the directory entry itself must reach the disk). */
function syncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Reads a JSON file written by `writeJsonAtomic`; undefined when it does not exist. */
export function readJsonFile<T>(file: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    return JSON.parse(text, reviveBigInt) as T;
  } catch (error) {
    throw new Error(`${file} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Atomically writes `value` as JSON; bigints survive the round trip (see `readJsonFile`). */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, replaceBigInt, 2) + "\n");
}

const BIGINT_TAG = "bigint:";

function replaceBigInt(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? BIGINT_TAG + value.toString() : value;
}

function reviveBigInt(_key: string, value: unknown): unknown {
  return typeof value === "string" && value.startsWith(BIGINT_TAG) ? BigInt(value.slice(BIGINT_TAG.length)) : value;
}
