import { expect } from "chai";
import { Outcome } from "../../contracts/client/typed-data.js";
import { executeJob } from "../../runtime/job/execute.js";
import { runJob, shutdownJobPool } from "../../runtime/job/index.js";
import { workloadCases } from "./cases.js";
import { spec, text } from "./spec.js";
import { buildWorkloads, workload } from "./workloads.js";

describe("runtime: workloads built from source", function () {
  this.timeout(120_000);
  before(() => buildWorkloads());
  after(() => shutdownJobPool());

  it("run to completion in a job process with the expected output", async () => {
    const expected: Record<string, RegExp> = {
      checksum: /bytes=262144 crc32=[0-9a-f]{8} fnv1a=[0-9a-f]{16}\nstdin bytes=1700 /,
      sort: /^n=20000 min=-?\d+ max=\d+ median=-?\d+ hash=/,
      interp: /^primes below 10000: 1229\n$/,
      strings: /^words=40000 distinct=16 top=\w+ transformed=/,
      fileio: /log size=909\nline 50: line 050\nafter truncate size=90\nunlink=0 exists-after=0\nmissing file errno=44\nrename=0 sleep=0\nout: \.\/ \.\.\/ final\.txt log\.txt result\.bin sub\/\n$/,
      entropy: /^random=[0-9a-f]{32} elapsed_ns=\d+ year=2024 env=test args=1\n$/,
      "as-sieve": /^primes<=500000 count=41538 /,
      "as-textproc": /^words=10000 vowels=\d+ hash=\d+ first=[A-Z,]+\n$/,
      "rust-lz": /^lz in=50001 out=11837 ratio=0\.237 sum=298a0a40\n$/,
      "rust-sha256": /^sha256 bytes=100000 chain=bdd04e483ef1b762ced1bdb4ab1863f9d93dc85100233ce9de3474d87d5bf2ec\n$/,
      "rust-json": /^json bytes=49006 out=40546 ap-south:52:31223362 edge "lab":50:26926489 eu-west:55:30857614 us-east:52:22312991\n$/,
      "rust-matmul": /^matmul n=64 trace=29\.385971 sum=-3\.036217 logdet=128\.864046\n$/,
      "rust-vm": /^vm result=95661006765 steps=1972938\n$/,
      "cpp-image": /^image 128x192 blur=9d3ca372 edges=07d4b429 eq=898150bf half=e25a5bef\n$/,
      "cpp-wordfreq": /^wordfreq bytes=58576 distinct=832 bigrams=2471 top=edge:366,sandbox:365 best=bid_deterministic:26\n$/,
    };
    for (const c of workloadCases()) {
      const r = await runJob(spec(workload(c.workload), { input: c.input }));
      expect(r.outcome, `${c.workload}: ${r.detail}`).to.equal(Outcome.Exited);
      expect(r.exitCode).to.equal(0);
      expect(r.fuelUsed > 0n).to.equal(true);
      expect(text(r.stdout), c.workload).to.match(expected[c.workload]!);
    }
  });

  it("write their declared outputs into the result", async () => {
    const [strings, fileio] = ["strings", "fileio"].map((n) => workloadCases().find((c) => c.workload === n)!);
    const s = await runJob(spec(workload("strings"), { input: strings!.input }));
    expect(text(s.outputs["report.txt"]!)).to.match(/^words=40000 distinct=16\n/);
    const f = await runJob(spec(workload("fileio"), { input: fileio!.input }));
    expect(text(f.outputs["out/result.bin"]!)).to.match(/^fedcba9876543210LINE 000\n/);
    expect(f.outputs["out/log.txt"]!.length).to.equal(90);
  });

  it("give identical outputs metered and unmetered", async () => {
    for (const c of workloadCases()) {
      const job = spec(workload(c.workload), { input: c.input });
      const [plain, metered] = [await executeJob(job, false), await executeJob(job, true)];
      expect(metered.outcome).to.equal(plain.outcome);
      expect(metered.exitCode).to.equal(plain.exitCode);
      if (c.clockDependent) {
        // The virtual clock runs on fuel, which an unmetered run does not have; randomness still matches.
        expect(text(metered.stdout).slice(0, 39)).to.equal(text(plain.stdout).slice(0, 39));
        continue;
      }
      expect(text(metered.stdout), c.workload).to.equal(text(plain.stdout));
      expect(metered.outputHash, c.workload).to.equal(plain.outputHash);
    }
  });

  it("see a seeded random stream and clocks driven by fuel", async () => {
    const entropy = workloadCases().find((c) => c.workload === "entropy")!;
    const a = await runJob(spec(workload("entropy"), { input: entropy.input, seed: new Uint8Array(32).fill(1) }));
    const b = await runJob(spec(workload("entropy"), { input: entropy.input, seed: new Uint8Array(32).fill(2) }));
    expect(text(a.stdout).slice(0, 39)).not.to.equal(text(b.stdout).slice(0, 39));
    const elapsed = Number(/elapsed_ns=(\d+)/.exec(text(a.stdout))![1]);
    expect(elapsed).to.be.greaterThan(10_000); // a 10000-iteration loop costs more fuel than that
    expect(text(a.stdout)).to.equal(text(b.stdout).replace(/random=\w+/, /random=\w+/.exec(text(a.stdout))![0]));
  });
});
