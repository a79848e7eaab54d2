import type { OutcomeCode } from "../../contracts/client/typed-data.js";

/** What a job gets to see: argv, environment, stdin, an in-memory file tree, and which files are its outputs. */
export interface InputBundle {
  args: string[];
  env: Record<string, string>;
  stdin: Uint8Array;
  files: Record<string, Uint8Array>;
  outputs: string[];
  /** Directories that exist from the start even with no file in them (optional; encoded only when non-empty). */
  dirs?: string[];
}

export interface JobLimits {
  fuel: bigint;
  memoryMiB: number;
  wallTimeoutMs: number;
}

export interface JobSpec {
  module: Uint8Array;
  input: InputBundle;
  limits: JobLimits;
  /** 32 bytes; see seedFromAgreement. */
  seed: Uint8Array;
}

export interface JobResult {
  outcome: OutcomeCode;
  /** proc_exit code / main's return; 0 when it trapped. */
  exitCode: number;
  fuelUsed: bigint;
  peakMemoryPages: number;
  wallMs: number;
  stdout: Uint8Array;
  stderr: Uint8Array;
  /** Final contents of the bundle's output files that exist when the job ends. */
  outputs: Record<string, Uint8Array>;
  /** "0x" + 64 hex; see output-hash.ts for the encoding. */
  outputHash: string;
  meteringVersion: number;
  /** Human-readable reason, e.g. "out of fuel". */
  detail: string;
  /** Set when the result must NOT be attested (V8 crash, V8 OOM / stack overflow, watchdog). */
  hostFault?: string;
}

/** Options that are not part of the job itself. */
export interface RunOptions {
  /** Extra V8 flags for the job's process, e.g. ["--liftoff-only"]; jobs with different flags use different processes. */
  v8Flags?: string[];
}
