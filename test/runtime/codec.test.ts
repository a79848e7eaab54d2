import { expect } from "chai";
import { Outcome } from "../../contracts/client/typed-data.js";
import { executeJob } from "../../runtime/job/execute.js";
import { admit } from "../../runtime/wasm/admission.js";
import { encodeModule } from "../../runtime/wasm/encode.js";
import { AdmissionError } from "../../runtime/wasm/errors.js";
import { instrument, METER_EXPORTS, type InstrumentedModule } from "../../runtime/wasm/instrument.js";
import { parseModule, type WasmModule } from "../../runtime/wasm/module.js";
import { DecodeError } from "../../runtime/wasm/reader.js";
import { buildModule, i32const } from "../helpers/wasm-builder.js";
import { generateModule, Rng } from "../helpers/wasm-gen.js";
import { spec } from "./spec.js";

/** Everything a decoded module says, without the raw section list (which holds the original bytes). */
function structure(m: WasmModule): string {
  const { sections: _s, present: _p, ...rest } = m;
  return JSON.stringify(rest, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString("hex") : typeof v === "bigint" ? v.toString() : v));
}

function summary(r: Awaited<ReturnType<typeof executeJob>>, withStdout: boolean): string {
  return JSON.stringify([r.outcome, r.exitCode, r.detail.replace(/^trap after reaching the memory limit: /, "trap: "), withStdout ? Buffer.from(r.stdout).toString("hex") : "", r.hostFault ?? null]);
}

const SEEDS = Number(process.env.CODEC_SEEDS ?? 120);

describe("runtime: decoder and encoder (generated modules)", function () {
  this.timeout(300_000);

  it("decode → encode of any generated module (LEB128s padded at random) is valid and decodes to the same module", () => {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const bytes = generateModule(seed, { padRate: seed % 4 === 0 ? 1 : 0.3, integersOnly: seed % 2 === 0 });
      expect(WebAssembly.validate(bytes), `generator seed ${seed}`).to.equal(true);
      const m = parseModule(bytes);
      const again = encodeModule(m).bytes;
      expect(WebAssembly.validate(again), `re-encoded seed ${seed}`).to.equal(true);
      expect(structure(parseModule(again)), `seed ${seed}`).to.equal(structure(m));
      // The encoder writes shortest LEB128s, so a second round trip is byte-identical.
      expect(Buffer.from(encodeModule(parseModule(again)).bytes).equals(Buffer.from(again)), `seed ${seed}`).to.equal(true);
      if (seed % 4 === 0) expect(again.length, "padding is gone").to.be.below(bytes.length);
    }
  });

  it("the re-encoded module behaves exactly as the original", async () => {
    for (let seed = 1; seed <= SEEDS / 2; seed++) {
      const bytes = generateModule(seed, { padRate: 0.5 });
      const again = encodeModule(parseModule(bytes)).bytes;
      const [a, b] = [await executeJob(spec(bytes), false), await executeJob(spec(again), false)];
      expect(summary(b, true), `seed ${seed}`).to.equal(summary(a, true));
    }
  });

  it("instrumenting any generated module gives a module V8 validates that behaves as the original", async () => {
    const outcomes = new Set<number>();
    for (let seed = 1; seed <= SEEDS; seed++) {
      const ints = seed % 2 === 0;
      const bytes = generateModule(seed, { padRate: 0.3, integersOnly: ints });
      const out = instrument(admit(bytes));
      expect(WebAssembly.validate(out.bytes), `instrumented seed ${seed}`).to.equal(true);
      // The name section survives, byte for byte (indices of the original functions do not move).
      const names = (m: WasmModule): string | undefined => m.customs.find((c) => c.name === "name")?.payload.toString();
      expect(names(parseModule(out.bytes)), `name section, seed ${seed}`).to.equal(names(parseModule(bytes)));
      const [plain, metered] = [await executeJob(spec(bytes), false), await executeJob(spec(bytes))];
      expect(metered.hostFault, `seed ${seed}: ${metered.detail}`).to.equal(undefined);
      // Float code may store NaNs, whose bits only the metered run makes canonical.
      expect(summary(metered, ints), `seed ${seed}`).to.equal(summary(plain, ints));
      expect(metered.fuelUsed > 0n).to.equal(true);
      outcomes.add(metered.outcome);
    }
    // The generator reaches both ends: modules that finish and modules that trap.
    expect([...outcomes].sort()).to.include.members([Outcome.Exited, Outcome.Trap]);
  });

  it("instruments each module the same whatever was instrumented before it (scratch buffers are reused)", () => {
    const seeds = Array.from({ length: Math.min(SEEDS, 40) }, (_, i) => i + 1);
    const key = (bytes: Uint8Array): string => {
      const out = instrument(admit(bytes));
      return Buffer.from(out.bytes).toString("hex") + JSON.stringify([...out.refunds]);
    };
    const first = seeds.map((seed) => key(generateModule(seed, { padRate: 0.3 })));
    // A much larger module in between, then the same modules in the opposite order.
    const body = (k: number): number[] => [...i32const(k), ...Array.from({ length: 200 }, () => [...i32const(k), 0x6a]).flat(), 0x1a];
    instrument(admit(buildModule({ memory: { min: 1 }, funcs: [{ code: [0x10, 1], export: "_start" }, ...Array.from({ length: 400 }, (_, k) => ({ code: body(k) }))] })));
    for (const seed of [...seeds].reverse()) expect(key(generateModule(seed, { padRate: 0.3 })), `seed ${seed}`).to.equal(first[seed - 1]);
  });

  it("fuel at a trap is the same whether every block that can trap stores it or only those after a join", () => {
    // Runs an instrumented module directly: fuel left plus the refund at the trap (host calls answer 0 and
    // charge nothing, the same for both).
    const run = (out: InstrumentedModule): string => {
      const module = new WebAssembly.Module(out.bytes);
      const imports: Record<string, Record<string, () => number>> = {};
      for (const i of WebAssembly.Module.imports(module)) (imports[i.module] ??= {})[i.name] = () => 0;
      const ex = new WebAssembly.Instance(module, imports as WebAssembly.Imports).exports;
      const global = (name: string): WebAssembly.Global => ex[name] as WebAssembly.Global;
      global(METER_EXPORTS.fuel).value = 1n << 40n;
      global(METER_EXPORTS.budget).value = 1n << 30n;
      try {
        (ex["_start"] as () => void)();
        return `exited ${(global(METER_EXPORTS.fuel).value as bigint).toString()}`;
      } catch (e) {
        if (!(e instanceof WebAssembly.RuntimeError)) throw e;
        const at = /wasm-function\[\d+\]:0x([0-9a-f]+)/.exec(e.stack ?? "")![1]!;
        const left = (global(METER_EXPORTS.fuel).value as bigint) + BigInt(out.refunds.get(parseInt(at, 16)) ?? 0);
        return `trap ${global(METER_EXPORTS.status).value as number} ${e.message} ${left.toString()}`;
      }
    };
    let traps = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const m = admit(generateModule(seed, { padRate: 0.3, integersOnly: seed % 2 === 0 }));
      const [reference, lazy] = [run(instrument(m, { syncAtTraps: true, chargeEachBranch: true })), run(instrument(m))];
      expect(lazy, `seed ${seed}`).to.equal(reference);
      if (lazy.startsWith("trap")) traps++;
    }
    expect(traps).to.be.greaterThan(SEEDS / 10);
  });

  it("a mutated module that V8 validates instruments into one V8 validates, or is refused with a named reason", () => {
    const rng = new Rng(99);
    let validMutants = 0;
    for (let i = 0; i < SEEDS * 10; i++) {
      const m = generateModule(1 + (i % SEEDS), { padRate: 0.2 }).slice();
      for (let k = 1 + rng.int(3); k > 0; k--) m[8 + rng.int(m.length - 8)] = rng.int(256);
      if (!WebAssembly.validate(m)) continue;
      validMutants++;
      try {
        const out = instrument(admit(m));
        expect(WebAssembly.validate(out.bytes), `mutant ${i}`).to.equal(true);
      } catch (e) {
        if (!(e instanceof AdmissionError || e instanceof DecodeError)) throw e;
        expect((e as Error).message).to.match(/not allowed|limit|reserved|_start|WASI|start section/);
      }
    }
    expect(validMutants).to.be.greaterThan(50);
  });
});
