// Internal functions (reachable only by this module's direct calls) receive and return the fuel count
// as an extra i64 parameter and result instead of reloading the global: fuel must be the same as when
// every function reads the global, at exits, traps, out of fuel and host calls.
import { expect } from "chai";
import { Outcome } from "../../contracts/client/typed-data.js";
import { executeJob } from "../../runtime/job/execute.js";
import { admit } from "../../runtime/wasm/admission.js";
import { instrument } from "../../runtime/wasm/instrument.js";
import { parseModule } from "../../runtime/wasm/module.js";
import { buildModule, i32const, T } from "../helpers/wasm-builder.js";
import { generateModule } from "../helpers/wasm-gen.js";
import { expectSameRuns, generate, run } from "./metered-run.js";
import { spec } from "./spec.js";

const I64 = 0x7e;
const LOAD = [0x28, 2, 0];

describe("runtime: the fuel count passed to internal functions as a parameter and result", () => {
  it("gives the same fuel, outcomes and host-visible counts as reading the global (generated modules)", () => {
    let changed = 0;
    const seen = new Set<string>();
    for (let seed = 1; seed <= 300; seed++) {
      const m = admit(generate(seed));
      const ref = instrument(m, { fuelThroughGlobal: true });
      // Small functions with results take the count only; with no size threshold they return it too.
      for (const lazy of [instrument(m), instrument(m, { fuelResultMinBytes: 0 })]) {
        expect(WebAssembly.validate(lazy.bytes), `seed ${seed}`).to.equal(true);
        if (!Buffer.from(lazy.bytes).equals(Buffer.from(ref.bytes))) changed++;
        seen.add(expectSameRuns(lazy, ref, `seed ${seed}`, [1n, 7n, 30n]).split(" ")[0]!);
      }
    }
    expect(changed, "modules with an internal function").to.be.greaterThan(300);
    expect([...seen].sort()).to.deep.equal(["exit", "trap"]);
  });

  it("gives the same fuel on the general generated modules (tables, call_indirect, every feature)", () => {
    for (let seed = 1; seed <= 120; seed++) {
      const m = admit(generateModule(seed, { padRate: 0.3, integersOnly: seed % 2 === 0 }));
      const [ref, lazy] = [instrument(m, { fuelThroughGlobal: true }), instrument(m)];
      expect(WebAssembly.validate(lazy.bytes), `seed ${seed}`).to.equal(true);
      expect(run(lazy, 1n << 40n), `seed ${seed}`).to.equal(run(ref, 1n << 40n));
      expect(run(lazy, 200n), `seed ${seed}`).to.equal(run(ref, 200n));
    }
  });

  it("changes the type of internal functions only: exported, start, table and ref.func functions keep theirs", () => {
    // 0 _start (exported), 1 internal, 2 exported and called, 3 in a table (called through it), 4 named by ref.func
    const table: [number, number[]] = [4, [1, 0x70, 0x00, 0x01]];
    const elements: [number, number[]] = [9, [2, 0x00, 0x41, 0x00, 0x0b, 0x01, 3, 0x03, 0x00, 0x01, 4]];
    const code = [0x10, 1, 0x1a, 0x10, 2, 0x1a, ...i32const(0), 0x11, 0, 0, 0xd2, 4, 0x1a];
    const bytes = buildModule({
      memory: { min: 1 },
      funcs: [
        { code, export: "_start" },
        { code: [...i32const(1)], results: [T.i32] },
        { code: [...i32const(2)], results: [T.i32], export: "two" },
        { code: [...i32const(0), ...LOAD, 0x1a] },
        { code: [] },
      ],
      extra: [table, elements],
    });
    expect(WebAssembly.validate(bytes)).to.equal(true);
    for (const [options, fuelResult] of [[{ fuelResultMinBytes: 0 }, [T.i32, I64]], [{}, [T.i32]]] as const) {
      const out = parseModule(instrument(admit(bytes), options).bytes);
      const results = (f: number): number[] => out.types[out.functionTypes[f]!]!.results;
      expect(results(1)).to.deep.equal(fuelResult);
      for (const f of [0, 3, 4]) expect(results(f), `function ${f}`).to.deep.equal([]);
      expect(results(2)).to.deep.equal([T.i32]);
      expect(out.types[out.functionTypes[1]!]!.params).to.deep.equal([I64]);
      expect(out.types[out.functionTypes[2]!]!.params).to.deep.equal([]);
    }
  });

  it("is exact when an internal function traps, and its caller's locals keep their values", async () => {
    // internal f(x): y = x + 1; load (y * 70000) traps unless y = 0
    const f = { params: [T.i32], results: [T.i32], locals: [T.i32], code: [0x20, 0, ...i32const(1), 0x6a, 0x22, 1, ...i32const(70_000), 0x6c, ...LOAD] };
    const mod = (x: number): Uint8Array =>
      buildModule({ memory: { min: 1 }, funcs: [{ code: [...i32const(5), 0x21, 0, ...i32const(x), 0x10, 1, 0x1a, 0x20, 0, 0x1a], locals: [T.i32], export: "_start" }, f] });
    const ok = await executeJob(spec(mod(-1)));
    expect(ok.outcome).to.equal(Outcome.Exited);
    const trap = await executeJob(spec(mod(0)));
    expect(trap.detail).to.match(/out of bounds/);
    // _start: const, set, const, call (5) = 8 charged before the call; f: 7 instructions up to the load
    expect(trap.fuelUsed).to.equal(8n + 7n);
    // then drop, local.get, drop back in _start
    expect(ok.fuelUsed).to.equal(8n + 7n + 3n);
    expect(run(instrument(admit(mod(0)), { fuelThroughGlobal: true }), 1000n)).to.match(/ 15 \[\]$/);
    expect(run(instrument(admit(mod(0)), { fuelResultMinBytes: 0 }), 1000n)).to.match(/ 15 \[\]$/);
    expect(run(instrument(admit(mod(-1)), { fuelResultMinBytes: 0 }), 1000n)).to.match(/^exit 18 \[\]$/);
  });
});
