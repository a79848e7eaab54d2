// A forward br_if's fall-through is charged with the block before it (one charge instead of two), the
// taken branch gives the fall-through's cost back: fuel must be the same as when each block charges
// itself, at exits, traps, out-of-fuel and host-visible points alike.
import { expect } from "chai";
import { Outcome } from "../../contracts/client/typed-data.js";
import { executeJob } from "../../runtime/job/execute.js";
import { admit } from "../../runtime/wasm/admission.js";
import { instrument, type InstrumentOptions } from "../../runtime/wasm/instrument.js";
import { buildModule, i32const, startModule, T } from "../helpers/wasm-builder.js";
import { BLOCK, BR, BR_IF, DROP, END, expectSameRuns, generate, LOOP, run, VOID } from "./metered-run.js";
import { spec } from "./spec.js";

const REFERENCE: InstrumentOptions = { chargeEachBranch: true, syncAtTraps: true };

describe("runtime: a forward br_if's fall-through charged with the block before it", () => {
  it("gives the same fuel as one charge per block, at exits, traps and out of fuel (generated modules)", () => {
    let merged = 0;
    const seen = new Set<string>();
    for (let seed = 1; seed <= 300; seed++) {
      const m = admit(generate(seed));
      const [ref, lazy, each] = [instrument(m, REFERENCE), instrument(m), instrument(m, { chargeEachBranch: true })];
      if (!Buffer.from(lazy.bytes).equals(Buffer.from(each.bytes))) merged++;
      seen.add(expectSameRuns(lazy, ref, `seed ${seed}`, [1n, 5n, 20n]).split(" ")[0]!);
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
    expect(ref).to.equal(`exit ${full.fuelUsed.toString()} []`);
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
