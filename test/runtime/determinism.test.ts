import { expect } from "chai";
import { runJob, shutdownJobPool, type JobResult, type JobSpec } from "../../runtime/job/index.js";
import { i32const, startModule, T } from "../helpers/wasm-builder.js";
import { workloadCases } from "./cases.js";
import { spec } from "./spec.js";
import { buildWorkloads, workload } from "./workloads.js";

/**
 * _start calls f(i) for i = 0, 1, 2... about a million times; f loads at i and then does more work in
 * the same block, so the last call traps mid-block after V8 has had every reason to optimise (and
 * inline) f. The refund must not depend on which tier ran it.
 */
function hotCalleeTrap(): Uint8Array {
  const f = { params: [T.i32], results: [T.i32], code: [0x20, 0, 0x28, 2, 0, ...i32const(1), 0x6a, ...i32const(2), 0x6a] };
  const loop = [0x03, 0x40, 0x20, 0, 0x10, 1, 0x1a, 0x20, 0, ...i32const(1), 0x6a, 0x21, 0, 0x0c, 0, 0x0b];
  return startModule(loop, { locals: [T.i32], memory: { min: 16, max: 16 }, funcs: [f] });
}

function summary(r: JobResult): string {
  return JSON.stringify([r.outcome, r.exitCode, r.fuelUsed.toString(), r.peakMemoryPages, r.outputHash, r.hostFault ?? null]);
}

describe("runtime: determinism", function () {
  this.timeout(180_000);
  before(() => buildWorkloads());
  after(() => shutdownJobPool());

  const jobs = (): [string, JobSpec][] => [
    ...workloadCases().map((c): [string, JobSpec] => [c.workload, spec(workload(c.workload), { input: c.input })]),
    ["hostile-recursion", spec(workload("hostile-recursion"))],
    ["hostile-membomb", spec(workload("hostile-membomb"), { memoryMiB: 8 })],
    ["trap mid-block", spec(startModule([...i32const(1), 0x1a, ...i32const(70000), 0x28, 2, 0, 0x1a, ...i32const(3), 0x1a]))],
    ["trap mid-block in a hot callee", spec(hotCalleeTrap())],
  ];

  it("the same module and input give the same fuel and output hash in 3 runs", async () => {
    for (const [name, job] of jobs()) {
      const runs = [await runJob(job), await runJob(job), await runJob(job)];
      expect(runs[0]!.hostFault, name).to.equal(undefined);
      expect(runs.map(summary), name).to.deep.equal([summary(runs[0]!), summary(runs[0]!), summary(runs[0]!)]);
    }
  });

  it("a mid-block trap in a hot callee is charged the same in every tier", async () => {
    const job = spec(hotCalleeTrap());
    const runs = [
      await runJob(job),
      await runJob(job, { v8Flags: ["--liftoff-only"] }),
      await runJob(job, { v8Flags: ["--no-liftoff"] }),
      // Off by default in Node 22's V8; a later Node may turn it on.
      await runJob(job, { v8Flags: ["--no-liftoff", "--experimental-wasm-inlining"] }),
    ];
    for (const r of runs) expect(r.detail).to.match(/out of bounds/);
    expect(runs.map(summary)).to.deep.equal(runs.map(() => summary(runs[0]!)));
  });

  it("Liftoff-only and TurboFan-only processes agree on fuel and output hash", async () => {
    for (const [name, job] of jobs()) {
      const liftoff = await runJob(job, { v8Flags: ["--liftoff-only"] });
      const turbofan = await runJob(job, { v8Flags: ["--no-liftoff"] });
      expect(liftoff.hostFault, name).to.equal(undefined);
      expect(summary(turbofan), name).to.equal(summary(liftoff));
    }
  });
});
