import { expect } from "chai";
import { Outcome } from "../../contracts/client/typed-data.js";
import { executeJob } from "../../runtime/job/execute.js";
import { admit } from "../../runtime/wasm/admission.js";
import { buildModule, startModule, T } from "../helpers/wasm-builder.js";
import { spec } from "./spec.js";

async function rejection(module: Uint8Array): Promise<string> {
  const r = await executeJob(spec(module));
  expect(r.outcome, r.detail).to.equal(Outcome.InvalidModule);
  expect(r.fuelUsed).to.equal(0n);
  expect(r.hostFault).to.equal(undefined);
  return r.detail;
}

describe("runtime: admission", () => {
  it("admits a plain WASI module", () => {
    expect(() => admit(startModule([]))).not.to.throw();
  });

  it("rejects malformed bytes, random bytes and components with a named reason", async () => {
    expect(await rejection(new Uint8Array([1, 2, 3]))).to.match(/too short/);
    expect(await rejection(new Uint8Array(4096).map((_, i) => (i * 7919 + 13) % 251))).to.match(/magic/);
    const truncated = startModule([]).slice(0, 30);
    expect(await rejection(truncated)).to.match(/past the end|unexpected end|does not validate/);
    expect(await rejection(new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0]))).to.match(/components are not allowed/);
  });

  it("rejects a 64 MiB module by its size before parsing it", async () => {
    const big = new Uint8Array(64 * 1024 * 1024);
    big.set(startModule([]));
    expect(await rejection(big)).to.match(/over the \d+-byte limit/);
  });

  it("rejects imports outside the WASI subset", async () => {
    const m = startModule([], { imports: [{ module: "env", name: "foo" }] });
    expect(await rejection(m)).to.equal("import env.foo is not in the WASI subset");
    const n = startModule([], { imports: [{ module: "wasi_snapshot_preview1", name: "fd_mmap" }] });
    expect(await rejection(n)).to.match(/wasi_snapshot_preview1.fd_mmap is not in the WASI subset/);
  });

  it("rejects threads, shared memory, exceptions, GC, tail calls and relaxed SIMD", async () => {
    expect(await rejection(startModule([], { memory: { min: 1, max: 2, shared: true } }))).to.match(/threads: shared memory/);
    expect(await rejection(startModule([0x00, 0xfe, 0x03, 0x00]))).to.match(/threads/); // atomic.fence
    expect(await rejection(startModule([0x06, 0x40, 0x0b]))).to.match(/exception handling/); // try
    expect(await rejection(startModule([], { extra: [[13, [0]]] }))).to.match(/exception handling/); // tag section
    expect(await rejection(startModule([0xfb, 0x00]))).to.match(/GC/);
    expect(await rejection(startModule([0x14, 0]))).to.match(/typed function references/); // call_ref
    expect(await rejection(startModule([0x12, 0]))).to.match(/tail calls/);
    const relaxed = [0xfd, 0x0c, ...new Array(16).fill(0), 0xfd, 0x80, 0x02, 0x1a]; // v128.const; i8x16.relaxed_swizzle...
    expect(await rejection(startModule(relaxed))).to.match(/relaxed SIMD/);
  });

  it("rejects a start section, a missing _start and reserved export names", async () => {
    const withStart = buildModule({ funcs: [{ code: [], export: "_start" }, { code: [] }], start: 1 });
    expect(await rejection(withStart)).to.match(/start section is not allowed/);
    expect(await rejection(buildModule({ funcs: [{ code: [], export: "main" }] }))).to.match(/does not export a _start/);
    expect(await rejection(buildModule({ funcs: [{ code: [], export: "_start" }, { code: [], export: "__troupe_fuel" }] }))).to.match(
      /reserved/,
    );
  });

  it("rejects too many functions, globals and locals", async () => {
    const many = buildModule({ funcs: [{ code: [], export: "_start" }, ...Array.from({ length: 100_001 }, () => ({ code: [] }))] });
    expect(await rejection(many)).to.match(/100002 functions, over the limit/);
    const globals = [0x91, 0x4e, ...Array.from({ length: 10_001 }, () => [0x7f, 0, 0x41, 0, 0x0b]).flat()]; // 10001 i32 globals
    expect(await rejection(startModule([], { extra: [[6, globals]] }))).to.match(/10001 globals, over the limit of 10000/);
    const locals = buildModule({ funcs: [{ code: [], export: "_start", locals: new Array(50_001).fill(T.i32) }] });
    expect(await rejection(locals)).to.match(/50001\+ locals, over V8.s limit of 50000/);
    const nearLimit = buildModule({ funcs: [{ code: [], export: "_start", locals: new Array(49_995).fill(T.i32) }] });
    expect(await rejection(nearLimit)).to.match(/function 0 has 49995 locals \(parameters included\), over the limit of 49992/);
  });

  it("says why V8 refuses a module our decoder accepted", async () => {
    // i32.add with an empty stack is well-formed but does not validate
    expect(await rejection(startModule([0x6a, 0x1a]))).to.match(/does not validate/);
  });

  it("rejects an initial memory larger than the job's limit as out of memory", async () => {
    const r = await executeJob(spec(startModule([], { memory: { min: 200 } }), { memoryMiB: 4 }));
    expect(r.outcome).to.equal(Outcome.OutOfMemory);
    expect(r.detail).to.match(/initial memory of 200 pages exceeds the limit of 64 pages/);
  });
});
