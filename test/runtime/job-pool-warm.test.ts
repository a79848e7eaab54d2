import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { runJob, shutdownJobPool, warmJobPool } from "../../runtime/job/index.js";
import { ensureWorkloads, workload } from "../../runtime/workloads/build.js";

/** The pids of this process's job processes (runtime/job/child.ts), as ps sees them. */
function jobProcesses(): number[] {
  const out = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(process.pid)], { encoding: "utf8" });
  return out.split("\n").filter((line) => line.includes("child.ts")).map((line) => Number(line.trim().split(/\s+/)[0]));
}

async function until(check: () => boolean, ms: number): Promise<void> {
  for (const end = Date.now() + ms; !check(); ) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("runtime: a warmed job pool", function () {
  this.timeout(60_000);
  before(() => {
    shutdownJobPool();
    ensureWorkloads();
  });
  after(() => shutdownJobPool());

  it("starts its job processes before the first job, and the jobs run on them", async () => {
    expect(jobProcesses()).to.have.length(0);
    warmJobPool();
    const warmed = jobProcesses();
    expect(warmed).to.have.length(availableParallelism());
    const spec = (i: number) => ({
      module: workload("checksum"),
      input: { args: ["checksum"], env: {}, stdin: new TextEncoder().encode(`job ${i}\n`), files: {}, outputs: [] },
      seed: new Uint8Array(32),
      limits: { fuel: 200_000_000n, memoryMiB: 16, wallTimeoutMs: 30_000 },
    });
    const results = await Promise.all(Array.from({ length: 2 * availableParallelism() }, (_, i) => runJob(spec(i))));
    expect(results.map((r) => r.outcome)).to.deep.equal(results.map(() => 0));
    expect(jobProcesses().sort()).to.deep.equal([...warmed].sort());
    warmJobPool(); // already full: starts nothing more
    expect(jobProcesses().sort()).to.deep.equal([...warmed].sort());
    shutdownJobPool();
    await until(() => jobProcesses().length === 0, 5000);
  });
});
