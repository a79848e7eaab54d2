import type { Agreement } from "./agreement.js";
import { inputLocation } from "./agreement.js";
import type { ContentStore } from "./content-store.js";
import { fetchBlob } from "./fetch-blob.js";
import type { JobEngine } from "./job-engine.js";
import type { JobResult } from "../job/types.js";
import type { OutputManifest } from "./outbox.js";

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
}

/** The module or input could not be obtained or decoded: there is nothing to run. */
export class UnrunnableJob extends Error {}

/**
 * Runs one agreement: fetches the module and the input by URI, checks their sha-256, decodes the
 * input bundle and runs the module under the agreement's limits and seed.
 */
export class JobExecutor {
  constructor(private readonly opts: ExecutorOptions) {}

  async run(agreement: Agreement, msUntilDeadline: number): Promise<JobResult> {
    const { engine, store, chainId, market } = this.opts;
    const fetchOpts = { store, timeoutMs: this.opts.fetchTimeoutMs };
    let module: Uint8Array;
    let inputBytes: Uint8Array;
    try {
      module = await fetchBlob(agreement.workloadURI, { ...fetchOpts, sha256: agreement.workloadHash, maxBytes: this.opts.maxModuleBytes });
      inputBytes = await fetchBlob(inputLocation(agreement), { ...fetchOpts, sha256: agreement.inputHash, maxBytes: this.opts.maxInputBytes });
    } catch (error) {
      throw new UnrunnableJob(`agreement ${agreement.agreementId}: ${(error as Error).message}`);
    }
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

  /** Keeps a result's outputs in the content store, for the output server. */
  storeOutputs(result: JobResult): OutputManifest {
    const { store } = this.opts;
    const files: Record<string, string> = {};
    for (const [name, bytes] of Object.entries(result.outputs)) files[name] = store.put(bytes);
    return { stdout: store.put(result.stdout), stderr: store.put(result.stderr), files };
  }
}
