// The workload jobs the runtime tests and the benchmark run: a name, a module and its input.
import type { InputBundle } from "../../runtime/job/index.js";
import { bundle } from "./spec.js";

export interface WorkloadCase {
  workload: string;
  /** The source language (and so the toolchain that built it). */
  language: "C" | "C++" | "Rust" | "AssemblyScript";
  /** What kind of program it is (the benchmark's coverage). */
  kind: string;
  input: InputBundle;
  /** Output that depends on the fuel-driven virtual clock, so it differs between metered and plain runs. */
  clockDependent?: boolean;
}

/** Each workload at a scale (argv[1]) that runs in tens of milliseconds. */
export function workloadCases(scale = 1): WorkloadCase[] {
  const s = (n: number): string => String(n * scale);
  return [
    { workload: "checksum", language: "C", kind: "hashing (crc32, fnv1a)", input: bundle({ args: ["checksum", s(4)], stdin: Buffer.from("some stdin bytes\n".repeat(100)) }) },
    { workload: "sort", language: "C", kind: "sorting (qsort)", input: bundle({ args: ["sort", s(2)] }) },
    { workload: "interp", language: "C", kind: "interpreter (bytecode VM)", input: bundle({ args: ["interp", s(5)] }) },
    { workload: "strings", language: "C", kind: "text parsing", input: bundle({ args: ["strings", s(2)], outputs: ["report.txt"] }) },
    {
      workload: "fileio",
      language: "C",
      kind: "file system",
      input: bundle({ files: { "input.bin": Buffer.from("0123456789abcdef") }, outputs: ["out/log.txt", "out/result.bin"] }),
    },
    { workload: "entropy", language: "C", kind: "randomness and clocks", input: bundle({ env: { MODE: "test" } }), clockDependent: true },
    { workload: "as-sieve", language: "AssemblyScript", kind: "prime sieve", input: bundle({ args: ["sieve", s(5)] }) },
    { workload: "as-textproc", language: "AssemblyScript", kind: "text processing", input: bundle({ args: ["textproc", s(2)] }) },
    { workload: "rust-lz", language: "Rust", kind: "compression (LZ77)", input: bundle({ args: ["lz", s(1)] }) },
    { workload: "rust-sha256", language: "Rust", kind: "crypto (SHA-256)", input: bundle({ args: ["sha256", s(1)] }) },
    { workload: "rust-json", language: "Rust", kind: "JSON parse / serialise", input: bundle({ args: ["json", s(1)] }) },
    { workload: "rust-matmul", language: "Rust", kind: "matrix kernels (f64 matmul, LU)", input: bundle({ args: ["matmul", s(1)] }) },
    { workload: "rust-vm", language: "Rust", kind: "interpreter (stack VM)", input: bundle({ args: ["vm", s(1)] }) },
    { workload: "cpp-image", language: "C++", kind: "image kernels (blur, Sobel)", input: bundle({ args: ["image", s(1)] }) },
    { workload: "cpp-wordfreq", language: "C++", kind: "parsing with the STL (maps, sort)", input: bundle({ args: ["wordfreq", s(1)] }) },
  ];
}
