// A forward br_if's fall-through is charged with the block before it (one charge instead of two), the
// taken branch gives the fall-through's cost back: fuel must be the same as when each block charges
// itself, at exits, traps, out-of-fuel and host-visible points alike.
import { expect } from "chai";
import { Outcome } from "../../contracts/client/typed-data.js";
import { executeJob } from "../../runtime/job/execute.js";
import { admit } from "../../runtime/wasm/admission.js";
import { instrument, METER_EXPORTS, TrapStatus, type InstrumentedModule, type InstrumentOptions } from "../../runtime/wasm/instrument.js";
import { buildModule, i32const, startModule, T, type FuncDef } from "../helpers/wasm-builder.js";
import { Rng } from "../helpers/wasm-gen.js";
import { spec } from "./spec.js";

const REFERENCE: InstrumentOptions = { chargeEachBranch: true, syncAtTraps: true };
const DROP = 0x1a, END = 0x0b, BLOCK = 0x02, LOOP = 0x03, IF = 0x04, ELSE = 0x05, BR = 0x0c, BR_IF = 0x0d, VOID = 0x40;

/** Runs an instrumented module's `_start` with `limit` fuel, as the job runner judges the outcome. */
function run(out: InstrumentedModule, limit: bigint): string {
  const ex = new WebAssembly.Instance(new WebAssembly.Module(out.bytes), {}).exports;
  const global = (name: string): WebAssembly.Global => ex[name] as WebAssembly.Global;
  global(METER_EXPORTS.fuel).value = limit;
  global(METER_EXPORTS.budget).value = 1n << 30n;
  let end: string;
  let left: bigint;
  try {
    (ex["_start"] as () => void)();
    left = global(METER_EXPORTS.fuel).value as bigint;
    end = "exit";
  } catch (e) {
    if (!(e instanceof WebAssembly.RuntimeError)) throw e;
    if ((global(METER_EXPORTS.status).value as number) === TrapStatus.OutOfFuel) return "out of fuel";
    const at = /wasm-function\[\d+\]:0x([0-9a-f]+)/.exec(e.stack ?? "")![1]!;
    left = (global(METER_EXPORTS.fuel).value as bigint) + BigInt(out.refunds.get(parseInt(at, 16)) ?? 0);
    end = `trap ${e.message}`;
  }
  return left < 0n ? "out of fuel" : `${end} ${(limit - left).toString()}`;
}

/**
 * Random structured functions over i32 locals: forward br_if out of nested blocks (with and without
 * values, to the function's own label too), counted loops, if/else, loads that may go out of bounds,
 * divisions that may trap, calls, memory.fill and early returns.
 */
function generate(seed: number): Uint8Array {
  const rng = new Rng(seed);
  const nFuncs = 1 + rng.int(4);
  const VARS = 4; // locals 0..3 are free; 4.. are loop counters
  const funcs: FuncDef[] = [];
  for (let f = 0; f < nFuncs; f++) {
    const code: number[] = [];
    const labels: boolean[] = []; // per open label: a forward one without values
    const get = (): number[] => [0x20, rng.int(VARS)];
    const value = (): number[] => (rng.chance(0.5) ? get() : i32const(rng.int(rng.chance(0.2) ? 3 : 70_000)));
    const stmt = (depth: number): void => {
      switch (rng.int(depth > 0 ? 12 : 5)) {
        case 0:
          code.push(...value(), ...value(), rng.pick([0x6a, 0x6b, 0x6c, 0x71, 0x73]), 0x21, rng.int(VARS));
          return;
        case 1: // a load: out of bounds past 65,532
          code.push(...(rng.chance(0.9) ? i32const(rng.int(65_000)) : value()), 0x28, 2, 0, 0x21, rng.int(VARS));
          return;
        case 2: // a division: traps on zero
          code.push(...value(), ...value(), rng.pick([0x6d, 0x6e, 0x6f, 0x70]), 0x21, rng.int(VARS));
          return;
        case 3:
        case 4: {
          // a forward br_if to an enclosing block without values (or the function's label)
          const targets = labels.map((ok, i) => (ok ? labels.length - 1 - i : -1)).filter((d) => d >= 0);
          targets.push(labels.length);
          code.push(...value(), ...i32const(rng.int(40_000)), 0x49, BR_IF, rng.pick(targets));
          return;
        }
        case 5: // a br_if that carries a value (never merged)
          code.push(BLOCK, T.i32, ...i32const(7), ...value(), BR_IF, 0, DROP, ...value(), END, 0x21, rng.int(VARS));
          return;
        case 6:
        case 7: {
          code.push(BLOCK, VOID);
          labels.push(true);
          for (let k = rng.int(4); k >= 0; k--) stmt(depth - 1);
          labels.pop();
          code.push(END);
          return;
        }
        case 8: {
          const c = VARS + depth;
          code.push(...i32const(1 + rng.int(4)), 0x21, c, LOOP, VOID);
          labels.push(false);
          for (let k = rng.int(3); k >= 0; k--) stmt(depth - 1);
          labels.pop();
          code.push(0x20, c, ...i32const(1), 0x6b, 0x22, c, BR_IF, 0, END);
          return;
        }
        case 9: {
          code.push(...value(), IF, VOID);
          labels.push(true);
          for (let k = rng.int(3); k >= 0; k--) stmt(depth - 1);
          if (rng.chance(0.5)) {
            code.push(ELSE);
            for (let k = rng.int(3); k >= 0; k--) stmt(depth - 1);
          }
          labels.pop();
          code.push(END);
          return;
        }
        case 10:
          if (f + 1 < nFuncs) code.push(0x10, f + 1 + rng.int(nFuncs - f - 1));
          else code.push(...i32const(rng.int(60_000)), ...i32const(rng.int(256)), ...i32const(rng.int(2000)), 0xfc, 11, 0);
          return;
        default:
          if (rng.chance(0.3)) code.push(...value(), IF, VOID, 0x0f, END);
          else if (rng.chance(0.5)) code.push(BLOCK, VOID, BR, 0, ...i32const(1), DROP, END);
          return;
      }
    };
    for (let k = 2 + rng.int(6); k >= 0; k--) stmt(3);
    funcs.push({ code, locals: Array.from({ length: VARS + 4 }, () => T.i32), ...(f === 0 ? { export: "_start" } : {}) });
  }
  return buildModule({ memory: { min: 1 }, funcs });
}

describe("runtime: a forward br_if's fall-through charged with the block before it", () => {
  it("gives the same fuel as one charge per block, at exits, traps and out of fuel (generated modules)", () => {
    let merged = 0;
    const seen = new Set<string>();
    for (let seed = 1; seed <= 300; seed++) {
      const m = admit(generate(seed));
      const [ref, lazy, each] = [instrument(m, REFERENCE), instrument(m), instrument(m, { chargeEachBranch: true })];
      if (!Buffer.from(lazy.bytes).equals(Buffer.from(each.bytes))) merged++;
      const full = run(ref, 1n << 40n);
      seen.add(full.split(" ")[0]!);
      expect(run(lazy, 1n << 40n), `seed ${seed}`).to.equal(full);
      const used = BigInt(full.split(" ").pop()!);
      // Every limit near the end, and a few on the way: the same outcome and fuel at each.
      for (const limit of [used, used - 1n, used + 1n, used / 2n, used / 3n, 1n, 5n, 20n])
        if (limit > 0n) expect(run(lazy, limit), `seed ${seed}, limit ${limit}`).to.equal(run(ref, limit));
    }
    expect(merged, "modules where a charge was merged").to.be.greaterThan(200);
    expect([...seen].sort()).to.deep.equal(["exit", "trap"]);
  });

  it("gives the fall-through's cost back when the branch is taken", async () => {
    // block { 1; br_if 0 (taken); 2; drop; 3; drop } 4; drop: the const and br_if, then the 2 after the block
    const taken = await executeJob(spec(startModule([BLOCK, VOID, ...i32const(1), BR_IF, 0, ...i32const(2), DROP, ...i32const(3), DROP, END, ...i32const(4), DROP])));
    expect(taken.outcome).to.equal(Outcome.Exited);
    expect(taken.fuelUsed).to.equal(4n);
    const through = await executeJob(spec(startModule([BLOCK, VOID, ...i32const(0), BR_IF, 0, ...i32const(2), DROP, ...i32const(3), DROP, END, ...i32const(4), DROP])));
    expect(through.fuelUsed).to.equal(8n);
  });

  it("a trap after a taken branch out of a loop (the global ahead of the count) is refunded exactly", async () => {
    // block { loop { load 0; drop; 1; br_if 1 (taken: out); 5; drop; br 0 } } load 70000 (traps)
    const load = (at: number): number[] => [...i32const(at), 0x28, 2, 0];
    const code = [BLOCK, VOID, LOOP, VOID, ...load(0), DROP, ...i32const(1), BR_IF, 1, ...i32const(5), DROP, BR, 0, END, END, ...load(70_000), DROP];
    const r = await executeJob(spec(startModule(code)));
    expect(r.detail).to.match(/out of bounds/);
    // load 0 (2), drop, const, br_if = 5; then the const of the trapping load and the load = 2
    expect(r.fuelUsed).to.equal(7n);
  });

  it("checks fuel at a loop header against what was charged before the merged blocks", async () => {
    // loop { 1; br_if 1 (out, taken on the last round); 9 consts and drops; br 0 }: a header block of
    // 2, 18 charged ahead and given back on the way out
    const body = Array.from({ length: 9 }, () => [...i32const(1), DROP]).flat();
    const mod = (rounds: number): Uint8Array =>
      startModule(
        [...i32const(rounds), 0x21, 0, BLOCK, VOID, LOOP, VOID, 0x20, 0, 0x45, BR_IF, 1, 0x20, 0, ...i32const(1), 0x6b, 0x21, 0, ...body, BR, 0, END, END],
        { locals: [T.i32] },
      );
    const full = await executeJob(spec(mod(3)));
    expect(full.outcome).to.equal(Outcome.Exited);
    const exact = await executeJob(spec(mod(3), { fuel: full.fuelUsed }));
    expect([exact.outcome, exact.fuelUsed]).to.deep.equal([Outcome.Exited, full.fuelUsed]);
    const short = await executeJob(spec(mod(3), { fuel: full.fuelUsed - 1n }));
    expect(short.outcome).to.equal(Outcome.OutOfFuel);
    // The last round needs only its header block: the blocks charged ahead for it never run.
    const ref = run(instrument(admit(mod(3)), REFERENCE), full.fuelUsed);
    expect(ref).to.equal(`exit ${full.fuelUsed.toString()}`);
  });

  it("does not merge across a call (the callee must see exact fuel) nor into a br_if that carries values", () => {
    const call = buildModule({
      memory: { min: 1 },
      funcs: [{ code: [BLOCK, VOID, ...i32const(0), BR_IF, 0, 0x10, 1, END], export: "_start" }, { code: [] }],
    });
    const m = admit(call);
    expect(Buffer.from(instrument(m).bytes).equals(Buffer.from(instrument(m, { chargeEachBranch: true }).bytes))).to.equal(true);
    const withValue = startModule([BLOCK, T.i32, ...i32const(1), ...i32const(0), BR_IF, 0, END, DROP]);
    const w = admit(withValue);
    expect(Buffer.from(instrument(w).bytes).equals(Buffer.from(instrument(w, { chargeEachBranch: true }).bytes))).to.equal(true);
  });
});
