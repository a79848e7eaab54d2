import { randomBytes } from "node:crypto";
import { ensureWorkloads, workload } from "../../runtime/workloads/build.js";
import type { InputBundle } from "../../runtime/job/index.js";

/** A sample deployment: a module built from the repo's sources and an input for it. */
export interface DemoWorkload {
  name: string;
  module: Uint8Array;
  input: InputBundle;
}

const TEXT = "the quick brown fox jumps over the lazy dog while the cloud the edge and the gateway share the work\n".repeat(40);

function bundle(partial: Partial<InputBundle>): InputBundle {
  return { args: [], env: {}, stdin: new Uint8Array(), files: {}, outputs: [], ...partial };
}

/** The demo consumer's stream: small jobs of every kind the samples cover. */
export function demoWorkloads(): DemoWorkload[] {
  ensureWorkloads();
  const enc = (s: string) => new TextEncoder().encode(s);
  const specs: [string, InputBundle][] = [
    ["checksum", bundle({ args: ["checksum", "1"], stdin: enc("hello from the demo consumer\n") })],
    ["sort", bundle({ args: ["sort", "1"] })],
    ["interp", bundle({ args: ["interp", "1"] })],
    ["strings", bundle({ args: ["strings", "1"], files: { "text.txt": enc(TEXT) }, outputs: ["report.txt"] })],
    ["fileio", bundle({ args: ["fileio"], files: { "input.bin": new Uint8Array(randomBytes(4096)) }, outputs: ["out/result.bin", "out/log.txt"] })],
    ["as-sieve", bundle({ args: ["sieve", "1"] })],
    ["as-textproc", bundle({ args: ["textproc", "1"] })],
    ["entropy", bundle({ args: ["entropy"] })],
  ];
  return specs.map(([name, input]) => ({ name, module: workload(name), input }));
}
