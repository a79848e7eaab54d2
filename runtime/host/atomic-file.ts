import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync, unlinkSync } from "node:fs";
import { mkdir, open, rename, unlink } from "node:fs/promises";
import { dirname, join, basename } from "node:path";
import { KeyedChain } from "./keyed-chain.js";

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

/** Writes of one file, in call order: a later write never lands under an earlier one. */
const writesOf = new KeyedChain<string>();
/** Per directory: the fsync that has not started yet (every rename before it starts is covered by it), and the running one. */
const directorySyncs = new Map<string, { next?: Promise<void>; running?: Promise<void> }>();
let tmpSerial = 0;

/**
 * `writeFileAtomic` with its guarantee (a crash leaves the old or the new content, and the new
 * content is on disk when the promise resolves) that never blocks the event loop: the writes and
 * fsyncs run on libuv's thread pool, side by side for different files, and renames in one
 * directory share one directory fsync. A process that writes a record per job spent about 10 ms
 * of blocked event loop per record on this machine's disk otherwise.
 */
export function writeFileDurable(file: string, data: string | Uint8Array): Promise<void> {
  return writesOf.run(file, () => writeOnce(file, data));
}

/** `writeJsonAtomic` through `writeFileDurable`. */
export function writeJsonDurable(file: string, value: unknown): Promise<void> {
  return writeFileDurable(file, JSON.stringify(value, replaceBigInt, 2) + "\n");
}

async function writeOnce(file: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${++tmpSerial}.tmp`);
  const handle = await open(tmp, "w");
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, file);
  } catch (error) {
    await unlink(tmp).catch(() => {});
    throw error;
  }
  await syncDirectoryShared(dir);
}

/** Makes the renames done so far in `dir` durable, joining a directory fsync that has not started yet. */
function syncDirectoryShared(dir: string): Promise<void> {
  let state = directorySyncs.get(dir);
  if (!state) directorySyncs.set(dir, (state = {}));
  if (state.next) return state.next;
  const entry = state;
  // A running fsync may have started before this rename: queue one after it.
  const next = (entry.running ?? Promise.resolve()).catch(() => {}).then(async () => {
    entry.next = undefined;
    const running = (async () => {
      const handle = await open(dir, "r");
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    })();
    entry.running = running;
    try {
      await running;
    } finally {
      if (entry.running === running) entry.running = undefined;
      if (!entry.running && !entry.next) directorySyncs.delete(dir);
    }
  });
  entry.next = next;
  return next;
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
