import { COSTS, STACK } from "./cost-table.js";
import { decodeInstr, Kind, type Immediates } from "./opcodes.js";
import { SectionId, type FuncType, type WasmModule } from "./module.js";
import { ByteReader } from "./reader.js";
import { ByteWriter } from "./writer.js";

/** Export names of the host's metering state in an instrumented module. */
export const METER_EXPORTS = {
  fuel: "__troupe_fuel",
  status: "__troupe_status",
  memoryFlags: "__troupe_memflags",
  memoryLimit: "__troupe_mem_limit",
  memory: "__troupe_memory",
} as const;

/** `__troupe_status` after a trap: which of the host's own checks fired. */
export const TrapStatus = { None: 0, OutOfFuel: 1, StackLimit: 2 } as const;
/** Bits of `__troupe_memflags`. */
export const MemoryFlag = { LimitReached: 1, EngineRefused: 2 } as const;

export interface InstrumentedModule {
  bytes: Uint8Array;
  /**
   * Fuel to give back when a trap happens at a byte offset of `bytes`: the static cost of the rest
   * of that metered block, which was charged at the block's start but never ran.
   */
  refunds: Map<number, number>;
}

const I32 = 0x7f;
const I64 = 0x7e;
const V128 = 0x7b;
const F32 = 0x7d;
const F64 = 0x7c;

// Where a NaN's bits can escape into integers or memory: the value on top of the stack is canonicalised first.
const F32_ESCAPES = new Set([0x38, 0xbc, 0x98]); // f32.store, i32.reinterpret_f32, f32.copysign (sign operand)
const F64_ESCAPES = new Set([0x39, 0xbd, 0xa6]); // f64.store, i64.reinterpret_f64, f64.copysign

/**
 * Replaces a NaN on top of the stack by the canonical quiet NaN, whose bits are the same on every
 * CPU (x86 and Arm disagree on the sign and payload of the NaNs arithmetic produces).
 */
function emitCanonicalNaN(w: ByteWriter, local: number, f64: boolean): void {
  w.u8(0x21).u32(local).u8(0x20).u32(local);
  if (f64) w.u8(0x44).bytes(new Uint8Array([0, 0, 0, 0, 0, 0, 0xf8, 0x7f]));
  else w.u8(0x43).bytes(new Uint8Array([0, 0, 0xc0, 0x7f]));
  w.u8(0x20).u32(local).u8(0x20).u32(local).u8(f64 ? 0x61 : 0x5b).u8(0x1b); // x == x ? x : NaN
}

interface Layout {
  fuel: number;
  status: number;
  memFlags: number;
  depth: number;
  memLimit: number;
  grow: number;
  copy: number;
  fill: number;
  /** data segment index -> helper function index */
  init: Map<number, number>;
}

/**
 * Rewrites an admitted module so it meters itself: every metered block charges its static cost at
 * its start (to a local copy of the exported i64 fuel global, written back wherever fuel can be
 * observed); loop headers and the entries of calling functions check for exhaustion; calling
 * functions count a logical stack frame; memory.grow and bulk memory go through helpers that charge
 * per page / per byte and enforce the memory limit; NaNs are canonicalised where their bits escape.
 * Function, global and type indices of the original module do not move (new ones are appended).
 */
export function instrument(m: WasmModule): InstrumentedModule {
  const types = [...m.types];
  const typeIndex = (t: FuncType): number => {
    const found = types.findIndex((x) => sameType(x, t));
    if (found >= 0) return found;
    types.push(t);
    return types.length - 1;
  };

  const hasMemory = m.memories.length > 0;
  const definedCount = m.functionTypes.length;
  let nextFunc = m.importedFunctions + definedCount;
  const g0 = m.globalCount;
  const L: Layout = { fuel: g0, status: g0 + 1, memFlags: g0 + 2, depth: g0 + 3, memLimit: g0 + 4, grow: -1, copy: -1, fill: -1, init: new Map() };
  const helperTypes: number[] = [];
  const helperBodies: Uint8Array[] = [];
  if (hasMemory) {
    L.grow = nextFunc++;
    helperTypes.push(typeIndex({ params: [I32], results: [I32] }));
    helperBodies.push(growHelper(L));
    L.copy = nextFunc++;
    helperTypes.push(typeIndex({ params: [I32, I32, I32], results: [] }));
    helperBodies.push(bulkHelper(L, [0xfc, 10, 0, 0]));
    L.fill = nextFunc++;
    helperTypes.push(typeIndex({ params: [I32, I32, I32], results: [] }));
    helperBodies.push(bulkHelper(L, [0xfc, 11, 0]));
  }

  // A first pass finds leaf functions (no calls): they skip the stack-depth bookkeeping and the entry
  // check, and every caller reserves room for the largest leaf frame instead.
  let base = 0;
  const shapes = m.code.map((f, i) => {
    const shape = scanFunction(f.body, f.codeStart, f.localCount, m.types[m.functionTypes[i]!]!, m, base);
    base += shape.count;
    return shape;
  });
  grow(base);
  const maxLeafFrame = shapes.reduce((a, sh) => (sh.leaf ? Math.max(a, sh.frame) : a), 0);

  // Function bodies: instrument every defined function; data-segment helpers are created on demand.
  const bodies: { bytes: Uint8Array; refunds: [number, number][] }[] = [];
  for (let i = 0; i < definedCount; i++) {
    const type = m.types[m.functionTypes[i]!]!;
    const f = m.code[i]!;
    const resultBlockType =
      type.results.length === 0 ? -1 : type.results.length === 1 ? -2 : typeIndex({ params: [], results: type.results });
    bodies.push(
      instrumentFunction(f.body, f.codeStart, f.localCount, type, resultBlockType, shapes[i]!, maxLeafFrame, L, (dataIndex) => {
        let idx = L.init.get(dataIndex);
        if (idx === undefined) {
          idx = nextFunc++;
          L.init.set(dataIndex, idx);
          helperTypes.push(typeIndex({ params: [I32, I32, I32], results: [] }));
          helperBodies.push(bulkHelper(L, [0xfc, 8, ...leb(dataIndex), 0]));
        }
        return idx;
      }),
    );
  }

  const replaced = new Map<number, Uint8Array>();
  replaced.set(SectionId.Type, new ByteWriter().vec(types, writeFuncType).finish());
  replaced.set(
    SectionId.Function,
    new ByteWriter().vec([...m.functionTypes, ...helperTypes], (w, t) => w.u32(t)).finish(),
  );
  replaced.set(SectionId.Global, appendGlobals(m));
  replaced.set(SectionId.Export, appendExports(m, L, hasMemory));

  // Code section: remember where each body lands to turn body-relative refund offsets into absolute ones.
  const code = new ByteWriter();
  code.u32(bodies.length + helperBodies.length);
  const pending: [number, number][] = [];
  for (const b of bodies) {
    code.u32(b.bytes.length);
    const base = code.length;
    code.bytes(b.bytes);
    for (const [off, fuel] of b.refunds) pending.push([base + off, fuel]);
  }
  for (const h of helperBodies) code.u32(h.length).bytes(h);
  const codeBody = code.finish();

  const original = new Map<number, Uint8Array>();
  for (const s of m.sections) if (s.id !== SectionId.Custom) original.set(s.id, s.body);
  const out = new ByteWriter().bytes(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
  let codeContentStart = -1;
  for (const id of SECTION_ORDER) {
    const body = id === SectionId.Code ? codeBody : (replaced.get(id) ?? original.get(id));
    if (!body) continue;
    if (id === SectionId.Code && definedCount + helperBodies.length === 0) continue;
    out.u8(id).u32(body.length);
    if (id === SectionId.Code) codeContentStart = out.length;
    out.bytes(body);
  }
  const refunds = new Map<number, number>();
  for (const [off, fuel] of pending) refunds.set(codeContentStart + off, fuel);
  return { bytes: out.finish(), refunds };
}

const SECTION_ORDER = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 10, 11];

function sameType(a: FuncType, b: FuncType): boolean {
  return a.params.join() === b.params.join() && a.results.join() === b.results.join();
}

function writeFuncType(w: ByteWriter, t: FuncType): void {
  w.u8(0x60).vec(t.params, (x, v) => x.u8(v)).vec(t.results, (x, v) => x.u8(v));
}

function leb(n: number): number[] {
  return [...new ByteWriter().u32(n).finish()];
}

/** Splits a vector section body into (count, entries bytes). */
function splitVec(body: Uint8Array | undefined): [number, Uint8Array] {
  if (!body) return [0, new Uint8Array()];
  const r = new ByteReader(body);
  const n = r.u32();
  return [n, body.subarray(r.pos)];
}

function appendGlobals(m: WasmModule): Uint8Array {
  const [n, rest] = splitVec(m.sections.find((s) => s.id === SectionId.Global)?.body);
  const w = new ByteWriter().u32(n + 5).bytes(rest);
  w.bytes(new Uint8Array([I64, 1, 0x42, 0, 0x0b])); // fuel
  w.bytes(new Uint8Array([I32, 1, 0x41, 0, 0x0b])); // status
  w.bytes(new Uint8Array([I32, 1, 0x41, 0, 0x0b])); // memory flags
  w.bytes(new Uint8Array([I32, 1, 0x41, 0, 0x0b])); // stack depth
  w.u8(I32).u8(1).u8(0x41).s32(65536).u8(0x0b); // memory limit in pages
  return w.finish();
}

function appendExports(m: WasmModule, L: Layout, hasMemory: boolean): Uint8Array {
  const [n, rest] = splitVec(m.sections.find((s) => s.id === SectionId.Export)?.body);
  const extra: [string, number, number][] = [
    [METER_EXPORTS.fuel, 3, L.fuel],
    [METER_EXPORTS.status, 3, L.status],
    [METER_EXPORTS.memoryFlags, 3, L.memFlags],
    [METER_EXPORTS.memoryLimit, 3, L.memLimit],
  ];
  if (hasMemory) extra.push([METER_EXPORTS.memory, 2, 0]);
  const w = new ByteWriter().u32(n + extra.length).bytes(rest);
  for (const [name, kind, index] of extra) w.name(name).u8(kind).u32(index);
  return w.finish();
}

/**
 * Inside functions fuel lives in a local (a register), so a charge is one subtraction. The global is
 * brought up to date wherever it can be observed: by the charge of a block that can trap or that ends
 * in a call, before `return`, and at the function's end; never through a load-modify-store chain.
 */
function emitCharge(w: ByteWriter, L: Layout, cost: number, local: number, store: boolean): void {
  if (cost === 0) return;
  // Costs fit in 31 bits, where the s32 and s64 LEB128 encodings coincide.
  w.u8(0x20).u32(local).u8(0x42).s32(cost).u8(0x7d);
  if (store) w.u8(0x22).u32(local).u8(0x24).u32(L.fuel);
  else w.u8(0x21).u32(local);
}

function emitStore(w: ByteWriter, L: Layout, local: number): void {
  w.u8(0x20).u32(local).u8(0x24).u32(L.fuel);
}

/** Reloads the fuel local from the global (at entry and after calls, which spend fuel themselves). */
function emitReload(w: ByteWriter, L: Layout, local: number): void {
  w.u8(0x23).u32(L.fuel).u8(0x21).u32(local);
}

function emitLocalFuelCheck(w: ByteWriter, L: Layout, local: number): void {
  w.u8(0x20).u32(local).u8(0x42).u8(0).u8(0x53);
  emitTrapIf(w, L, TrapStatus.OutOfFuel);
}

function emitTrapIf(w: ByteWriter, L: Layout, status: number): void {
  w.u8(0x04).u8(0x40).u8(0x41).s32(status).u8(0x24).u32(L.status).u8(0x00).u8(0x0b);
}

function emitFuelCheck(w: ByteWriter, L: Layout): void {
  w.u8(0x23).u32(L.fuel).u8(0x42).u8(0).u8(0x53); // fuel < 0
  emitTrapIf(w, L, TrapStatus.OutOfFuel);
}

/** Leaving a calling function restores the depth it found on entry (kept in a local). */
function emitFrameExit(w: ByteWriter, L: Layout, depthLocal: number): void {
  w.u8(0x20).u32(depthLocal).u8(0x24).u32(L.depth);
}

function slots(t: number): number {
  return t === V128 ? 2 : 1;
}

// Decoded instructions of the whole module (boundaries and properties), reused between modules.
let allStarts = new Int32Array(1024);
let allEnds = new Int32Array(1024);
let allKinds = new Uint8Array(1024);
let allCosts = new Int32Array(1024);
let allTraps = new Uint8Array(1024);
let allIndices = new Int32Array(1024);
let allRefundOf = new Int32Array(1024);

function grow(n: number): void {
  if (n < allStarts.length) return;
  const size = Math.max(n + 1, allStarts.length * 2);
  const g32 = (a: Int32Array): Int32Array<ArrayBuffer> => {
    const b = new Int32Array(size);
    b.set(a);
    return b;
  };
  const g8 = (a: Uint8Array): Uint8Array<ArrayBuffer> => {
    const b = new Uint8Array(size);
    b.set(a);
    return b;
  };
  allStarts = g32(allStarts);
  allEnds = g32(allEnds);
  allCosts = g32(allCosts);
  allIndices = g32(allIndices);
  allRefundOf = g32(allRefundOf);
  allKinds = g8(allKinds);
  allTraps = g8(allTraps);
}

/** Instructions after which a new metered block starts. */
function endsBlock(kind: number): boolean {
  return kind !== Kind.Plain && kind !== Kind.Block;
}

interface Shape {
  leaf: boolean;
  /** Where this function's instructions start in the module-wide decode arrays. */
  base: number;
  /** Logical stack units of one frame: overhead + params + locals + an operand-stack bound. */
  frame: number;
  count: number;
}

/** Decodes every instruction of a body into the scratch arrays; returns the function's shape. */
function scanFunction(body: Uint8Array, codeStart: number, localCount: number, type: FuncType, m: WasmModule, base: number): Shape {
  const r = new ByteReader(body, codeStart);
  const imm: Immediates = { kind: Kind.Plain, traps: false, cost: 0, index: 0, blockType: 0, pushes: 0 };
  let n = 0;
  let pushes = 0;
  let leaf = true;
  while (!r.done) {
    const at = base + n;
    grow(at);
    allStarts[at] = r.pos;
    decodeInstr(r, imm);
    allEnds[at] = r.pos;
    allKinds[at] = imm.kind;
    allCosts[at] = imm.cost;
    allTraps[at] = imm.traps ? 1 : 0;
    allIndices[at] = imm.index;
    if (imm.kind === Kind.Call) {
      leaf = false;
      const callee = imm.index < m.importedFunctions ? m.imports[imm.index]?.typeIndex : m.functionTypes[imm.index - m.importedFunctions];
      pushes += (m.types[callee ?? -1]?.results ?? []).reduce((a, t) => a + slots(t), 0);
    } else if (imm.kind === Kind.CallIndirect) {
      leaf = false;
      pushes += (m.types[imm.index]?.results ?? []).reduce((a, t) => a + slots(t), 0);
    } else pushes += imm.pushes;
    n++;
  }
  const frame = STACK.frameOverhead + type.params.reduce((a, t) => a + slots(t), 0) + localCount * 2 + pushes;
  return { leaf, frame, base, count: n };
}

function instrumentFunction(
  body: Uint8Array,
  codeStart: number,
  localCount: number,
  type: FuncType,
  resultBlockType: number,
  shape: Shape,
  maxLeafFrame: number,
  L: Layout,
  initHelper: (dataIndex: number) => number,
): { bytes: Uint8Array; refunds: [number, number][] } {
  // This function's slice of the decode arrays filled by the first pass.
  const { leaf, base, count: n } = shape;
  const starts = allStarts.subarray(base, base + n);
  const ends = allEnds.subarray(base, base + n);
  const kinds = allKinds.subarray(base, base + n);
  const costs = allCosts.subarray(base, base + n);
  const traps = allTraps.subarray(base, base + n);
  const indices = allIndices.subarray(base, base + n);
  const refundOf = allRefundOf.subarray(base, base + n);
  const frame = shape.frame + maxLeafFrame;

  // Pass 2: emit. Block costs are summed ahead so each charge covers its whole metered block.
  // Local declarations: the original groups plus one i64 for the fuel counter.
  const w = new ByteWriter();
  const decl = new ByteReader(body);
  const groups = decl.u32();
  w.u32(groups + 4).bytes(body.subarray(decl.pos, codeStart)).u32(1).u8(I64).u32(1).u8(F32).u32(1).u8(F64).u32(1).u8(I32);
  const fuelLocal = type.params.length + localCount;
  const f32Local = fuelLocal + 1;
  const f64Local = fuelLocal + 2;
  const depthLocal = fuelLocal + 3;
  const refunds: [number, number][] = [];
  // Frame entry: count the logical stack, then open a block that every function-level branch now targets.
  if (!leaf) {
    // depth at entry > limit - frame  <=>  depth + frame > limit (signed: frame may exceed the limit)
    w.u8(0x23).u32(L.depth).u8(0x22).u32(depthLocal).u8(0x41).s32(frame).u8(0x6a).u8(0x24).u32(L.depth);
    w.u8(0x20).u32(depthLocal).u8(0x41).s32(STACK.limitUnits - frame).u8(0x4a);
    emitTrapIf(w, L, TrapStatus.StackLimit);
  }
  w.u8(0x02);
  if (resultBlockType === -1) w.u8(0x40);
  else if (resultBlockType === -2) w.u8(type.results[0]!);
  else w.s64(BigInt(resultBlockType));

  emitReload(w, L, fuelLocal);
  // Unchanged instructions are copied in runs: `pending` is the first body byte not yet written.
  let pending = starts[0]!;
  const flush = (upTo: number): void => {
    if (upTo > pending) w.bytes(body.subarray(pending, upTo));
    pending = upTo;
  };
  let blockStart = true;
  // A leaf runs a bounded amount of code between loop headers, so only calling functions check at entry.
  let checkHere = !leaf;
  for (let i = 0; i < n - 1; i++) {
    const start = starts[i]!;
    if (blockStart) {
      let cost = 0;
      let observed = false;
      let j = i;
      for (; j < n - 1; j++) {
        cost += costs[j]!;
        if (traps[j] || kinds[j] === Kind.Call || kinds[j]! >= Kind.MemoryGrow) observed = true;
        if (endsBlock(kinds[j]!)) break;
      }
      if (cost > 0 || checkHere) {
        flush(start);
        emitCharge(w, L, cost, fuelLocal, observed);
        if (checkHere) emitLocalFuelCheck(w, L, fuelLocal);
      }
      // Refunds for trapping instructions that are not the last one of this block.
      let after = cost;
      for (let k = i; k <= j && k < n - 1; k++) {
        after -= costs[k]!;
        refundOf[k] = traps[k] ? after : 0;
      }
      blockStart = false;
      checkHere = false;
    }
    const kind = kinds[i]!;
    if (kind === Kind.Plain) {
      const opcode = body[start]!;
      if (F32_ESCAPES.has(opcode)) {
        flush(start);
        emitCanonicalNaN(w, f32Local, false);
      } else if (F64_ESCAPES.has(opcode)) {
        flush(start);
        emitCanonicalNaN(w, f64Local, true);
      }
    }
    // Where this instruction lands in the output once the pending run is written.
    if (refundOf[i]! > 0) refunds.push([w.length + (start - pending), refundOf[i]!]);
    switch (kind) {
      case Kind.MemoryGrow:
      case Kind.MemoryCopy:
      case Kind.MemoryFill:
      case Kind.MemoryInit: {
        flush(start);
        const helper = kind === Kind.MemoryGrow ? L.grow : kind === Kind.MemoryCopy ? L.copy : kind === Kind.MemoryFill ? L.fill : initHelper(indices[i]!);
        w.u8(0x10).u32(helper);
        pending = ends[i]!;
        break;
      }
      case Kind.Return:
        flush(start);
        emitStore(w, L, fuelLocal);
        if (!leaf) emitFrameExit(w, L, depthLocal);
        break;
    }
    if (kind === Kind.Call || kind === Kind.CallIndirect || kind >= Kind.MemoryGrow) {
      flush(ends[i]!);
      emitReload(w, L, fuelLocal);
    }
    if (endsBlock(kind)) {
      blockStart = true;
      checkHere = kind === Kind.Loop;
    }
  }
  flush(starts[n - 1]!);
  w.u8(0x0b);
  emitStore(w, L, fuelLocal);
  if (!leaf) emitFrameExit(w, L, depthLocal);
  w.u8(0x0b);
  return { bytes: w.finish(), refunds };
}

/** (pages) -> old size or -1; charges per page and enforces the job's memory limit. */
function growHelper(L: Layout): Uint8Array {
  const w = new ByteWriter().u32(0);
  w.u8(0x23).u32(L.fuel).u8(0x20).u32(0).u8(0xad).u8(0x42).s64(BigInt(COSTS.memoryGrowPerPage)).u8(0x7e).u8(0x7d);
  w.u8(0x42).s64(BigInt(COSTS.memoryGrowBase)).u8(0x7d).u8(0x24).u32(L.fuel);
  emitFuelCheck(w, L);
  // size + delta > limit  (in i64 so it cannot wrap)
  w.u8(0x3f).u8(0).u8(0xad).u8(0x20).u32(0).u8(0xad).u8(0x7c).u8(0x23).u32(L.memLimit).u8(0xad).u8(0x56);
  w.u8(0x04).u8(0x40);
  w.u8(0x23).u32(L.memFlags).u8(0x41).s32(1).u8(0x72).u8(0x24).u32(L.memFlags);
  w.u8(0x41).s32(-1).u8(0x0f);
  w.u8(0x0b);
  w.u8(0x20).u32(0).u8(0x40).u8(0);
  // The engine refused a grow below our limit: the host is short of memory, not the job.
  w.u8(0x22).u32(0).u8(0x41).s32(-1).u8(0x46);
  w.u8(0x04).u8(0x40);
  w.u8(0x23).u32(L.memFlags).u8(0x41).s32(2).u8(0x72).u8(0x24).u32(L.memFlags);
  w.u8(0x0b);
  w.u8(0x20).u32(0);
  w.u8(0x0b);
  return w.finish();
}

/** (a, b, n) -> (); charges per byte, then runs the bulk instruction `op`. */
function bulkHelper(L: Layout, op: number[]): Uint8Array {
  const w = new ByteWriter().u32(0);
  w.u8(0x23).u32(L.fuel).u8(0x20).u32(2).u8(0x41).s32(COSTS.bulkMemoryBytesShift).u8(0x76).u8(0xad).u8(0x7d);
  w.u8(0x42).s64(BigInt(COSTS.bulkMemoryBase)).u8(0x7d).u8(0x24).u32(L.fuel);
  emitFuelCheck(w, L);
  w.u8(0x20).u32(0).u8(0x20).u32(1).u8(0x20).u32(2).bytes(new Uint8Array(op));
  w.u8(0x0b);
  return w.finish();
}
