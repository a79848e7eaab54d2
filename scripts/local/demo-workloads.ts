import { randomBytes } from "node:crypto";
import { ensureWorkloads, workload } from "../../runtime/workloads/build.js";
import { runJob, shutdownJobPool, type InputBundle } from "../../runtime/job/index.js";

/**
 * What a demo request asks besides its workload, so that every tier wins work for a reason the
 * explorer shows (the local profiles: cloud in region 1 with 2 GiB, edges in regions 2 and 3 with
 * 512 MiB and latency class 1, an IoT gateway in region 2 with 128 MiB and latency class 0):
 * latency-bound jobs ask class 0 (only the gateway next to the consumer qualifies); near jobs ask
 * class 1 and 256 MiB (the edges); data-local jobs carry a large input in region 3 with a short
 * deadline (moving it from afar misses it, so the local edge is predicted to win); heavy jobs
 * need 1 GiB (only the cloud has it).
 */
export interface DemoShape {
  kind: "latency" | "near" | "data-local" | "heavy";
  region: number;
  maxLatencyClass: number;
  minMemoryMiB: number;
  /** seconds from posting until the report is due */
  deadlineIn: number;
}

/** A sample deployment: a module built from the repo's sources, an input for it, and its request's shape. */
export interface DemoWorkload {
  name: string;
  module: Uint8Array;
  input: InputBundle;
  shape: DemoShape;
}

const SHAPES: Record<DemoShape["kind"], DemoShape> = {
  latency: { kind: "latency", region: 2, maxLatencyClass: 0, minMemoryMiB: 64, deadlineIn: 30 },
  near: { kind: "near", region: 3, maxLatencyClass: 1, minMemoryMiB: 256, deadlineIn: 60 },
  "data-local": { kind: "data-local", region: 3, maxLatencyClass: 2, minMemoryMiB: 64, deadlineIn: 16 },
  heavy: { kind: "heavy", region: 1, maxLatencyClass: 2, minMemoryMiB: 1024, deadlineIn: 300 },
};

const TEXT = "the quick brown fox jumps over the lazy dog while the cloud the edge and the gateway share the work\n".repeat(40);

function bundle(partial: Partial<InputBundle>): InputBundle {
  return { args: [], env: {}, stdin: new Uint8Array(), files: {}, outputs: [], ...partial };
}

/** The demo consumer's stream: small jobs of every kind the samples cover. */
export function demoWorkloads(): DemoWorkload[] {
  ensureWorkloads();
  const enc = (s: string) => new TextEncoder().encode(s);
  // The data-local job's archive: 32 MiB that live in the consumer's region (the job reads a part).
  const archive = new Uint8Array(32 * 1024 * 1024);
  const specs: [string, InputBundle, DemoShape["kind"]][] = [
    ["checksum", bundle({ args: ["checksum", "1"], stdin: enc("hello from the demo consumer\n") }), "latency"],
    ["sort", bundle({ args: ["sort", "1"] }), "near"],
    ["interp", bundle({ args: ["interp", "1"] }), "heavy"],
    ["strings", bundle({ args: ["strings", "1"], files: { "text.txt": enc(TEXT) }, outputs: ["report.txt"] }), "near"],
    ["fileio", bundle({ args: ["fileio"], files: { "input.bin": new Uint8Array(randomBytes(4096)), "archive.dat": archive }, outputs: ["out/result.bin", "out/log.txt"] }), "data-local"],
    ["as-sieve", bundle({ args: ["sieve", "1"] }), "heavy"],
    ["as-textproc", bundle({ args: ["textproc", "1"] }), "latency"],
    ["entropy", bundle({ args: ["entropy"] }), "latency"],
  ];
  return specs.map(([name, input, kind]) => ({ name, module: workload(name), input, shape: SHAPES[kind] }));
}

/**
 * Fuel caps as a consumer sets them: fuel is deterministic, so it runs each job once and caps a
 * quarter above what it used (plus a little for seeded randomness). Agents judge a job by its cap.
 */
export async function measuredFuelCaps(workloads: readonly DemoWorkload[]): Promise<Map<string, bigint>> {
  const caps = new Map<string, bigint>();
  try {
    for (const w of workloads) {
      const r = await runJob({ module: w.module, input: w.input, limits: { fuel: 20_000_000_000n, memoryMiB: 1024, wallTimeoutMs: 60_000 }, seed: new Uint8Array(32) });
      caps.set(w.name, (r.fuelUsed * 5n) / 4n + 1_000_000n);
    }
  } finally {
    await shutdownJobPool();
  }
  return caps;
}
