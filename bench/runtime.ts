/**
 * Runtime benchmark: per workload, plain (unmetered) vs metered wall time measured side by side in
 * one process (runs interleaved, median of each); the cold start of a new 1 MiB module in a warm job
 * process; tiny jobs per second through the job-process pool; the instrumenter's speed.
 * Writes bench/results/runtime.json. Run with `npm run bench:runtime`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { executeJob } from "../runtime/job/execute.js";
import { runJob, shutdownJobPool, type JobSpec } from "../runtime/job/index.js";
import { admit } from "../runtime/wasm/admission.js";
import { METERING_VERSION } from "../runtime/wasm/cost-table.js";
import { instrument } from "../runtime/wasm/instrument.js";
import { ensureWorkloads, workload } from "../runtime/workloads/build.js";
import { buildModule, i32const, T } from "../test/helpers/wasm-builder.js";
import { workloadCases } from "../test/runtime/cases.js";
import { spec } from "../test/runtime/spec.js";

const ROUNDS = 9;
// Workload size (argv[1] multiplier): runs of roughly 30-150 ms each.
const SCALE = Number(process.env.SCALE ?? 8);
// Every real program except the two that exercise the sandbox rather than compute (file system, clocks).
const UNTIMED = new Set(["fileio", "entropy"]);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

async function timed(job: JobSpec, metered: boolean): Promise<number> {
  const t0 = performance.now();
  const r = await executeJob(job, metered);
  const ms = performance.now() - t0;
  if (r.outcome !== 0 || r.hostFault) throw new Error(`bench job failed: ${r.detail} ${r.hostFault ?? ""}`);
  return ms;
}

/** A module of about `bytes` bytes: many distinct arithmetic functions, of which _start calls a few. */
function syntheticModule(bytes: number, salt: number): Uint8Array {
  const body = (k: number): number[] => {
    const code: number[] = [...i32const(k + salt)];
    for (let i = 0; i < 60; i++) code.push(...i32const((k * 31 + i) & 0xfff), 0x6a, ...i32const(3), 0x6c);
    return [...code, 0x1a];
  };
  const per = body(1).length + 4;
  const n = Math.ceil(bytes / per);
  const funcs = Array.from({ length: n }, (_, k) => ({ code: body(k) }));
  return buildModule({
    memory: { min: 1 },
    funcs: [{ code: [0x10, 1, 0x10, 2, 0x10, 3], export: "_start" }, ...funcs],
  });
}

ensureWorkloads();
console.log(`node ${process.version}, ${availableParallelism()} cores, load ${loadavg().map((x) => x.toFixed(2)).join(" ")}, ${new Date().toISOString()}`);

// 1. plain vs metered per workload
const rows: { workload: string; language: string; kind: string; plainMs: number; meteredMs: number; ratio: number; fuel: string }[] = [];
for (const c of workloadCases(SCALE).filter((x) => !UNTIMED.has(x.workload))) {
  const job = spec(workload(c.workload), { input: c.input, fuel: 1n << 40n, memoryMiB: 256 });
  await timed(job, false);
  const fuel = (await executeJob(job, true)).fuelUsed;
  const plain: number[] = [];
  const metered: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    plain.push(await timed(job, false));
    metered.push(await timed(job, true));
  }
  const p = median(plain);
  const m = median(metered);
  rows.push({
    workload: c.workload,
    language: c.language,
    kind: c.kind,
    plainMs: round(p),
    meteredMs: round(m),
    ratio: round(m / p, 3),
    fuel: fuel.toString(),
  });
}
const geomean = Math.exp(rows.reduce((a, r) => a + Math.log(r.ratio), 0) / rows.length);

// 2. instrumenter speed and cold start of a new 1 MiB module in a warm job process
const MiB = 1024 * 1024;
const big = syntheticModule(MiB, 0);
const instrumentRuns: number[] = [];
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  instrument(admit(big));
  instrumentRuns.push(performance.now() - t0);
}
const instrumentMsPerMiB = median(instrumentRuns) / (big.length / MiB);
const tiny = buildModule({
  memory: { min: 1 },
  imports: [{ module: "wasi_snapshot_preview1", name: "fd_write", params: [T.i32, T.i32, T.i32, T.i32], results: [T.i32] }],
  funcs: [{ code: [...i32const(1), ...i32const(0), ...i32const(1), ...i32const(8), 0x10, 0, 0x1a], export: "_start" }],
  data: [{ offset: 0, bytes: [16, 0, 0, 0, 3, 0, 0, 0] }, { offset: 16, bytes: [0x6f, 0x6b, 0x0a] }],
});
const tinyJob = spec(tiny, { fuel: 1_000_000n, memoryMiB: 16 });
let t0 = performance.now();
await runJob(tinyJob);
const processStartMs = performance.now() - t0;
const cold: number[] = [];
for (let i = 1; i <= 3; i++) {
  const job = spec(syntheticModule(MiB, i), { fuel: 1_000_000n, memoryMiB: 16 });
  t0 = performance.now();
  const r = await runJob(job);
  cold.push(performance.now() - t0);
  if (r.outcome !== 0) throw new Error(`cold start job failed: ${r.detail}`);
}
const coldStartMs1MiB = median(cold);

// 3. tiny jobs per second, one at a time (one job process, reused)
for (let i = 0; i < 50; i++) await runJob(tinyJob);
let jobs = 0;
t0 = performance.now();
while (performance.now() - t0 < 2000) {
  const r = await runJob(tinyJob);
  if (r.stdout.length !== 3) throw new Error("tiny job produced the wrong output");
  jobs++;
}
const tinyJobsPerSecond = jobs / ((performance.now() - t0) / 1000);
shutdownJobPool();

console.log("\n| workload | language | kind | plain ms | metered ms | metered / plain | fuel |");
console.log("| --- | --- | --- | ---: | ---: | ---: | ---: |");
for (const r of rows) console.log(`| ${r.workload} | ${r.language} | ${r.kind} | ${r.plainMs} | ${r.meteredMs} | ${r.ratio.toFixed(3)} | ${r.fuel} |`);
const summary = {
  meteringOverheadGeomean: round(geomean, 3),
  coldStartMs1MiB: round(coldStartMs1MiB, 1),
  tinyJobsPerSecond: round(tinyJobsPerSecond, 0),
  instrumentMsPerMiB: round(instrumentMsPerMiB, 1),
};
console.log(`\n| figure | value | target |\n| --- | ---: | --- |`);
console.log(`| meteringOverheadGeomean | ${summary.meteringOverheadGeomean}× | ≤ 1.15× |`);
console.log(`| coldStartMs1MiB (new module, warm job process) | ${summary.coldStartMs1MiB} ms | |`);
console.log(`| job process start (first job, spawn + loader) | ${round(processStartMs, 1)} ms | |`);
console.log(`| tinyJobsPerSecond | ${summary.tinyJobsPerSecond} | ≥ 200 |`);
console.log(`| instrumentMsPerMiB | ${summary.instrumentMsPerMiB} ms | ≤ 50 |`);

mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(
  new URL("./results/runtime.json", import.meta.url),
  JSON.stringify(
    {
      ...summary,
      machine: { cores: availableParallelism(), node: process.version, date: new Date().toISOString(), loadavg: loadavg().map((x) => round(x)) },
      meteringVersion: METERING_VERSION,
      processStartMs: round(processStartMs, 1),
      moduleBytes1MiB: big.length,
      rounds: ROUNDS,
      workloads: rows,
    },
    null,
    2,
  ) + "\n",
);
