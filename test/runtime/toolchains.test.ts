import { expect } from "chai";
import { Outcome } from "../../contracts/client/typed-data.js";
import { runJob, shutdownJobPool } from "../../runtime/job/index.js";
import { WASI_FUNCTIONS } from "../../runtime/wasi/names.js";
import { admit } from "../../runtime/wasm/admission.js";
import { encodeModule } from "../../runtime/wasm/encode.js";
import { instrument } from "../../runtime/wasm/instrument.js";
import { parseModule } from "../../runtime/wasm/module.js";
import { ensureWorkloads } from "../../runtime/workloads/build.js";
import { bundle, spec, text } from "./spec.js";
import { buildWorkloads, workload } from "./workloads.js";

/** The input both conformance programs expect. */
const conformanceInput = bundle({
  args: ["conformance", "scratch"],
  env: { A: "1", B: "two" },
  stdin: Buffer.from("stdin-bytes"),
  files: { "data/in.txt": Buffer.from("hello world") },
  dirs: ["scratch"],
});

describe("runtime: binaries from real toolchains, run as emitted", function () {
  this.timeout(600_000);
  before(() => buildWorkloads());
  after(() => shutdownJobPool());

  const names = (): string[] => Object.keys(ensureWorkloads()).sort();

  it("builds C, C++, Rust and AssemblyScript workloads and runs every one unmodified", async () => {
    const langs = new Set(names().map((n) => (n.startsWith("rust-") ? "Rust" : n.startsWith("cpp-") ? "C++" : n.startsWith("as-") ? "AS" : "C")));
    expect([...langs].sort()).to.deep.equal(["AS", "C", "C++", "Rust"]);
    for (const name of names().filter((n) => /^(rust|cpp)-/.test(n))) {
      const r = await runJob(spec(workload(name), { input: bundle({ args: [name, "1"] }) }));
      expect(r.outcome, `${name}: ${r.detail} ${text(r.stderr)}`).to.equal(Outcome.Exited);
      expect(r.hostFault).to.equal(undefined);
    }
  });

  it("decodes and re-encodes every toolchain binary into an equivalent valid module, and keeps its name section when metered", () => {
    for (const name of names()) {
      const bytes = workload(name);
      const m = parseModule(bytes);
      const again = encodeModule(m).bytes;
      expect(WebAssembly.validate(again), name).to.equal(true);
      expect(parseModule(again).code.map((f) => Buffer.from(f.body).toString("hex")), name).to.deep.equal(m.code.map((f) => Buffer.from(f.body).toString("hex")));
      const metered = parseModule(instrument(admit(bytes)).bytes);
      expect(metered.customs.map((c) => c.name), name).to.deep.equal(m.customs.map((c) => c.name));
      if (name.startsWith("rust-")) expect(m.customs.map((c) => c.name), name).to.include("name");
    }
  });

  for (const lang of ["c", "rust"]) {
    it(`passes the WASI preview 1 conformance program in ${lang === "c" ? "C" : "Rust"}`, async () => {
      const r = await runJob(spec(workload(`conformance-${lang}-wasi`), { input: conformanceInput }));
      const out = text(r.stdout);
      expect(out.split("\n").filter((l) => l.startsWith("FAIL")), out).to.deep.equal([]);
      expect(r.outcome, r.detail).to.equal(Outcome.Exited);
      expect(r.exitCode).to.equal(0);
      expect(out).to.match(/\n0 failures\n$/);
      // The same program gives the same fuel and output every time.
      const again = await runJob(spec(workload(`conformance-${lang}-wasi`), { input: conformanceInput }));
      expect([again.fuelUsed, again.outputHash]).to.deep.equal([r.fuelUsed, r.outputHash]);
    });
  }

  it("the conformance programs between them call every function of the preview 1 witx", () => {
    const imported = new Set<string>();
    for (const lang of ["c", "rust"]) for (const i of parseModule(workload(`conformance-${lang}-wasi`)).imports) imported.add(i.name);
    expect(WASI_FUNCTIONS.filter((f) => !imported.has(f))).to.deep.equal([]);
  });
});
