import type { Agreement } from "./agreement.js";
import { inputLocation } from "./agreement.js";
import type { ContentStore } from "./content-store.js";
import { UriRefused } from "./fetch-blob.js";
import { fetchJobContent, type ContentPart } from "./job-content.js";
import type { JobEngine } from "./job-engine.js";
import type { JobResult } from "../job/types.js";
import type { OutputManifest } from "./outbox.js";
import type { UriPolicy } from "./uri-policy.js";
import type { FetchAttempt } from "./unavailable-note.js";

export interface ExecutorOptions {
  engine: JobEngine;
  store: ContentStore;
  chainId: bigint;
  market: string;
  maxModuleBytes: number;
  maxInputBytes: number;
  /** The wall-clock watchdog for one job (the deadline may shorten it). */
  jobTimeoutMs: number;
  fetchTimeoutMs: number;
  /** Where `file:` URIs may read and which addresses http(s) may reach. */
  policy: UriPolicy;
  /** Tries to fetch the module and input before they count as unavailable (default 3). */
  fetchAttempts?: number;
  /** The wait after the first failed try; it doubles after each (default 1000 ms). */
  fetchRetryMs?: number;
}

/** The input bundle could not be decoded: there is nothing to run (not the content's absence). */
export class UnrunnableJob extends Error {}

/** The module or the input could not be obtained (or had another hash) after every try. */
export interface Unavailable {
  unavailable: true;
  missing: { what: ContentPart; uri: string; sha256: string }[];
  attempts: FetchAttempt[];
}

type Part = { what: ContentPart; uri: string; sha256: string; maxBytes: number };

/**
 * Runs one agreement: fetches the module and the input by URI, checks their sha-256, decodes the
 * input bundle and runs the module under the agreement's limits and seed. Content that cannot be
 * fetched is tried again with backoff (a refused URI is not: the answer would not change), and
 * what is still missing is returned as `Unavailable`, for an outcome-6 report.
 */
export class JobExecutor {
  constructor(private readonly opts: ExecutorOptions) {}

  async run(agreement: Agreement, msUntilDeadline: number): Promise<JobResult | Unavailable> {
    const { engine, chainId, market } = this.opts;
    const fetched = await this.fetchParts(agreement, msUntilDeadline);
    if ("unavailable" in fetched) return fetched;
    const { module, input: inputBytes } = fetched;
    let input;
    try {
      input = engine.decodeInputBundle(inputBytes);
    } catch (error) {
      throw new UnrunnableJob(`agreement ${agreement.agreementId}: malformed input bundle: ${(error as Error).message}`);
    }
    return engine.runJob({
      module,
      input,
      limits: {
        fuel: agreement.maxFuel,
        memoryMiB: agreement.memoryMiB,
        wallTimeoutMs: Math.max(1, Math.min(this.opts.jobTimeoutMs, msUntilDeadline)),
      },
      seed: engine.seedFromAgreement(chainId, market, agreement.agreementId),
    });
  }

  /**
   * Fetches both parts, trying again (with doubling waits) what failed, as long as the waits leave
   * half the time to the deadline for running and reporting.
   */
  private async fetchParts(agreement: Agreement, msUntilDeadline: number): Promise<{ module: Uint8Array; input: Uint8Array } | Unavailable> {
    const parts: Part[] = [
      { what: "module", uri: agreement.workloadURI, sha256: agreement.workloadHash, maxBytes: this.opts.maxModuleBytes },
      { what: "input", uri: inputLocation(agreement), sha256: agreement.inputHash, maxBytes: this.opts.maxInputBytes },
    ];
    const got = new Map<string, Uint8Array>();
    const attempts: FetchAttempt[] = [];
    const maxTries = this.opts.fetchAttempts ?? 3;
    const giveUpAt = Date.now() + msUntilDeadline / 2;
    let wait = this.opts.fetchRetryMs ?? 1000;
    for (let attempt = 1; ; attempt++) {
      let refusedOnly = true;
      for (const part of parts) {
        if (got.has(part.what)) continue;
        try {
          got.set(part.what, await this.fetchPart(part));
        } catch (error) {
          if (!(error instanceof UriRefused)) refusedOnly = false;
          attempts.push({ what: part.what, uri: part.uri, at: new Date().toISOString(), error: (error as Error).message });
        }
      }
      if (got.size === parts.length) return { module: got.get("module")!, input: got.get("input")! };
      if (attempt >= maxTries || refusedOnly || Date.now() + wait > giveUpAt) break;
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait *= 2;
    }
    const missing = parts.filter((p) => !got.has(p.what)).map(({ what, uri, sha256 }) => ({ what, uri, sha256 }));
    return { unavailable: true, missing, attempts };
  }

  private async fetchPart(part: Part): Promise<Uint8Array> {
    const { store, policy, fetchTimeoutMs: timeoutMs } = this.opts;
    return fetchJobContent(part.what, part.uri, { store, policy, timeoutMs, sha256: part.sha256, maxBytes: part.maxBytes });
  }

  /** The outputs of a job that never ran: empty stdout and stderr, no files. */
  emptyOutputs(): OutputManifest {
    const empty = this.opts.store.put(new Uint8Array());
    return { stdout: empty, stderr: empty, files: {} };
  }

  /** Keeps a result's outputs in the content store, for the output server. */
  async storeOutputs(result: JobResult): Promise<OutputManifest> {
    const { store } = this.opts;
    const names = Object.keys(result.outputs);
    const [stdout, stderr, ...hashes] = await Promise.all([result.stdout, result.stderr, ...Object.values(result.outputs)].map((bytes) => store.putAsync(bytes)));
    return { stdout: stdout!, stderr: stderr!, files: Object.fromEntries(names.map((name, i) => [name, hashes[i]!])) };
  }
}
