// Runs instrumented modules directly (as the job runner judges their outcome) and generates random
// structured modules for the metering property tests.
import { expect } from "chai";
import { METER_EXPORTS, TrapStatus, type InstrumentedModule } from "../../runtime/wasm/instrument.js";
import { buildModule, i32const, T, type FuncDef } from "../helpers/wasm-builder.js";
import { Rng } from "../helpers/wasm-gen.js";

export const DROP = 0x1a, END = 0x0b, BLOCK = 0x02, LOOP = 0x03, IF = 0x04, ELSE = 0x05, BR = 0x0c, BR_IF = 0x0d, VOID = 0x40;

/**
 * Expects `candidate` to run exactly as `reference`: to completion, and with every limit near the
 * end of that run and a few on the way (`early`), the same outcome, fuel and host-seen counts.
 * Returns the reference's full run.
 */
export function expectSameRuns(candidate: InstrumentedModule, reference: InstrumentedModule, label: string, early: bigint[]): string {
  const full = run(reference, 1n << 40n);
  expect(run(candidate, 1n << 40n), label).to.equal(full);
  const used = BigInt(/ (\d+) \[/.exec(full)![1]!);
  for (const limit of [used, used - 1n, used + 1n, used / 2n, used / 3n, ...early])
    if (limit > 0n) expect(run(candidate, limit), `${label}, limit ${limit}`).to.equal(run(reference, limit));
  return full;
}

/**
 * Runs an instrumented module's `_start` with `limit` fuel, as the job runner judges the outcome. Every
 * import answers 0 and records the fuel the host would see at the call (its clocks are derived from it).
 */
export function run(out: InstrumentedModule, limit: bigint): string {
  const seen: bigint[] = [];
  let global = (_name: string): WebAssembly.Global => {
    throw new Error("not instantiated");
  };
  const module = new WebAssembly.Module(out.bytes);
  const imports: Record<string, Record<string, () => number>> = {};
  for (const i of WebAssembly.Module.imports(module))
    (imports[i.module] ??= {})[i.name] = () => {
      seen.push(global(METER_EXPORTS.fuel).value as bigint);
      return 0;
    };
  const ex = new WebAssembly.Instance(module, imports as WebAssembly.Imports).exports;
  global = (name: string): WebAssembly.Global => ex[name] as WebAssembly.Global;
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
    if ((global(METER_EXPORTS.status).value as number) === TrapStatus.OutOfFuel) return `out of fuel [${seen.map((x) => (limit - x).toString()).join(",")}]`;
    const at = /wasm-function\[\d+\]:0x([0-9a-f]+)/.exec(e.stack ?? "")![1]!;
    left = (global(METER_EXPORTS.fuel).value as bigint) + BigInt(out.refunds.get(parseInt(at, 16)) ?? 0);
    end = `trap ${e.message}`;
  }
  const probes = seen.map((x) => (limit - x).toString()).join(",");
  return left < 0n ? `out of fuel [${probes}]` : `${end} ${(limit - left).toString()} [${probes}]`;
}

/**
 * Random structured functions over i32 locals: forward br_if out of nested blocks (with and without
 * values, to the function's own label too), counted loops, if/else, loads that may go out of bounds,
 * divisions that may trap, calls between functions with parameters and several results (some of them
 * exported, so called both from inside and outside), host calls that read the fuel, memory.fill and
 * early returns.
 */
export function generate(seed: number): Uint8Array {
  const rng = new Rng(seed);
  const nFuncs = 1 + rng.int(5);
  const shapes = Array.from({ length: nFuncs }, (_, f) => (f === 0 ? { params: 0, results: 0 } : { params: rng.int(4), results: rng.int(3) }));
  const funcs: FuncDef[] = [];
  for (let f = 0; f < nFuncs; f++) {
    const { params, results } = shapes[f]!;
    const VARS = params + 4; // parameters and locals 0..VARS-1 are free; the rest are loop counters
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
          if (results === 0) targets.push(labels.length);
          if (targets.length === 0) return;
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
        case 10: {
          if (rng.chance(0.25)) {
            code.push(0x10, 0, DROP); // a host call
            return;
          }
          if (f + 1 >= nFuncs && rng.chance(0.7)) {
            code.push(...i32const(rng.int(60_000)), ...i32const(rng.int(256)), ...i32const(rng.int(2000)), 0xfc, 11, 0);
            return;
          }
          // A later function, or itself: at most 40 recursive calls in all (a counter at byte 65,000).
          const g = f + 1 < nFuncs && rng.chance(0.8) ? f + 1 + rng.int(nFuncs - f - 1) : f;
          const counter = i32const(65_000);
          if (g === f) code.push(...counter, ...counter, 0x28, 2, 0, ...i32const(1), 0x6a, 0x36, 2, 0, ...counter, 0x28, 2, 0, ...i32const(40), 0x49, IF, VOID);
          for (let k = 0; k < shapes[g]!.params; k++) code.push(...value());
          code.push(0x10, 1 + g);
          for (let k = 0; k < shapes[g]!.results; k++) code.push(0x21, rng.int(VARS));
          if (g === f) code.push(END);
          return;
        }
        default:
          if (rng.chance(0.3)) {
            code.push(...value(), IF, VOID);
            for (let k = 0; k < results; k++) code.push(...value());
            code.push(0x0f, END);
          }
          else if (rng.chance(0.5)) code.push(BLOCK, VOID, BR, 0, ...i32const(1), DROP, END);
          return;
      }
    };
    for (let k = 2 + rng.int(6); k >= 0; k--) stmt(3);
    for (let k = 0; k < results; k++) code.push(...value());
    const exported = f === 0 ? "_start" : rng.chance(0.2) ? `f${f}` : undefined;
    funcs.push({
      code,
      params: Array.from({ length: params }, () => T.i32),
      results: Array.from({ length: results }, () => T.i32),
      locals: Array.from({ length: VARS - params + 4 }, () => T.i32),
      ...(exported ? { export: exported } : {}),
    });
  }
  return buildModule({ memory: { min: 1 }, imports: [{ module: "wasi_snapshot_preview1", name: "sched_yield", results: [T.i32] }], funcs });
}

