import { expect } from "chai";
import { Outcome } from "../../contracts/client/typed-data.js";
import { executeJob } from "../../runtime/job/execute.js";
import { runJob, shutdownJobPool } from "../../runtime/job/index.js";
import { COSTS } from "../../runtime/wasm/cost-table.js";
import { i32const, startModule, T } from "../helpers/wasm-builder.js";
import { spec } from "./spec.js";

// Opcodes used below.
const DROP = 0x1a, DIV_S = 0x6d, LOAD = 0x28, END = 0x0b;

describe("runtime: fuel metering", () => {
  after(() => shutdownJobPool());

  it("charges a straight-line block exactly", async () => {
    // const, const, add, drop  = 4 instructions of cost 1
    const r = await executeJob(spec(startModule([...i32const(1), ...i32const(2), 0x6a, DROP])));
    expect(r.outcome).to.equal(Outcome.Exited);
    expect(r.fuelUsed).to.equal(4n);
  });

  it("is exact when a division traps in the middle of a block", async () => {
    const tail = [...i32const(5), DROP, ...i32const(6), DROP];
    const trapping = await executeJob(spec(startModule([...i32const(1), ...i32const(0), DIV_S, DROP, ...tail])));
    expect(trapping.outcome).to.equal(Outcome.Trap);
    expect(trapping.detail).to.match(/divi/);
    expect(trapping.fuelUsed).to.equal(2n + BigInt(COSTS.division));
    const fine = await executeJob(spec(startModule([...i32const(1), ...i32const(1), DIV_S, DROP, ...tail])));
    expect(fine.outcome).to.equal(Outcome.Exited);
    expect(fine.fuelUsed).to.equal(2n + BigInt(COSTS.division) + 1n + 4n);
  });

  it("is exact when a load goes out of bounds mid-block", async () => {
    const code = [...i32const(1), DROP, ...i32const(70000), LOAD, 2, 0, DROP, ...i32const(3), DROP];
    const r = await executeJob(spec(startModule(code)));
    expect(r.outcome).to.equal(Outcome.Trap);
    expect(r.detail).to.match(/out of bounds/);
    expect(r.fuelUsed).to.equal(4n);
  });

  it("is exact when a trap comes after a br_if, in an else arm, or after paths join (fuel not yet stored)", async () => {
    const load = [...i32const(70000), LOAD, 2, 0, DROP];
    // block { br_if 0 (0); 1; drop; load 70000 (traps); 3; drop }: 2 before the br_if, 4 up to the trap
    const afterBrIf = await executeJob(spec(startModule([0x02, 0x40, ...i32const(0), 0x0d, 0, ...i32const(1), DROP, ...load, ...i32const(3), DROP, END])));
    expect(afterBrIf.detail).to.match(/out of bounds/);
    expect(afterBrIf.fuelUsed).to.equal(6n);
    // if (0) { 1; drop } else { load 70000 (traps) }: the condition and the if, then 2 in the else arm
    const inElse = await executeJob(spec(startModule([...i32const(0), 0x04, 0x40, ...i32const(1), DROP, 0x05, ...load, END])));
    expect(inElse.detail).to.match(/out of bounds/);
    expect(inElse.fuelUsed).to.equal(4n);
    // The same arm taken: 1; drop; else (3), then the load after the join (2)
    const afterJoin = await executeJob(spec(startModule([...i32const(1), 0x04, 0x40, ...i32const(1), DROP, 0x05, ...i32const(2), DROP, END, ...load])));
    expect(afterJoin.detail).to.match(/out of bounds/);
    expect(afterJoin.fuelUsed).to.equal(2n + 3n + 2n);
    // if (0) { 1; drop } without an else, then the load after the join: only the false edge was taken
    const falseEdge = await executeJob(spec(startModule([...i32const(0), 0x04, 0x40, ...i32const(1), DROP, END, ...load])));
    expect(falseEdge.detail).to.match(/out of bounds/);
    expect(falseEdge.fuelUsed).to.equal(2n + 2n);
    // local0 = 5; block { block { br_table 0 (default 1) (local0) } 1; drop } then the load: the two edges to
    // the outer block bring different fuel, and the default one is taken
    const table = [...i32const(5), 0x21, 0, 0x02, 0x40, 0x02, 0x40, 0x20, 0, 0x0e, 1, 0, 1, END, ...i32const(1), DROP, END, ...load];
    const viaTable = await executeJob(spec(startModule(table, { locals: [T.i32] })));
    expect(viaTable.detail).to.match(/out of bounds/);
    expect(viaTable.fuelUsed).to.equal(2n + 3n + 2n);
    // A loop whose second iteration traps after a br_if (the load in its header stores the fuel, the
    // trapping block after the br_if does not): every iteration is counted.
    // local0 = 2; block { loop { load 0; local0 -= 1; br_if 1 (local0 == 5); load at (1 - local0) * 70000; br 0 } }
    const header = [...i32const(0), LOAD, 2, 0, DROP, 0x20, 0, ...i32const(1), 0x6b, 0x21, 0, 0x20, 0, ...i32const(5), 0x46, 0x0d, 1];
    const tail = [...i32const(1), 0x20, 0, 0x6b, ...i32const(70000), 0x6c, LOAD, 2, 0, DROP, 0x0c, 0];
    const looped = await executeJob(spec(startModule([...i32const(2), 0x21, 0, 0x02, 0x40, 0x03, 0x40, ...header, ...tail, END, END], { locals: [T.i32] })));
    expect(looped.detail).to.match(/out of bounds/);
    // 2 before the loop; 11 in the header and 8 after it in the first iteration; 11 + 6 in the second.
    expect(looped.fuelUsed).to.equal(2n + 11n + 8n + 11n + 6n);
  });

  it("charges each loop iteration and stops at the budget", async () => {
    // local0 = 10; loop { local0 = local0 - 1; br_if 0 (local0) }
    const code = [...i32const(10), 0x21, 0, 0x03, 0x40, 0x20, 0, ...i32const(1), 0x6b, 0x22, 0, 0x0d, 0, END];
    const r = await executeJob(spec(startModule(code, { locals: [T.i32] })));
    expect(r.fuelUsed).to.equal(2n + 10n * 5n);
    const spin = await executeJob(spec(startModule([0x03, 0x40, 0x0c, 0, END]), { fuel: 1000n }));
    expect(spin.outcome).to.equal(Outcome.OutOfFuel);
    expect(spin.detail).to.equal("out of fuel");
    expect(spin.fuelUsed).to.equal(1000n);
  });

  it("charges memory.grow per page and bulk memory per byte", async () => {
    const grow = await executeJob(spec(startModule([...i32const(3), 0x40, 0, DROP])));
    expect(grow.fuelUsed).to.equal(2n + BigInt(COSTS.memoryGrowBase + 3 * COSTS.memoryGrowPerPage) + 1n);
    expect(grow.peakMemoryPages).to.equal(4);
    const fill = await executeJob(spec(startModule([...i32const(0), ...i32const(7), ...i32const(800), 0xfc, 11, 0])));
    expect(fill.fuelUsed).to.equal(4n + BigInt(COSTS.bulkMemoryBase + (800 >> COSTS.bulkMemoryBytesShift)));
  });

  it("fails memory.grow at the job's memory limit, the same way everywhere", async () => {
    // grow by 100 pages (6.25 MiB) under a 4 MiB limit: memory.grow returns -1
    const code = [...i32const(100), 0x40, 0, ...i32const(-1), 0x46, 0x04, 0x40, 0x00, END];
    const r = await executeJob(spec(startModule(code), { memoryMiB: 4 }));
    expect(r.outcome).to.equal(Outcome.OutOfMemory);
    expect(r.peakMemoryPages).to.equal(1);
  });

  it("charges host calls a base plus per byte", async () => {
    // fd_write(1, iovs=0 (one iovec {ptr 16, len 5}), 1, nwritten=8)
    const module = startModule(
      [...i32const(1), ...i32const(0), ...i32const(1), ...i32const(8), 0x10, 0, DROP],
      {
        imports: [{ module: "wasi_snapshot_preview1", name: "fd_write", params: [T.i32, T.i32, T.i32, T.i32], results: [T.i32] }],
        data: [{ offset: 0, bytes: [16, 0, 0, 0, 5, 0, 0, 0] }, { offset: 16, bytes: [...Buffer.from("hello")] }],
      },
    );
    const r = await executeJob(spec(module));
    expect(Buffer.from(r.stdout).toString()).to.equal("hello");
    expect(r.fuelUsed).to.equal(4n + BigInt(COSTS.call) + BigInt(COSTS.hostCallBase) + 5n + 1n);
  });

  it("answers socket calls with ENOTSOCK: the sandbox has no sockets", async () => {
    // proc_exit(sock_accept(3, 0, 0))
    const module = startModule([...i32const(3), ...i32const(0), ...i32const(0), 0x10, 0, 0x10, 1], {
      imports: [
        { module: "wasi_snapshot_preview1", name: "sock_accept", params: [T.i32, T.i32, T.i32], results: [T.i32] },
        { module: "wasi_snapshot_preview1", name: "proc_exit", params: [T.i32] },
      ],
    });
    const r = await executeJob(spec(module));
    expect(r.outcome).to.equal(Outcome.Exited);
    expect(r.exitCode).to.equal(57);
  });

  it("stops deep recursion at the logical stack limit, not at V8's", async function () {
    this.timeout(20_000);
    // func 1 calls itself forever; the job process's thread has room far beyond the logical limit
    const module = startModule([0x10, 1], { funcs: [{ code: [0x10, 1] }] });
    const r = await runJob(spec(module));
    expect(r.outcome).to.equal(Outcome.StackLimit);
    expect(r.hostFault).to.equal(undefined);
  });
});

describe("runtime: NaN canonicalisation", () => {
  it("makes every escaping NaN canonical (stores, reinterprets, a payload carried through arithmetic) and keeps -0 and -inf", async () => {
    const f64const = (x: number): number[] => [0x44, ...new Uint8Array(new Float64Array([x]).buffer)];
    const f32const = (x: number): number[] => [0x43, ...new Uint8Array(new Float32Array([x]).buffer)];
    const f32nan = [...f32const(0), ...f32const(0), 0x95];
    const f64nan = [...f64const(0), ...f64const(0), 0xa3];
    const code = [
      ...i32const(0), ...f32nan, 0x38, 2, 0, // f32.store
      ...i32const(4), ...f32nan, 0xbc, 0x36, 2, 0, // i32.store (i32.reinterpret_f32)
      ...i32const(8), ...i32const(100), 0x2b, 3, 0, ...f64const(1), 0xa0, 0x39, 3, 0, // f64.store (loaded NaN + 1)
      ...i32const(16), ...f64nan, 0xbd, 0x37, 3, 0, // i64.store (i64.reinterpret_f64)
      ...i32const(24), ...f64const(0), 0x9a, 0x39, 3, 0, // -0
      ...i32const(32), ...f64const(-1), ...f64const(0), 0xa3, 0x39, 3, 0, // -inf
      ...i32const(40), ...f64nan, 0x9a, 0x39, 3, 0, // a NaN with its sign flipped
      ...i32const(1), ...i32const(64), ...i32const(1), ...i32const(72), 0x10, 0, 0x1a,
    ];
    const module = startModule(code, {
      imports: [{ module: "wasi_snapshot_preview1", name: "fd_write", params: [T.i32, T.i32, T.i32, T.i32], results: [T.i32] }],
      // iovec {0, 48}; at 100 a negative signalling NaN with a payload
      data: [{ offset: 64, bytes: [0, 0, 0, 0, 48, 0, 0, 0] }, { offset: 100, bytes: [1, 0, 0, 0, 0, 0, 0xf4, 0xff] }],
    });
    const r = await executeJob(spec(module));
    const canon64 = "000000000000f87f";
    expect(Buffer.from(r.stdout).toString("hex")).to.equal(
      "0000c07f" + "0000c07f" + canon64 + canon64 + "0000000000000080" + "000000000000f0ff" + canon64,
    );
  });


  it("stores the canonical NaN whatever NaN the CPU produced, and leaves other floats alone", async () => {
    // mem[0..8] = 0.0/0.0 (x86 yields a negative NaN); mem[8..16] = 1.5; then fd_write both to stdout
    const f64const = (x: number): number[] => [0x44, ...new Uint8Array(new Float64Array([x]).buffer)];
    const code = [
      ...i32const(0), ...f64const(0), ...f64const(0), 0xa3, 0x39, 3, 0,
      ...i32const(8), ...f64const(1.5), 0x39, 3, 0,
      ...i32const(1), ...i32const(32), ...i32const(1), ...i32const(40), 0x10, 0, 0x1a,
    ];
    const module = startModule(code, {
      imports: [{ module: "wasi_snapshot_preview1", name: "fd_write", params: [T.i32, T.i32, T.i32, T.i32], results: [T.i32] }],
      data: [{ offset: 32, bytes: [0, 0, 0, 0, 16, 0, 0, 0] }],
    });
    const plain = await executeJob(spec(module), false);
    const metered = await executeJob(spec(module));
    expect(Buffer.from(metered.stdout).toString("hex")).to.equal("000000000000f87f" + "000000000000f83f");
    // Unmetered, the engine's own NaN escapes (on x86 its sign bit is set).
    expect(Buffer.from(plain.stdout).subarray(8).toString("hex")).to.equal("000000000000f83f");
  });
});
