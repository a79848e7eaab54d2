// The workload jobs the runtime tests and the benchmark run: a name, a module and its input.
import type { InputBundle } from "../../runtime/job/index.js";
import { bundle } from "./spec.js";

export interface WorkloadCase {
  workload: string;
  input: InputBundle;
  /** Output that depends on the fuel-driven virtual clock, so it differs between metered and plain runs. */
  clockDependent?: boolean;
}

/** Each workload at a scale (argv[1]) that runs in tens of milliseconds. */
export function workloadCases(scale = 1): WorkloadCase[] {
  const s = (n: number): string => String(n * scale);
  return [
    { workload: "checksum", input: bundle({ args: ["checksum", s(4)], stdin: Buffer.from("some stdin bytes\n".repeat(100)) }) },
    { workload: "sort", input: bundle({ args: ["sort", s(2)] }) },
    { workload: "interp", input: bundle({ args: ["interp", s(5)] }) },
    { workload: "strings", input: bundle({ args: ["strings", s(2)], outputs: ["report.txt"] }) },
    {
      workload: "fileio",
      input: bundle({ files: { "input.bin": Buffer.from("0123456789abcdef") }, outputs: ["out/log.txt", "out/result.bin"] }),
    },
    { workload: "entropy", input: bundle({ env: { MODE: "test" } }), clockDependent: true },
    { workload: "as-sieve", input: bundle({ args: ["sieve", s(5)] }) },
    { workload: "as-textproc", input: bundle({ args: ["textproc", s(2)] }) },
  ];
}
