/**
 * No bid on content the host could not run (attack 10: a request naming a module or input that
 * is missing, too large or not what its hash says would win an agreement the provider can only
 * breach or report "content unavailable"). Before the agent bids it fetches the request's module
 * and input with the host's own fetcher (runtime/host/job-content.ts: size cap, sha-256 check,
 * an empty module counts as missing, cached by hash in a content store) and skips the request, with the reason, when either fails.
 *
 * A checked blob stays in the store, so the host that shares the store (or fetches again) finds
 * it, and a module many requests name is fetched once. A failure is remembered per request and
 * tried again after `retryMs` (content may still be on its way), never more often.
 */
import { inputLocation } from "../../runtime/host/agreement.js";
import type { ContentStore } from "../../runtime/host/content-store.js";
import type { FetchOptions } from "../../runtime/host/fetch-blob.js";
import { fetchJobContent } from "../../runtime/host/job-content.js";

const MiB = 1024 * 1024;

/** How blobs are fetched beyond hash, size and store: what the host's fetcher takes (timeout, URI policy). */
export type FetchPolicy = Omit<FetchOptions, "sha256" | "maxBytes" | "store">;

export interface ContentGateOptions {
  store: ContentStore;
  /** the largest module accepted, in bytes (the host's MAX_MODULE_BYTES) */
  maxModuleBytes: number;
  /** the largest input accepted, in bytes (the host's MAX_INPUT_BYTES) */
  maxInputBytes: number;
  /** The URI policy (the host's `CONTENT_DIRS` / `FETCH_ALLOW_ADDRESSES`) and timeout of every fetch. */
  fetch: FetchPolicy;
  /** a request that failed is not fetched again sooner than this (default 30 s) */
  retryMs?: number;
  /** requests fetched at once (default 4) */
  concurrency?: number;
  log?: (line: string) => void;
}

/** What a request names: the content a host would run. */
export interface ContentRef {
  id: bigint;
  workloadHash: string;
  workloadURI: string;
  inputHash: string;
  inputURI: string;
}

export type ContentCheck = { ok: true; inputBytes: number } | { ok: false; reason: string };

export class ContentGate {
  private readonly checked = new Map<bigint, ContentCheck>();
  private readonly failedAt = new Map<bigint, number>();
  private readonly inFlight = new Map<bigint, Promise<ContentCheck>>();

  constructor(private readonly o: ContentGateOptions) {}

  /** The last result for request `id`, if it was checked. */
  result(id: bigint): ContentCheck | undefined {
    return this.checked.get(id);
  }

  /** Checks the requests not yet checked (or whose failure is due a retry), a few at a time. */
  async checkAll(requests: readonly ContentRef[], nowMs = performance.now()): Promise<void> {
    const due = requests.filter((r) => {
      const last = this.checked.get(r.id);
      return !last || (!last.ok && nowMs - (this.failedAt.get(r.id) ?? -Infinity) >= (this.o.retryMs ?? 30_000));
    });
    // `concurrency` fetches at a time, each starting as soon as one ends (no group waits for its slowest).
    let next = 0;
    const worker = async () => {
      while (next < due.length) await this.check(due[next++]!, nowMs);
    };
    await Promise.all(Array.from({ length: Math.min(Math.max(1, this.o.concurrency ?? 4), due.length) }, worker));
  }

  /** Fetches and checks one request's module and input (once at a time per request). */
  check(r: ContentRef, nowMs = performance.now()): Promise<ContentCheck> {
    const running = this.inFlight.get(r.id);
    if (running) return running;
    const run = this.fetchBoth(r).then((result) => {
      this.checked.set(r.id, result);
      if (result.ok) this.failedAt.delete(r.id);
      else {
        this.failedAt.set(r.id, nowMs);
        this.o.log?.(`request ${r.id} skipped: ${result.reason}`);
      }
      this.inFlight.delete(r.id);
      return result;
    });
    this.inFlight.set(r.id, run);
    return run;
  }

  /** Forgets a request that closed. */
  forget(id: bigint): void {
    this.checked.delete(id);
    this.failedAt.delete(id);
  }

  private async fetchBoth(r: ContentRef): Promise<ContentCheck> {
    const base = { ...this.o.fetch, store: this.o.store };
    try {
      await fetchJobContent("module", r.workloadURI, { ...base, sha256: r.workloadHash, maxBytes: this.o.maxModuleBytes });
    } catch (error) {
      return { ok: false, reason: `the module cannot be fetched and checked: ${message(error)}` };
    }
    try {
      const input = await fetchJobContent("input", inputLocation(r), { ...base, sha256: r.inputHash, maxBytes: this.o.maxInputBytes });
      return { ok: true, inputBytes: input.length };
    } catch (error) {
      return { ok: false, reason: `the input cannot be fetched and checked: ${message(error)}` };
    }
  }
}

/** The input's size in MiB, as the model takes it. */
export function inputMiBOf(check: ContentCheck | undefined): number {
  return check?.ok ? check.inputBytes / MiB : 0;
}

function message(error: unknown): string {
  return (error as Error)?.message?.split("\n")[0] ?? String(error);
}
