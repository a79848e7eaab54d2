import { expect } from "chai";
import { runJob, shutdownJobPool, type JobResult, type JobSpec } from "../../runtime/job/index.js";
import { i32const, startModule } from "../helpers/wasm-builder.js";
import { workloadCases } from "./cases.js";
import { spec } from "./spec.js";
import { buildWorkloads, workload } from "./workloads.js";

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
  ];

  it("the same module and input give the same fuel and output hash in 3 runs", async () => {
    for (const [name, job] of jobs()) {
      const runs = [await runJob(job), await runJob(job), await runJob(job)];
      expect(runs[0]!.hostFault, name).to.equal(undefined);
      expect(runs.map(summary), name).to.deep.equal([summary(runs[0]!), summary(runs[0]!), summary(runs[0]!)]);
    }
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
