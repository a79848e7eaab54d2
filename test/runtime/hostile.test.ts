import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { Outcome } from "../../contracts/client/typed-data.js";
import { executeJob, OUTPUT_CAPS } from "../../runtime/job/execute.js";
import { runJob, shutdownJobPool } from "../../runtime/job/index.js";
import { COSTS } from "../../runtime/wasm/cost-table.js";
import { i32const, startModule } from "../helpers/wasm-builder.js";
import { bundle, spec, text } from "./spec.js";
import { buildWorkloads, workload } from "./workloads.js";

/** Pids of this process's job processes. */
function jobProcesses(): number[] {
  return execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(process.pid)], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.includes("runtime/job/child.ts"))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

describe("runtime: hostile corpus", function () {
  this.timeout(120_000);
  before(() => buildWorkloads());
  after(() => shutdownJobPool());

  /** After every hostile job the host must still run an ordinary one. */
  async function hostStillUp(): Promise<void> {
    const r = await runJob(spec(workload("interp"), { input: bundle({ args: ["interp", "1"] }) }));
    expect(text(r.stdout)).to.equal("primes below 2000: 303\n");
  }

  it("an infinite loop runs out of fuel, charged the whole budget", async () => {
    const r = await runJob(spec(workload("hostile-spin"), { fuel: 50_000_000n }));
    expect(r.outcome).to.equal(Outcome.OutOfFuel);
    expect(r.fuelUsed).to.equal(50_000_000n);
    expect(r.detail).to.equal("out of fuel");
    expect(r.hostFault).to.equal(undefined);
    await hostStillUp();
  });

  it("a memory bomb stops at the job's memory limit", async () => {
    const r = await runJob(spec(workload("hostile-membomb"), { memoryMiB: 16 }));
    expect(r.outcome).to.equal(Outcome.OutOfMemory);
    expect(r.peakMemoryPages).to.be.at.most(16 * 16);
    expect(text(r.stdout)).to.match(/^allocation failed after 1[0-5] MiB\n$/);
    expect(r.fuelUsed > BigInt(10 * 16 * COSTS.memoryGrowPerPage)).to.equal(true);
    await hostStillUp();
  });

  it("deep recursion ends at the logical stack limit", async () => {
    const r = await runJob(spec(workload("hostile-recursion")));
    expect(r.outcome).to.equal(Outcome.StackLimit);
    expect(r.hostFault).to.equal(undefined);
    expect(r.fuelUsed > 0n).to.equal(true);
    await hostStillUp();
  });

  it("a 64 MiB module, random bytes and unknown imports are invalid modules", async () => {
    const big = new Uint8Array(64 * 1024 * 1024);
    big.set(startModule([]));
    const random = new Uint8Array(1 << 16).map((_, i) => (i * 2654435761) >>> 24);
    const imports = startModule([], { imports: [{ module: "env", name: "system" }] });
    for (const [m, reason] of [
      [big, /over the \d+-byte limit/],
      [random, /magic/],
      [imports, /env\.system is not in the WASI subset/],
    ] as const) {
      const r = await runJob(spec(m));
      expect(r.outcome).to.equal(Outcome.InvalidModule);
      expect(r.detail).to.match(reason);
      expect(r.fuelUsed).to.equal(0n);
    }
    await hostStillUp();
  });

  it("../ and absolute paths cannot leave the in-memory tree", async () => {
    const r = await runJob(spec(workload("hostile-escape"), { input: bundle({ files: { "ok.txt": Buffer.from("fine") } }) }));
    expect(r.outcome).to.equal(Outcome.Exited);
    const lines = text(r.stdout).trim().split("\n");
    expect(lines).to.have.length(6);
    expect(lines.filter((l) => l.endsWith("OPENED"))).to.deep.equal(["ok.txt -> OPENED"]);
    for (const l of lines.slice(0, 5)) expect(l).to.match(/-> (Operation not permitted|No such file or directory)$/);
  });

  it("huge stdout is capped and the job still ends by its fuel", async () => {
    const r = await runJob(spec(workload("hostile-bigout"), { fuel: 300_000_000n }));
    expect(r.outcome).to.equal(Outcome.OutOfFuel);
    expect(r.stdout.length).to.equal(OUTPUT_CAPS.stdout);
    expect(r.detail).to.match(/stdout truncated at its cap/);
    await hostStillUp();
  });

  it("a trap in the middle of a block is charged exactly", async () => {
    const DROP = 0x1a;
    const r = await runJob(spec(startModule([...i32const(9), DROP, ...i32const(1), ...i32const(0), 0x6f, DROP, ...i32const(2), DROP])));
    expect(r.outcome).to.equal(Outcome.Trap);
    expect(r.detail).to.match(/remainder by zero|divide by zero/);
    expect(r.fuelUsed).to.equal(4n + BigInt(COSTS.division));
    await hostStillUp();
  });

  it("the wall-clock watchdog kills a runaway job process as a host fault", async () => {
    const r = await runJob({ ...spec(workload("hostile-spin"), { fuel: 1n << 60n }), limits: { fuel: 1n << 60n, memoryMiB: 16, wallTimeoutMs: 400 } });
    expect(r.hostFault).to.match(/watchdog fired after 400 ms/);
    await hostStillUp();
  });

  it("a job process that dies mid-job (as when V8 crashes) fails that job only", async () => {
    const running = runJob({ ...spec(workload("hostile-spin")), limits: { fuel: 1n << 60n, memoryMiB: 16, wallTimeoutMs: 20_000 } });
    await new Promise((r) => setTimeout(r, 700));
    const children = jobProcesses();
    expect(children.length).to.be.greaterThan(0);
    for (const pid of children) process.kill(pid, "SIGKILL");
    const r = await running;
    expect(r.hostFault).to.match(/job process died \(SIGKILL\)/);
    await hostStillUp();
  });

  it("randomly corrupted modules end with a named outcome, never a host fault", async () => {
    const original = workload("interp");
    let x = 2024;
    const next = (n: number): number => ((x = (x * 1103515245 + 12345) >>> 0), x % n);
    const seen = new Set<number>();
    for (let i = 0; i < 150; i++) {
      const m = original.slice();
      for (let j = 0, k = 1 + next(3); j < k; j++) m[next(m.length)] = next(256);
      const r = await executeJob(spec(m, { fuel: 20_000_000n, input: bundle({ args: ["interp", "1"] }) }));
      expect(r.hostFault, r.detail).to.equal(undefined);
      expect(r.detail).to.be.a("string").and.not.equal("");
      seen.add(r.outcome);
    }
    expect(seen.has(Outcome.InvalidModule) && seen.has(Outcome.Exited)).to.equal(true);
  });

  it("an idle job process that died is replaced without failing the next job", async () => {
    await hostStillUp();
    for (const pid of jobProcesses()) process.kill(pid, "SIGKILL");
    await hostStillUp();
  });

  it("a bad job spec is refused with the reason", async () => {
    const s = spec(startModule([]));
    await runJob({ ...s, seed: new Uint8Array(3) }).then(
      () => expect.fail("accepted a 3-byte seed"),
      (e: Error) => expect(e.message).to.match(/seed must be 32 bytes/),
    );
  });
});
