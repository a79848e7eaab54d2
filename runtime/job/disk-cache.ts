import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { METERING_VERSION } from "../wasm/cost-table.js";

/** What is kept on disk per (module sha-256, metering version). */
export interface CachedInstrumentation {
  bytes: Uint8Array;
  refunds: Map<number, number>;
  initialPages: number;
  footprint: number;
}

/**
 * Instrumented modules on disk, so a restarted host or a new job process skips the instrumenter.
 * Opt-in: set TROUPE_INSTRUMENT_CACHE to a directory. Entries are written atomically (temp file +
 * rename); an unreadable entry is ignored and rebuilt.
 */
export function diskCacheDir(): string | undefined {
  return process.env.TROUPE_INSTRUMENT_CACHE || undefined;
}

function paths(dir: string, sha256: string): { wasm: string; meta: string } {
  const base = join(dir, `${sha256}.v${METERING_VERSION}`);
  return { wasm: `${base}.wasm`, meta: `${base}.json` };
}

export function readCached(sha256: string): CachedInstrumentation | undefined {
  const dir = diskCacheDir();
  if (!dir) return undefined;
  const p = paths(dir, sha256);
  try {
    const meta = JSON.parse(readFileSync(p.meta, "utf8")) as { initialPages: number; footprint: number; refunds: [number, number][]; bytes: number };
    const bytes = new Uint8Array(readFileSync(p.wasm));
    if (bytes.length !== meta.bytes || !Number.isInteger(meta.initialPages) || !Number.isInteger(meta.footprint) || !Array.isArray(meta.refunds))
      return undefined;
    return { bytes, refunds: new Map(meta.refunds), initialPages: meta.initialPages, footprint: meta.footprint };
  } catch {
    return undefined;
  }
}

export function writeCached(sha256: string, entry: CachedInstrumentation): void {
  const dir = diskCacheDir();
  if (!dir) return;
  const p = paths(dir, sha256);
  const tmp = `.${process.pid}.${Date.now()}.tmp`;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(p.wasm + tmp, entry.bytes);
    renameSync(p.wasm + tmp, p.wasm);
    const meta = { initialPages: entry.initialPages, footprint: entry.footprint, refunds: [...entry.refunds], bytes: entry.bytes.length };
    writeFileSync(p.meta + tmp, JSON.stringify(meta));
    renameSync(p.meta + tmp, p.meta);
  } catch {
    // A cache that cannot be written only costs time.
  }
}
