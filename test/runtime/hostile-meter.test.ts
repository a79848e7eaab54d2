import { expect } from "chai";
import { Outcome } from "../../contracts/client/typed-data.js";
import { executeJob } from "../../runtime/job/execute.js";
import { Meter } from "../../runtime/job/meter.js";
import { runJob, shutdownJobPool } from "../../runtime/job/index.js";
import { admit } from "../../runtime/wasm/admission.js";
import { COSTS, MEMORY_ACCOUNTING, STACK } from "../../runtime/wasm/cost-table.js";
import { instrument, METER_EXPORTS, TrapStatus } from "../../runtime/wasm/instrument.js";
import { ByteWriter } from "../../runtime/wasm/writer.js";
import { buildModule, i32const, startModule, T, type ImportDef } from "../helpers/wasm-builder.js";
import { spec } from "./spec.js";

const FUNCREF = 0x70;
const DROP = 0x1a;
const leb = (n: number): number[] => [...new ByteWriter().u32(n).finish()];

/** A table section: `count` funcref tables of `min` entries. */
function tables(count: number, min: number, max?: number): [number, number[]] {
  const w = new ByteWriter().u32(count);
  for (let i = 0; i < count; i++) {
    w.u8(FUNCREF);
    if (max === undefined) w.u8(0).u32(min);
    else w.u8(1).u32(min).u32(max);
  }
  return [4, [...w.finish()]];
}

/** _start calls `name(args...)` once and exits with its errno. */
function hostCall(name: string, params: number[], args: number[][], memoryPages = 1, results = [T.i32]): Uint8Array {
  const imports: ImportDef[] = [
    { module: "wasi_snapshot_preview1", name, params, results },
    { module: "wasi_snapshot_preview1", name: "proc_exit", params: [T.i32] },
  ];
  const code = [...args.flat(), 0x10, 0, 0x10, 1];
  return startModule(code, { imports, memory: { min: memoryPages } });
}

const i64const = (n: bigint): number[] => [0x42, ...new ByteWriter().s64(n).finish()];
const NEG = i32const(-1);
const HUGE = i32const(0x80000000 | 0);

describe("runtime: hostile corpus (the meter and the memory budget)", function () {
  this.timeout(120_000);
  after(() => shutdownJobPool());

  it("a table bomb (100 tables of 1M funcrefs) is out of memory before it is compiled, and 101 tables are refused", async () => {
    const bomb = startModule([], { extra: [tables(100, 1_000_000)] });
    const r = await runJob(spec(bomb, { memoryMiB: 64 }));
    expect(r.outcome).to.equal(Outcome.OutOfMemory);
    expect(r.detail).to.match(/holds 3200065536 bytes before it runs \(initial memory, tables, data and element segments\), over the job's memory limit of 67108864 bytes/);
    expect(r.fuelUsed).to.equal(0n);
    expect(r.hostFault).to.equal(undefined);
    const many = await executeJob(spec(startModule([], { extra: [tables(101, 1)] })));
    expect(many.outcome).to.equal(Outcome.InvalidModule);
    expect(many.detail).to.equal("module has 101 tables, over the limit of 100");
  });

  it("tables that fit count against the memory limit, so memory.grow fails earlier", async () => {
    // 1M entries = 32 MiB of a 64 MiB limit: memory (1 page) can grow by at most ~511 more pages.
    const grow = (pages: number): number[] => [...i32const(pages), 0x40, 0, ...i32const(-1), 0x46, 0x04, 0x40, 0x00, 0x0b];
    const ok = await executeJob(spec(startModule(grow(400), { extra: [tables(1, 1_000_000)] }), { memoryMiB: 64 }));
    expect(ok.outcome, ok.detail).to.equal(Outcome.Exited);
    const over = await executeJob(spec(startModule(grow(600), { extra: [tables(1, 1_000_000)] }), { memoryMiB: 64 }));
    expect(over.outcome).to.equal(Outcome.OutOfMemory);
    expect(over.peakMemoryPages).to.equal(1);
  });

  it("table.grow is charged per element and stops at the memory budget with -1", async () => {
    // table.grow(ref.null, n) -> proc_exit(result + 1)
    const growBy = (n: number): Uint8Array =>
      startModule([0xd0, FUNCREF, ...i32const(n), 0xfc, 15, 0, ...i32const(1), 0x6a, 0x10, 0], {
        imports: [{ module: "wasi_snapshot_preview1", name: "proc_exit", params: [T.i32] }],
        extra: [tables(1, 0)],
      });
    const small = await executeJob(spec(growBy(100_000)));
    expect(small.exitCode).to.equal(1); // old size 0
    const instrs = 5n + BigInt(COSTS.call); // ref.null, i32.const, table.grow, i32.const, i32.add, call
    expect(small.fuelUsed).to.equal(instrs + BigInt(COSTS.tableGrowBase + 100_000 * COSTS.tableGrowPerElement) + BigInt(COSTS.hostCallBase));
    const bomb = await executeJob(spec(growBy(10_000_000), { memoryMiB: 64 }));
    expect(bomb.exitCode, bomb.detail).to.equal(0); // -1 + 1: refused
    expect(bomb.fuelUsed).to.equal(instrs + BigInt(COSTS.tableGrowBase) + BigInt(COSTS.hostCallBase));
    expect(bomb.hostFault).to.equal(undefined);
  });

  it("table.fill and table.copy are charged per element; out-of-range lengths trap uncharged", async () => {
    const setup = [0xd0, FUNCREF, ...i32const(100_000), 0xfc, 15, 0, DROP];
    const fill = (n: number): number[] => [...i32const(0), 0xd0, FUNCREF, ...i32const(n), 0xfc, 17, 0];
    const copy = (n: number): number[] => [...i32const(0), ...i32const(1), ...i32const(n), 0xfc, 14, 0, 0];
    const growCost = BigInt(COSTS.tableGrowBase + 100_000 * COSTS.tableGrowPerElement) + 4n;
    const run = (code: number[]) => executeJob(spec(startModule([...setup, ...code], { extra: [tables(1, 0)] })));
    const f = await run(fill(100_000));
    expect(f.outcome).to.equal(Outcome.Exited);
    expect(f.fuelUsed).to.equal(growCost + 4n + BigInt(COSTS.tableBulkBase + 100_000));
    const c = await run(copy(99_999));
    expect(c.fuelUsed).to.equal(growCost + 4n + BigInt(COSTS.tableBulkBase + 99_999));
    for (const bad of [fill(10_000_000), copy(10_000_000), fill(-1), copy(-1)]) {
      const r = await run(bad);
      expect(r.outcome).to.equal(Outcome.Trap);
      expect(r.detail).to.match(/table index is out of bounds|out of bounds/);
      expect(r.fuelUsed).to.equal(growCost + 4n + BigInt(COSTS.tableBulkBase));
    }
  });

  it("bulk memory with a negative or huge length traps without being charged for bytes it never touched", async () => {
    const cases = [
      [...i32const(0), ...i32const(7), ...NEG, 0xfc, 11, 0], // memory.fill(0, 7, -1)
      [...i32const(0), ...i32const(8), ...NEG, 0xfc, 10, 0, 0], // memory.copy(0, 8, -1)
      [...i32const(0), ...i32const(0), ...HUGE, 0xfc, 11, 0],
      [...i32const(0), ...i32const(0), ...NEG, 0xfc, 8, 0, 0], // memory.init(seg 0, 0, 0, -1)
    ];
    for (const code of cases) {
      const m = buildModule({
        memory: { min: 1 },
        funcs: [{ code, export: "_start" }],
        extra: [
          [12, [1]],
          [11, [1, 1, 4, 1, 2, 3, 4]], // one passive data segment of 4 bytes
        ],
      });
      const r = await executeJob(spec(m));
      expect(r.outcome, r.detail).to.equal(Outcome.Trap);
      expect(r.detail).to.match(/out of bounds/);
      expect(r.fuelUsed).to.equal(4n + BigInt(COSTS.bulkMemoryBase));
    }
  });

  it("negative and huge lengths given to every host call fail with an errno and are charged only the call", async () => {
    const i32x = (n: number): number[] => i32const(n);
    const P = T.i32, L = T.i64;
    const calls: [string, number[], number[][]][] = [
      ["random_get", [P, P], [i32x(0), NEG]],
      ["random_get", [P, P], [i32x(0), HUGE]],
      ["args_get", [P, P], [i32x(-8), i32x(0)]],
      ["environ_get", [P, P], [NEG, NEG]],
      ["args_sizes_get", [P, P], [NEG, i32x(0)]],
      ["fd_write", [P, P, P, P], [i32x(1), i32x(0), NEG, i32x(16)]],
      ["fd_write", [P, P, P, P], [i32x(1), i32x(0), HUGE, i32x(16)]],
      ["fd_read", [P, P, P, P], [i32x(0), i32x(0), NEG, i32x(16)]],
      ["fd_pread", [P, P, P, L, P], [i32x(3), i32x(0), NEG, i64const(-1n), i32x(16)]],
      ["fd_pwrite", [P, P, P, L, P], [i32x(3), i32x(0), NEG, i64const(-1n), i32x(16)]],
      ["fd_readdir", [P, P, P, L, P], [i32x(3), i32x(0), NEG, i64const(0n), i32x(16)]],
      ["fd_prestat_dir_name", [P, P, P], [i32x(3), i32x(0), NEG]],
      ["path_open", [P, P, P, P, P, L, L, P, P], [i32x(3), i32x(0), i32x(0), NEG, i32x(0), i64const(-1n), i64const(-1n), i32x(0), i32x(16)]],
      ["path_create_directory", [P, P, P], [i32x(3), i32x(0), NEG]],
      ["path_remove_directory", [P, P, P], [i32x(3), i32x(0), HUGE]],
      ["path_unlink_file", [P, P, P], [i32x(3), i32x(0), NEG]],
      ["path_filestat_get", [P, P, P, P, P], [i32x(3), i32x(0), i32x(0), NEG, i32x(0)]],
      ["path_readlink", [P, P, P, P, P, P], [i32x(3), i32x(0), i32x(1), i32x(0), NEG, i32x(16)]],
      ["path_symlink", [P, P, P, P, P], [i32x(0), NEG, i32x(3), i32x(0), i32x(1)]],
      ["path_link", [P, P, P, P, P, P, P], [i32x(3), i32x(0), i32x(0), NEG, i32x(3), i32x(0), i32x(1)]],
      ["path_rename", [P, P, P, P, P, P], [i32x(3), i32x(0), NEG, i32x(3), i32x(0), i32x(1)]],
      ["poll_oneoff", [P, P, P, P], [i32x(0), i32x(0), NEG, i32x(16)]],
      ["sock_recv", [P, P, P, P, P, P], [i32x(0), i32x(0), NEG, i32x(0), i32x(16), i32x(20)]],
      ["sock_send", [P, P, P, P, P], [i32x(1), i32x(0), NEG, i32x(0), i32x(16)]],
      ["clock_time_get", [P, L, P], [i32x(0), i64const(0n), NEG]],
      ["fd_filestat_set_size", [P, L], [i32x(0), i64const(-1n)]],
    ];
    for (const [name, params, args] of calls) {
      const r = await executeJob(spec(hostCall(name, params, args)));
      expect(r.outcome, `${name}: ${r.detail}`).to.equal(Outcome.Exited);
      expect(r.exitCode, name).to.not.equal(0);
      const instrs = BigInt(args.length + 2 * COSTS.call);
      expect(r.fuelUsed, name).to.equal(instrs + 2n * BigInt(COSTS.hostCallBase));
    }
    // The case: ten random_get(ptr, 0x80000000) calls cannot mint fuel.
    const ten = startModule(Array.from({ length: 10 }, () => [...i32const(0), ...HUGE, 0x10, 0, DROP]).flat(), {
      imports: [{ module: "wasi_snapshot_preview1", name: "random_get", params: [P, P], results: [P] }],
    });
    const r = await executeJob(spec(ten));
    expect(r.outcome).to.equal(Outcome.Exited);
    expect(r.fuelUsed).to.equal(10n * (2n + 1n + BigInt(COSTS.call + COSTS.hostCallBase)));
  });

  it("a host call past the fuel budget ends the job out of fuel before it writes", async () => {
    // fd_write of 60,000 bytes with 1000 fuel
    const m = startModule([...i32const(1), ...i32const(0), ...i32const(1), ...i32const(8), 0x10, 0, DROP], {
      imports: [{ module: "wasi_snapshot_preview1", name: "fd_write", params: [T.i32, T.i32, T.i32, T.i32], results: [T.i32] }],
      data: [{ offset: 0, bytes: [16, 0, 0, 0, 0x60, 0xea, 0, 0] }], // 60,000 bytes
    });
    const r = await executeJob(spec(m, { fuel: 1000n }));
    expect(r.outcome).to.equal(Outcome.OutOfFuel);
    expect(r.fuelUsed).to.equal(1000n);
    expect(r.stdout.length).to.equal(0);
  });

  it("locals at the limit are admitted and run; one more is an admission error naming the limit", async () => {
    const max = 49_992;
    const at = buildModule({ funcs: [{ code: [...i32const(1), 0x21, ...leb(max - 1)], export: "_start", locals: new Array(max).fill(T.i32) }] });
    const r = await runJob(spec(at));
    expect(r.outcome, r.detail).to.equal(Outcome.Exited);
    expect(r.hostFault).to.equal(undefined);
    const withParams = buildModule({
      funcs: [{ code: [], export: "_start" }, { code: [], params: [T.i32, T.i64], locals: new Array(max - 1).fill(T.f64) }],
    });
    const over = await runJob(spec(withParams));
    expect(over.outcome).to.equal(Outcome.InvalidModule);
    expect(over.detail).to.equal(`function 1 has ${max + 1} locals (parameters included), over the limit of ${max} (V8's 50000 less the meter's own)`);
  });

  it("data and element segments count against the memory limit before the module runs", async () => {
    const seg = new Uint8Array(3 * 1024 * 1024);
    const data = [...new ByteWriter().u32(1).u8(1).u32(seg.length).bytes(seg).finish()];
    const m = buildModule({ memory: { min: 1 }, funcs: [{ code: [], export: "_start" }], extra: [[12, [1]], [11, data]] });
    expect((await executeJob(spec(m, { memoryMiB: 2 }))).outcome).to.equal(Outcome.OutOfMemory);
    expect((await executeJob(spec(m, { memoryMiB: 8 }))).outcome).to.equal(Outcome.Exited);
    // 200k element entries hold 6.4 MB in the engine
    const elems = [...new ByteWriter().u32(1).u32(1).u8(0).u32(200_000).bytes(new Uint8Array(200_000)).finish()];
    const e = buildModule({ memory: { min: 1 }, funcs: [{ code: [], export: "_start" }], extra: [[9, elems]] });
    const r = await executeJob(spec(e, { memoryMiB: 4 }));
    expect(r.outcome).to.equal(Outcome.OutOfMemory);
    expect(r.detail).to.match(new RegExp(`holds ${65536 + 200_000 * MEMORY_ACCOUNTING.tableEntryBytes} bytes`));
  });

  it("an instance that trapped deep in recursion keeps working: the stack depth is restored", () => {
    // deep(n): if n == 0 unreachable else deep(n - 1)
    const deep = { params: [T.i32], code: [0x20, 0, 0x45, 0x04, 0x40, 0x00, 0x0b, 0x20, 0, ...i32const(1), 0x6b, 0x10, 1], export: "deep" };
    const m = buildModule({ funcs: [{ code: [], export: "_start" }, deep] });
    const out = instrument(admit(m));
    const inst = new WebAssembly.Instance(new WebAssembly.Module(out.bytes), {});
    const meter = new Meter(inst.exports, 1n << 40n, 1 << 20);
    const depth = inst.exports[METER_EXPORTS.depth] as WebAssembly.Global;
    const run = (through: boolean): string => {
      meter.clearStatus();
      const fn = (): void => (inst.exports.deep as (n: number) => void)(500);
      try {
        if (through) meter.call(fn);
        else fn();
        return "returned";
      } catch (e) {
        return meter.trapStatus() === TrapStatus.StackLimit ? "stack limit" : (e as Error).message;
      }
    };
    // Called bare, a trap leaves 500 frames counted on the logical stack...
    expect(run(false)).to.equal("unreachable");
    const leaked = depth.value as number;
    expect(leaked).to.be.greaterThan(500);
    // ...and enough such calls would end in a stack-limit trap that never happened.
    expect(Math.ceil(STACK.limitUnits / leaked)).to.be.below(2000);
    depth.value = 0;
    // Through the meter the depth is back where it was after every trap, however many calls.
    for (let i = 0; i < 2000; i++) {
      expect(run(true)).to.equal("unreachable");
      expect(depth.value).to.equal(0);
    }
  });
});
