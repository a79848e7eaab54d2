import { createHash } from "node:crypto";
import { admit, staticFootprint, validateModule } from "../wasm/admission.js";
import { METERING_VERSION } from "../wasm/cost-table.js";
import { AdmissionError } from "../wasm/errors.js";
import { instrument } from "../wasm/instrument.js";
import { DecodeError } from "../wasm/reader.js";
import { readCached, writeCached } from "./disk-cache.js";

/** An admitted module, instrumented and compiled, ready to instantiate. */
export interface PreparedModule {
  sha256: string;
  compiled: WebAssembly.Module;
  refunds: Map<number, number>;
  initialPages: number;
  /** Bytes the module holds before it runs (initial memory, tables, segments): see staticFootprint. */
  footprint: number;
  instrumentMs: number;
}

const MAX_ENTRIES = 64;
const cache = new Map<string, PreparedModule>();

export function moduleSha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The module would hold more than the job's memory limit before it runs a single instruction. */
export class FootprintError extends Error {
  override name = "FootprintError";
}

/**
 * Admits, instruments and compiles a module, cached by (sha-256, metering version) in memory and,
 * when TROUPE_INSTRUMENT_CACHE is set, on disk. Throws AdmissionError / DecodeError for modules the
 * host does not run, and FootprintError (before compiling) when its initial memory, tables and
 * segments do not fit in `memoryLimitBytes`.
 */
export async function prepareModule(bytes: Uint8Array, metered = true, memoryLimitBytes = Infinity): Promise<PreparedModule> {
  const sha256 = moduleSha256(bytes);
  const key = `${sha256}:${metered ? METERING_VERSION : "plain"}`;
  const hit = cache.get(key);
  if (hit) {
    checkFootprint(hit, memoryLimitBytes);
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const t0 = performance.now();
  let out = metered ? readCached(sha256) : undefined;
  if (!out) {
    const m = admit(bytes);
    // Unmetered runs still decode every instruction, so both modes admit exactly the same modules.
    let instrumented: ReturnType<typeof instrument>;
    try {
      instrumented = instrument(m);
    } catch (e) {
      if (e instanceof AdmissionError || e instanceof DecodeError) throw e;
      // An invalid module may trip the instrumenter before V8 names the problem: let V8 name it.
      validateModule(bytes);
      throw new InstrumenterFault(`instrumenter failed on a valid module: ${(e as Error).message}`);
    }
    validateModule(bytes);
    const initialPages = m.memories[0]?.min ?? 0;
    const footprint = staticFootprint(m);
    out = metered ? { ...instrumented, initialPages, footprint } : { bytes, refunds: new Map<number, number>(), initialPages, footprint };
    if (metered) writeCached(sha256, out);
  }
  const instrumentMs = performance.now() - t0;
  checkFootprint(out, memoryLimitBytes);
  let compiled: WebAssembly.Module;
  try {
    compiled = await WebAssembly.compile(out.bytes);
  } catch (e) {
    throw new InstrumenterFault(`instrumented module does not compile: ${(e as Error).message}`);
  }
  const prepared = { sha256, compiled, refunds: out.refunds, initialPages: out.initialPages, footprint: out.footprint, instrumentMs };
  cache.set(key, prepared);
  if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  return prepared;
}

function checkFootprint(p: { initialPages: number; footprint: number }, limitBytes: number): void {
  const limitPages = Math.floor(limitBytes / 65536);
  if (p.initialPages > limitPages) throw new FootprintError(`initial memory of ${p.initialPages} pages exceeds the limit of ${limitPages} pages`);
  if (p.footprint > limitBytes)
    throw new FootprintError(
      `module holds ${p.footprint} bytes before it runs (initial memory, tables, data and element segments), over the job's memory limit of ${limitBytes} bytes`,
    );
}

/** Forgets the in-memory cache (tests of the disk cache). */
export function clearModuleCache(): void {
  cache.clear();
}

/** The instrumenter produced something V8 rejects: a host bug, never the module's fault. */
export class InstrumenterFault extends Error {
  override name = "InstrumenterFault";
}
