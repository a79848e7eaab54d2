import { COSTS, MEMORY_ACCOUNTING, STACK } from "./cost-table.js";
import { encodeModule } from "./encode.js";
import { AdmissionError } from "./errors.js";
import { decodeInstr, Kind, newImmediates } from "./opcodes.js";
import { ExternKind, SectionId, type FuncType, type FunctionBody, type Global, type WasmModule } from "./module.js";
import { ByteReader } from "./reader.js";
import { ByteWriter } from "./writer.js";

/** Export names of the host's metering state in an instrumented module. */
export const METER_EXPORTS = {
  fuel: "__troupe_fuel",
  status: "__troupe_status",
  memoryFlags: "__troupe_memflags",
  /** Bytes the job may still add to its memory and tables (i64). */
  budget: "__troupe_budget",
  /** The logical stack depth (i32); the runner puts it back to 0 after a trap. */
  depth: "__troupe_depth",
  memory: "__troupe_memory",
} as const;

/** `__troupe_status` after a trap: which of the host's own checks fired. */
export const TrapStatus = { None: 0, OutOfFuel: 1, StackLimit: 2 } as const;
/** Bits of `__troupe_memflags`. */
export const MemoryFlag = { LimitReached: 1, EngineRefused: 2 } as const;

/** V8's largest table (entries) and memory (pages): growing past them fails the same way everywhere. */
const V8_MAX_TABLE_ENTRIES = 10_000_000;
const V8_MAX_MEMORY_PAGES = 65_536;
/** V8's largest function body; an instrumented body past it is an admission error, not a host fault. */
const V8_MAX_BODY_BYTES = 7_654_321;

export interface InstrumentedModule {
  bytes: Uint8Array;
  /**
   * Fuel to add to the exported count when a trap happens at a byte offset of `bytes`: the static cost
   * of the rest of that metered block (charged at the block's start but never run), less the fuel the
   * function had charged to its local but not yet stored (negative when that is larger).
   */
  refunds: Map<number, number>;
}

const I32 = 0x7f;
const I64 = 0x7e;
const V128 = 0x7b;
const F32 = 0x7d;
const F64 = 0x7c;

// Where a NaN's bits can escape into integers, memory or SIMD lanes: the scalar on top of the stack is
// canonicalised first. f32.store, i32.reinterpret_f32, f32.copysign (sign operand), f32x4.splat,
// f32x4.replace_lane; and the f64 twins.
const F32_ESCAPES = [0x38, 0xbc, 0x98, 0xfd13, 0xfd20];
const F64_ESCAPES = [0x39, 0xbd, 0xa6, 0xfd14, 0xfd22];

const CANON_F32 = new Uint8Array([0, 0, 0xc0, 0x7f]);
const CANON_F64 = new Uint8Array([0, 0, 0, 0, 0, 0, 0xf8, 0x7f]);

/**
 * Replaces a NaN on top of the stack by the canonical quiet NaN, whose bits are the same on every
 * CPU (x86 and Arm disagree on the sign and payload of the NaNs arithmetic produces):
 * `select(x, NaN, x == x)`. A select measured cheaper in V8 than the `if`/`else` it replaced
 * (rust-matmul, which stores a computed f64 per multiply-add: about 1.35-1.4x instead of 1.45-1.6x).
 */
function emitCanonicalNaN(w: ByteWriter, local: number, f64: boolean): void {
  w.u8(0x22).u32(local);
  if (f64) w.u8(0x44).bytes(CANON_F64);
  else w.u8(0x43).bytes(CANON_F32);
  w.u8(0x20).u32(local).u8(0x20).u32(local).u8(f64 ? 0x61 : 0x5b).u8(0x1b);
}

/**
 * Instructions whose result is never a NaN made by the CPU: loads and constants (their bits come from
 * memory or the module, the same everywhere) and integer-to-float conversions. A value they just pushed
 * reaches an escape point unchanged, so it needs no canonicalisation.
 */
const NO_FRESH_NAN = [0x2a, 0x2b, 0x43, 0x44, 0xb2, 0xb3, 0xb4, 0xb5, 0xb7, 0xb8, 0xb9, 0xba, 0xbe, 0xbf];

/** Per full opcode (one byte, or prefix << 8 | sub-opcode): the NaN sets above as bits, looked up per instruction. */
const NAN_F32_ESCAPE = 1;
const NAN_F64_ESCAPE = 2;
const NAN_NO_FRESH = 4;
const NAN_FLAGS = new Uint8Array(0x10000);
for (const op of F32_ESCAPES) NAN_FLAGS[op] = NAN_F32_ESCAPE;
for (const op of F64_ESCAPES) NAN_FLAGS[op] = NAN_F64_ESCAPE;
for (const op of NO_FRESH_NAN) NAN_FLAGS[op] = NAN_NO_FRESH;

const CANON_F32X4 = new Uint8Array([0, 0, 0xc0, 0x7f, 0, 0, 0xc0, 0x7f, 0, 0, 0xc0, 0x7f, 0, 0, 0xc0, 0x7f]);
const CANON_F64X2 = new Uint8Array([0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f]);

/** The same for every lane of a v128 result of f32x4 (lanes = 4) or f64x2 (lanes = 2) arithmetic. */
function emitCanonicalSimd(w: ByteWriter, local: number, lanes: number): void {
  // bitselect(x, NaN, x == x): the lanes equal to themselves keep x, the NaN lanes become canonical.
  w.u8(0x22).u32(local).u8(0xfd).u32(12).bytes(lanes === 4 ? CANON_F32X4 : CANON_F64X2);
  w.u8(0x20).u32(local).u8(0x20).u32(local).u8(0xfd).u32(lanes === 4 ? 0x41 : 0x47).u8(0xfd).u32(0x52);
}

interface Layout {
  fuel: number;
  status: number;
  memFlags: number;
  depth: number;
  budget: number;
  /** Helper function index per instruction site, created on demand. */
  helper: (kind: number, index: number, index2: number) => number;
  importedFunctions: number;
  /** Per defined function: 1 when it takes and returns the fuel count, 2 when it only takes it (see internalFunctions). */
  internal: Uint8Array;
}

/**
 * Rewrites an admitted module so it meters itself: every metered block charges its static cost at
 * its start (to a local copy of the exported i64 fuel global, written back wherever fuel can be
 * observed); loop headers and the entries of calling functions check for exhaustion; calling
 * functions count a logical stack frame; memory.grow, bulk memory and the table operations go through
 * helpers that check bounds, charge per page / byte / element and enforce the job's memory budget;
 * NaNs are canonicalised where their bits escape. Function, global and type indices of the original
 * module do not move (new ones are appended), so custom sections (the `name` section) stay valid and
 * are kept in place.
 */
export interface InstrumentOptions {
  /**
   * The scheme before the global was synchronised only where paths join: every block that can trap
   * stores the fuel. Same fuel in every case; kept as the reference the tests compare against.
   */
  syncAtTraps?: boolean;
  /**
   * The scheme before a forward `br_if`'s fall-through was charged with the block before it: every
   * `br_if` ends a metered block. Same fuel in every case; the reference the tests compare against.
   */
  chargeEachBranch?: boolean;
  /**
   * The scheme before internal functions received and returned the fuel count as an extra parameter
   * and result: every function reloads it from the global. Same fuel; a reference for the tests.
   */
  fuelThroughGlobal?: boolean;
  /** Internal functions with results return the count too only from this body size (for the tests). */
  fuelResultMinBytes?: number;
}

export function instrument(m: WasmModule, options: InstrumentOptions = {}): InstrumentedModule {
  const types = [...m.types];
  const typeKeys = new Map<string, number>();
  types.forEach((t, i) => typeKeys.has(typeKey(t)) || typeKeys.set(typeKey(t), i));
  const typeIndex = (t: FuncType): number => {
    const key = typeKey(t);
    let found = typeKeys.get(key);
    if (found === undefined) {
      found = types.push(t) - 1;
      typeKeys.set(key, found);
    }
    return found;
  };

  const definedCount = m.functionTypes.length;
  let nextFunc = m.importedFunctions + definedCount;
  const g0 = m.globalCount;
  const helperTypes: number[] = [];
  const helperBodies: Uint8Array[] = [];
  const helpers = new Map<string, number>();
  const internal = new Uint8Array(definedCount);
  const L: Layout = {
    importedFunctions: m.importedFunctions,
    internal,
    fuel: g0,
    status: g0 + 1,
    memFlags: g0 + 2,
    depth: g0 + 3,
    budget: g0 + 4,
    helper: (kind, index, index2) => {
      const key = `${kind}:${index}:${index2}`;
      let idx = helpers.get(key);
      if (idx === undefined) {
        const [type, body] = helperFor(m, L, kind, index, index2);
        idx = nextFunc++;
        helpers.set(key, idx);
        helperTypes.push(typeIndex(type));
        helperBodies.push(body);
      }
      return idx;
    },
  };

  // A first pass decodes every body and finds each function's calls; then the call graph says which
  // functions need the logical stack counted at run time (see stackPlan).
  let base = 0;
  const importTypes = m.imports.filter((i) => i.kind === ExternKind.Func).map((i) => i.typeIndex);
  const calleeMark = new Int32Array(definedCount);
  const shapes = m.code.map((f, i) => {
    const shape = scanFunction(i, f.body, f.codeStart, f.localCount, m.types[m.functionTypes[i]!]!, m, importTypes, calleeMark, base);
    base += shape.count;
    return shape;
  });
  grow(base);
  const plan = stackPlan(shapes);
  if (!options.fuelThroughGlobal) internalFunctions(m, base, internal, options.fuelResultMinBytes ?? FUEL_RESULT_MIN_BYTES);
  const functionTypes = m.functionTypes.map((t, i) => {
    if (!internal[i]) return t;
    const { params, results } = m.types[t]!;
    return typeIndex({ params: [...params, I64], results: internal[i] === 1 ? [...results, I64] : results });
  });

  // Every metered body is written into one scratch buffer, reused between modules (encodeModule copies
  // the bodies out of it).
  const all = scratch.clear();
  all.reserve(m.code.reduce((a, f) => a + f.body.length, 0) * 2);
  const ranges: [number, number][] = [];
  const bodyRefunds: [number, number][][] = [];
  for (let i = 0; i < definedCount; i++) {
    const type = m.types[m.functionTypes[i]!]!;
    const f = m.code[i]!;
    const resultBlockType = type.results.length === 0 ? -1 : type.results.length === 1 ? -2 : typeIndex({ params: [], results: type.results });
    const start = all.length;
    const refunds = instrumentFunction(all, f.body, f.codeStart, f.localCount, type, resultBlockType, shapes[i]!, plan[i]!, L, options.syncAtTraps ?? false, !(options.chargeEachBranch ?? false), internal[i]!);
    const size = all.length - start;
    if (size > V8_MAX_BODY_BYTES)
      throw new AdmissionError(`function ${m.importedFunctions + i} is ${size} bytes once metered, over V8's limit of ${V8_MAX_BODY_BYTES} bytes per function`);
    ranges.push([start, all.length]);
    bodyRefunds.push(refunds);
  }
  const written = all.view();
  const bodies: FunctionBody[] = ranges.map(([a, b]) => ({ localGroups: [], localCount: 0, body: written.subarray(a, b), codeStart: 0 }));
  for (const h of helperBodies) bodies.push({ localGroups: [], localCount: 0, body: h, codeStart: 0 });

  const meterGlobals: Global[] = [
    { type: { valType: I64, mutable: true }, init: new Uint8Array([0x42, 0, 0x0b]) }, // fuel
    { type: { valType: I32, mutable: true }, init: new Uint8Array([0x41, 0, 0x0b]) }, // status
    { type: { valType: I32, mutable: true }, init: new Uint8Array([0x41, 0, 0x0b]) }, // memory flags
    { type: { valType: I32, mutable: true }, init: new Uint8Array([0x41, 0, 0x0b]) }, // stack depth
    { type: { valType: I64, mutable: true }, init: new Uint8Array([0x42, 0, 0x0b]) }, // memory budget (bytes)
  ];
  const exports = [
    ...m.exports,
    { name: METER_EXPORTS.fuel, kind: ExternKind.Global, index: L.fuel },
    { name: METER_EXPORTS.status, kind: ExternKind.Global, index: L.status },
    { name: METER_EXPORTS.memoryFlags, kind: ExternKind.Global, index: L.memFlags },
    { name: METER_EXPORTS.depth, kind: ExternKind.Global, index: L.depth },
    { name: METER_EXPORTS.budget, kind: ExternKind.Global, index: L.budget },
  ];
  if (m.memories.length > 0) exports.push({ name: METER_EXPORTS.memory, kind: ExternKind.Memory, index: 0 });
  const out: WasmModule = {
    ...m,
    types,
    functionTypes: [...functionTypes, ...helperTypes],
    globals: [...m.globals, ...meterGlobals],
    exports,
    code: bodies,
    present: [...new Set([...m.present, SectionId.Type, SectionId.Function, SectionId.Global, SectionId.Export, SectionId.Code])],
  };
  const encoded = encodeModule(out);
  // A scratch buffer grown by a very large module is not kept for the life of the process.
  if (all.capacity > SCRATCH_KEEP_BYTES) scratch = new ByteWriter(SCRATCH_KEEP_BYTES);
  const refunds = new Map<number, number>();
  bodyRefunds.forEach((list, i) => {
    const at = encoded.bodyOffsets[i]!;
    for (const [off, fuel] of list) refunds.set(at + off, fuel);
  });
  return { bytes: encoded.bytes, refunds };
}

/** The metered bodies of the module being instrumented (instrument is synchronous: one at a time). */
const SCRATCH_KEEP_BYTES = 8 * 1024 * 1024;
let scratch = new ByteWriter(1 << 16);

/** See internalFunctions. */
const FUEL_RESULT_MIN_BYTES = 500;

/** The function index in a constant expression `ref.func x end`, if it is one. */
function refFuncIn(expr: Uint8Array): number {
  return expr[0] === 0xd2 ? new ByteReader(expr, 1).u32() : -1;
}

/**
 * Marks the defined functions only this module's own direct calls can reach: not exported, not the
 * start function, never named by `ref.func` (in code, a global or an element segment) nor listed in an
 * element segment, so no table, host or call_indirect can call them. They take the fuel count as an
 * extra i64 parameter and return it as an extra result (a register), instead of reading the global on
 * entry and their callers reading it again after the call; the global is stored at the same places as
 * for other functions, so every trap, host call and exit sees the same count. A function that already
 * returns values and whose body is under `resultMinBytes` takes the count but does not return it (its
 * caller reloads the global): measured, an extra result on a small function can cost more than the
 * reload saves (rust-vm 1.20x -> 1.29x; V8 inlines small single-result calls).
 */
function internalFunctions(m: WasmModule, instructions: number, internal: Uint8Array, resultMinBytes: number): void {
  internal.fill(1);
  const out = (f: number): void => {
    if (f >= m.importedFunctions) internal[f - m.importedFunctions] = 0;
  };
  for (const e of m.exports) if (e.kind === ExternKind.Func) out(e.index);
  if (m.start !== undefined) out(m.start);
  for (const seg of m.elements) {
    for (const f of seg.funcs ?? []) out(f);
    for (const x of seg.exprs ?? []) out(refFuncIn(x));
  }
  for (const g of m.globals) out(refFuncIn(g.init));
  for (let j = 0; j < instructions; j++) if (allOps[j] === 0xd2) out(allIndices[j]!);
  // V8 allows 1,000 parameters and results.
  m.functionTypes.forEach((t, i) => {
    const { params, results } = m.types[t]!;
    if (params.length >= 1000 || results.length >= 1000) internal[i] = 0;
    else if (internal[i] && results.length > 0 && m.code[i]!.body.length < resultMinBytes) internal[i] = 2;
  });
}

/** Logical stack units a helper's frame takes (a few params and locals). */
const HELPER_FRAME = 16;
/** A function whose deepest static call chain needs more units than this is counted at run time. */
const MAX_STATIC_STACK = 100_000;

interface StackPlan {
  /** Counts its frame at run time (and checks the limit). */
  tracked: boolean;
  /** Tracked functions: units reserved on entry (own frame + the deepest untracked chain below it). */
  reserve: number;
  /** Checks for exhausted fuel on entry (functions that call other defined functions). */
  entryCheck: boolean;
}

/**
 * Which functions count their logical stack frame at run time. A function that makes no indirect call
 * and whose direct calls never lead back to itself has a static bound on the stack it and its callees
 * use (its own frame plus the deepest callee's bound): it is not counted, and a counted caller reserves
 * that bound on entry instead. Recursion and call_indirect are always counted (an indirect call may
 * reach any function, so its caller reserves the largest bound). Functions that call no other defined
 * function run a bounded amount of code between loop headers and need no fuel check on entry.
 */
function stackPlan(shapes: Shape[]): StackPlan[] {
  const n = shapes.length;
  const bound = new Array<number>(n).fill(-1); // -1 unknown, -2 in progress, -3 unbounded
  const visit = (root: number): void => {
    // Iterative post-order DFS (call chains can be deep).
    const stack: [number, number][] = [[root, 0]];
    bound[root] = -2;
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [f, k] = top;
      const sh = shapes[f]!;
      if (k < sh.callees.length) {
        top[1]++;
        const g = sh.callees[k]!;
        if (bound[g] === -1) {
          bound[g] = -2;
          stack.push([g, 0]);
        }
        continue;
      }
      stack.pop();
      let deepest = HELPER_FRAME;
      let ok = !sh.indirect;
      for (const g of sh.callees) {
        const b = bound[g]!;
        if (b < 0) ok = false; // in progress (a cycle) or unbounded
        else deepest = Math.max(deepest, b);
      }
      const total = sh.frame + deepest;
      bound[f] = ok && total <= MAX_STATIC_STACK ? total : -3;
    }
  };
  for (let f = 0; f < n; f++) if (bound[f] === -1) visit(f);
  const maxBound = bound.reduce((a, b) => Math.max(a, b), HELPER_FRAME);
  return shapes.map((sh, f) => {
    let below = sh.indirect ? maxBound : HELPER_FRAME;
    for (const g of sh.callees) if (bound[g]! >= 0) below = Math.max(below, bound[g]!);
    return { tracked: bound[f]! < 0, reserve: sh.frame + below, entryCheck: sh.callees.length > 0 || sh.indirect };
  });
}

function typeKey(t: FuncType): string {
  return t.params.join(",") + ">" + t.results.join(",");
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

/** Traps OutOfFuel when the local is below `-ahead` (`ahead`: fuel charged for blocks not yet started). */
function emitLocalFuelCheck(w: ByteWriter, L: Layout, local: number, ahead: number): void {
  w.u8(0x20).u32(local).u8(0x42).s32(-ahead).u8(0x53);
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
let allIndices2 = new Int32Array(1024);
let allOps = new Int32Array(1024);
let allSimd = new Uint8Array(1024);
/** br_if instructions whose fall-through block is charged with the block before them (see instrumentFunction). */
let allMerged = new Uint8Array(1024);

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
  allIndices2 = g32(allIndices2);
  allOps = g32(allOps);
  allKinds = g8(allKinds);
  allTraps = g8(allTraps);
  allSimd = g8(allSimd);
  allMerged = g8(allMerged);
}

/** No branch to a label yet (the amounts edges bring to a join, see instrumentFunction). */
const NO_EDGE = -(2 ** 41);
/** The unsynced amount is not known statically (a loop header, a join of different amounts). */
const UNKNOWN = -(2 ** 40);
function joinOf(a: number, b: number): number {
  if (a === NO_EDGE) return b;
  if (b === NO_EDGE || a === b) return a;
  return UNKNOWN;
}

/** The label depths of the br_table at `start` (its targets and its default). */
function branchTable(body: Uint8Array, start: number): number[] {
  const r = new ByteReader(body, start + 1);
  const n = r.u32();
  const depths: number[] = [];
  for (let k = 0; k <= n; k++) depths.push(r.u32());
  return depths;
}

/** Instructions after which a new metered block starts. */
function endsBlock(kind: number): boolean {
  return kind !== Kind.Plain && kind !== Kind.Block;
}

interface Shape {
  /** Defined functions it calls directly (indices among defined functions, no duplicates). */
  callees: number[];
  /** Makes a call_indirect. */
  indirect: boolean;
  /** Where this function's instructions start in the module-wide decode arrays. */
  base: number;
  /** Logical stack units of one frame: overhead + params + locals + an operand-stack bound. */
  frame: number;
  count: number;
  /** Uses f32x4/f64x2 arithmetic, so it needs a v128 scratch local. */
  simd: boolean;
}

/** Decodes every instruction of a body into the scratch arrays; returns the function's shape. */
function scanFunction(
  self: number,
  body: Uint8Array,
  codeStart: number,
  localCount: number,
  type: FuncType,
  m: WasmModule,
  importTypes: number[],
  calleeMark: Int32Array,
  base: number,
): Shape {
  const r = new ByteReader(body, codeStart);
  const imm = newImmediates();
  let n = 0;
  let simd = false;
  let pushes = 0;
  const callees: number[] = [];
  let indirect = false;
  let starts = allStarts;
  let ends = allEnds;
  let kinds = allKinds;
  let costs = allCosts;
  let traps = allTraps;
  let indices = allIndices;
  let indices2 = allIndices2;
  let ops = allOps;
  let simdFloat = allSimd;
  const end = body.length;
  while (r.pos < end) {
    const at = base + n;
    if (at >= starts.length) {
      grow(at);
      [starts, ends, kinds, costs, traps, indices, indices2, ops, simdFloat] = [allStarts, allEnds, allKinds, allCosts, allTraps, allIndices, allIndices2, allOps, allSimd];
    }
    starts[at] = r.pos;
    decodeInstr(r, imm);
    ends[at] = r.pos;
    kinds[at] = imm.kind;
    costs[at] = imm.cost;
    traps[at] = imm.traps ? 1 : 0;
    indices[at] = imm.index;
    indices2[at] = imm.index2;
    ops[at] = imm.op;
    simdFloat[at] = imm.simdFloat;
    if (imm.simdFloat) simd = true;
    if (imm.kind === Kind.Call) {
      if (imm.index >= m.importedFunctions) {
        const g = imm.index - m.importedFunctions;
        // Each callee once: marked with this function's own index.
        if (calleeMark[g] !== self + 1) {
          calleeMark[g] = self + 1;
          callees.push(g);
        }
      }
      const callee = imm.index < m.importedFunctions ? importTypes[imm.index] : m.functionTypes[imm.index - m.importedFunctions];
      pushes += (m.types[callee ?? -1]?.results ?? []).reduce((a, t) => a + slots(t), 0);
    } else if (imm.kind === Kind.CallIndirect) {
      indirect = true;
      pushes += (m.types[imm.index]?.results ?? []).reduce((a, t) => a + slots(t), 0);
    } else pushes += imm.pushes;
    n++;
  }
  const frame = STACK.frameOverhead + type.params.reduce((a, t) => a + slots(t), 0) + localCount * 2 + pushes;
  return { callees, indirect, frame, base, count: n, simd };
}


/** Writes one metered body at the end of `w`; returns its refunds (offsets from the body's start). */
function instrumentFunction(
  w: ByteWriter,
  body: Uint8Array,
  codeStart: number,
  localCount: number,
  type: FuncType,
  resultBlockType: number,
  shape: Shape,
  plan: StackPlan,
  L: Layout,
  syncAtTraps: boolean,
  mergeBranches: boolean,
  internalKind: number,
): [number, number][] {
  const internal = internalKind !== 0;
  const returnsFuel = internalKind === 1;
  // This function's instructions are [base, last] in the decode arrays filled by the first pass (indexed
  // in place: no views to allocate per function); `last` is the body's final `end`.
  const { base, count: n } = shape;
  const last = base + n - 1;
  const { tracked } = plan;
  const starts = allStarts;
  const ends = allEnds;
  const kinds = allKinds;
  const costs = allCosts;
  const traps = allTraps;
  const indices = allIndices;
  const indices2 = allIndices2;
  const ops = allOps;
  const simdFloat = allSimd;
  const merged = allMerged;
  const frame = plan.reserve;

  // Pass 2: emit. Block costs are summed ahead so each charge covers its whole metered block.
  // Local declarations: the original groups, then the fuel counter, NaN scratch locals and the entry depth.
  const origin = w.length;
  const decl = new ByteReader(body);
  const groups = decl.u32();
  // An internal function's fuel count is its last parameter: its own locals move up by one.
  const nParams = type.params.length;
  w.u32(groups + (shape.simd ? 4 : 3) + (internal ? 0 : 1)).bytes(body.subarray(decl.pos, codeStart));
  if (!internal) w.u32(1).u8(I64);
  w.u32(1).u8(F32).u32(1).u8(F64).u32(1).u8(I32);
  if (shape.simd) w.u32(1).u8(V128);
  const fuelLocal = internal ? nParams : nParams + localCount;
  const f32Local = nParams + localCount + 1;
  const f64Local = f32Local + 1;
  const depthLocal = f32Local + 2;
  const v128Local = f32Local + 3;
  const refunds: [number, number][] = [];
  // Frame entry: count the logical stack, then open a block that every function-level branch now targets.
  if (tracked) {
    // depth at entry > limit - frame  <=>  depth + frame > limit (signed: frame may exceed the limit)
    w.u8(0x23).u32(L.depth).u8(0x22).u32(depthLocal).u8(0x41).s32(frame).u8(0x6a).u8(0x24).u32(L.depth);
    w.u8(0x20).u32(depthLocal).u8(0x41).s32(STACK.limitUnits - frame).u8(0x4a);
    emitTrapIf(w, L, TrapStatus.StackLimit);
  }
  w.u8(0x02);
  if (resultBlockType === -1) w.u8(0x40);
  else if (resultBlockType === -2) w.u8(type.results[0]!);
  else w.s64(BigInt(resultBlockType));

  if (!internal) emitReload(w, L, fuelLocal);
  // Unchanged instructions are copied in runs: `pending` is the first body byte not yet written.
  let pending = starts[base]!;
  let blockStart = true;
  let after = 0; // the static cost of the current metered block not run yet
  // A function that calls no other runs a bounded amount of code between loop headers: no entry check.
  let checkHere = plan.entryCheck;
  // Fuel charged to the local but not yet stored to the global (`unsynced`) is known statically along
  // one path; where paths join it is known when every live edge into the join brings the same amount
  // (the branches to a block's or an if's label, its fall-through, an if's false edge), and unknown (UNKNOWN)
  // otherwise and at loop headers. Where it is unknown, the next block that can trap stores the fuel;
  // calls and helpers store it before they run, and exits store it; every other block only charges the
  // local. A trap reads the global, so its refund entry subtracts the fuel still unsynced there.
  // (`syncAtTraps`: every block that can trap stores.)
  let unsynced = 0;
  let live = true; // the current instruction is reached by falling through (not after br/return/...)
  const openKind: number[] = []; // per open block/loop/if: the kind that opened it,
  const openIf: number[] = []; // the fuel unsynced at an `if` (its else arm and false edge start there),
  const joinAt: number[] = []; // what the edges to its label bring so far (NO_EDGE, an amount or UNKNOWN),
  const hasElse: boolean[] = [];
  const liveAt: boolean[] = []; // whether it was opened on a live path
  const openNoValues: boolean[] = []; // whether a branch to its label carries no values
  // A block that starts after a forward `br_if` without values and has no call or helper is charged
  // with the block before it (one subtraction instead of two on the fall-through path); the branch, if
  // taken, gives the fall-through's cost back to the local on its way out. Fuel at every exit, call,
  // check and trap is the same as when each block charges itself (the check compares with the amount
  // charged ahead, and a trap's refund covers it).
  const lookOpen: boolean[] = []; // blocks opened inside the metered block being summed
  const branchNoValues = (d: number): boolean => {
    if (d < lookOpen.length) return lookOpen[lookOpen.length - 1 - d]!;
    const t = openKind.length - 1 - (d - lookOpen.length);
    if (t < 0) return type.results.length === 0; // the function's own label
    return openKind[t] !== Kind.Loop && openNoValues[t]!;
  };
  const plainNext = (from: number): boolean => {
    for (let j = from; j < last; j++) {
      const k = kinds[j]!;
      if (k === Kind.Call || k === Kind.CallIndirect || k >= Kind.MemoryGrow) return false;
      if (endsBlock(k)) return true;
    }
    return false;
  };
  const edge = (depth: number): void => {
    if (!live) return; // a branch in dead code is never taken
    const t = openKind.length - 1 - depth;
    // The function's own label leads to its exit, which stores; a loop's leads to its header (unknown).
    if (t >= 0 && openKind[t] !== Kind.Loop) joinAt[t] = joinOf(joinAt[t]!, unsynced);
  };
  for (let i = base; i < last; i++) {
    const start = starts[i]!;
    if (blockStart) {
      let cost = 0;
      let canTrap = false;
      let calls = false;
      let ahead = -1; // the cost of the first block when later ones are charged with it
      lookOpen.length = 0;
      for (let j = i; j < last; j++) {
        cost += costs[j]!;
        const k = kinds[j]!;
        if (traps[j]) canTrap = true;
        if (k === Kind.Call || k === Kind.CallIndirect || k >= Kind.MemoryGrow) calls = true;
        if (k === Kind.Block) lookOpen.push(body[starts[j]! + 1] === 0x40);
        if (!endsBlock(k)) continue;
        if (mergeBranches && !calls && ops[j] === 0x0d && branchNoValues(indices[j]!) && plainNext(j + 1)) {
          merged[j] = 1;
          if (ahead < 0) ahead = cost;
          continue;
        }
        break;
      }
      const store = calls || (canTrap && (syncAtTraps || unsynced === UNKNOWN));
      if (cost > 0 || checkHere) {
        pending = w.copy(body, pending, start);
        emitCharge(w, L, cost, fuelLocal, store);
        if (checkHere) emitLocalFuelCheck(w, L, fuelLocal, ahead < 0 ? 0 : cost - ahead);
      }
      if (store) unsynced = 0;
      else if (unsynced !== UNKNOWN) unsynced += cost;
      after = cost;
      blockStart = false;
      checkHere = false;
    }
    const kind = kinds[i]!;
    const escape = kind === Kind.Plain ? NAN_FLAGS[ops[i]!]! & (NAN_F32_ESCAPE | NAN_F64_ESCAPE) : 0;
    if (escape !== 0 && !(i > base && NAN_FLAGS[ops[i - 1]!]! & NAN_NO_FRESH)) {
      pending = w.copy(body, pending, start);
      if (escape === NAN_F32_ESCAPE) emitCanonicalNaN(w, f32Local, false);
      else emitCanonicalNaN(w, f64Local, true);
    }
    // What a trap here must add to the global: the static cost of the rest of the block (charged at its
    // start, never run) less the fuel not yet stored; keyed by where the instruction lands in the output
    // once the pending run is written.
    after -= costs[i]!;
    if (traps[i] && after !== unsynced) refunds.push([w.length - origin + (start - pending), after - unsynced]);
    if (kind === Kind.Plain) {
      // Most instructions: no helper, no call, no control flow; they never end a metered block.
      if (internal && ops[i]! >= 0x20 && ops[i]! <= 0x22 && indices[i]! >= nParams) {
        pending = w.copy(body, pending, start);
        w.u8(ops[i]!).u32(indices[i]! + 1);
        pending = ends[i]!;
        continue;
      }
      if (simdFloat[i]) {
        pending = w.copy(body, pending, ends[i]!);
        emitCanonicalSimd(w, v128Local, simdFloat[i]!);
      }
      continue;
    }
    switch (kind) {
      case Kind.MemoryGrow:
      case Kind.MemoryCopy:
      case Kind.MemoryFill:
      case Kind.MemoryInit:
      case Kind.TableGrow:
      case Kind.TableFill:
      case Kind.TableCopy:
      case Kind.TableInit:
        pending = w.copy(body, pending, start);
        w.u8(0x10).u32(L.helper(kind, indices[i]!, indices2[i]!));
        pending = ends[i]!;
        break;
      case Kind.Return:
        pending = w.copy(body, pending, start);
        emitStore(w, L, fuelLocal);
        if (tracked) emitFrameExit(w, L, depthLocal);
        if (returnsFuel) w.u8(0x20).u32(fuelLocal);
        break;
    }
    const calleeKind = kind === Kind.Call && indices[i]! >= L.importedFunctions ? L.internal[indices[i]! - L.importedFunctions]! : 0;
    if (calleeKind !== 0) {
      // The count goes in as the last argument and comes back as the last result.
      pending = w.copy(body, pending, start);
      w.u8(0x20).u32(fuelLocal);
      pending = w.copy(body, pending, ends[i]!);
      if (calleeKind === 1) w.u8(0x21).u32(fuelLocal);
      else emitReload(w, L, fuelLocal);
    } else if (kind === Kind.Call || kind === Kind.CallIndirect || kind >= Kind.MemoryGrow) {
      pending = w.copy(body, pending, ends[i]!);
      emitReload(w, L, fuelLocal);
    }
    switch (kind) {
      case Kind.Block:
      case Kind.Loop:
      case Kind.If:
        openKind.push(kind);
        openIf.push(unsynced);
        joinAt.push(NO_EDGE);
        hasElse.push(false);
        liveAt.push(live);
        openNoValues.push(body[start + 1] === 0x40);
        // A loop header is reached from before the loop and from every backward branch.
        if (kind === Kind.Loop) unsynced = UNKNOWN;
        break;
      case Kind.Else: {
        const t = openKind.length - 1;
        if (live) joinAt[t] = joinOf(joinAt[t]!, unsynced);
        hasElse[t] = true;
        // The else arm is entered from the `if` alone: the fuel unsynced there.
        unsynced = openIf[t]!;
        live = liveAt[t]!;
        break;
      }
      case Kind.End: {
        const k = openKind.pop();
        let join = joinAt.pop()!;
        const atIf = openIf.pop()!;
        if (k === Kind.If && !hasElse[hasElse.length - 1] && liveAt[liveAt.length - 1]) join = joinOf(join, atIf); // the false edge
        hasElse.pop();
        liveAt.pop();
        openNoValues.pop();
        // After a loop's `end` only its body falls through.
        if (k !== Kind.Loop) {
          if (live) join = joinOf(join, unsynced);
          live = join !== NO_EDGE;
          unsynced = live ? join : UNKNOWN;
        }
        break;
      }
      case Kind.Branch:
        if (merged[i]) {
          // br_if d  =>  if (cond) { fuel += the rest, charged ahead; br d + 1 }; the block goes on.
          merged[i] = 0;
          pending = w.copy(body, pending, start);
          if (after > 0) {
            w.u8(0x04).u8(0x40).u8(0x20).u32(fuelLocal).u8(0x42).s32(after).u8(0x7c).u8(0x21).u32(fuelLocal);
            w.u8(0x0c).u32(indices[i]! + 1).u8(0x0b);
          } else w.u8(0x0d).u32(indices[i]!);
          pending = ends[i]!;
          const through = unsynced;
          if (unsynced !== UNKNOWN) unsynced -= after;
          edge(indices[i]!);
          unsynced = through;
          continue;
        }
        if (ops[i] === 0x0c || ops[i] === 0x0d) edge(indices[i]!);
        else if (ops[i] === 0x0e) for (const d of branchTable(body, start)) edge(d);
        if (ops[i] !== 0x0d) live = false;
        break;
      case Kind.Return:
        live = false;
        break;
      case Kind.Call:
      case Kind.CallIndirect:
        unsynced = 0;
        break;
    }
    if (endsBlock(kind)) {
      blockStart = true;
      checkHere = kind === Kind.Loop;
    }
  }
  w.copy(body, pending, starts[last]!);
  w.u8(0x0b);
  emitStore(w, L, fuelLocal);
  if (tracked) emitFrameExit(w, L, depthLocal);
  if (returnsFuel) w.u8(0x20).u32(fuelLocal);
  w.u8(0x0b);
  return refunds;
}

// ---- helpers: the operations whose cost depends on their operands ----

function u64(w: ByteWriter, local: number): ByteWriter {
  return w.u8(0x20).u32(local).u8(0xad);
}

function chargeConst(w: ByteWriter, L: Layout, cost: number): void {
  w.u8(0x23).u32(L.fuel).u8(0x42).s64(BigInt(cost)).u8(0x7d).u8(0x24).u32(L.fuel);
}

/** fuel -= (u64(local) >> shift) * per */
function chargeDynamic(w: ByteWriter, L: Layout, local: number, shift: number, per: number): void {
  w.u8(0x23).u32(L.fuel);
  u64(w, local);
  if (shift > 0) w.u8(0x42).s64(BigInt(shift)).u8(0x88);
  if (per !== 1) w.u8(0x42).s64(BigInt(per)).u8(0x7e);
  w.u8(0x7d).u8(0x24).u32(L.fuel);
}

function emitSetFlag(w: ByteWriter, L: Layout, flag: number): void {
  w.u8(0x23).u32(L.memFlags).u8(0x41).s32(flag).u8(0x72).u8(0x24).u32(L.memFlags);
}

/** Pushes (u64(a) + u64(b) <= limit) where the limit is already an i64 computed by `limit`. */
function emitFits(w: ByteWriter, a: number, b: number, limit: (w: ByteWriter) => void): void {
  u64(w, a);
  u64(w, b);
  w.u8(0x7c);
  limit(w);
  w.u8(0x58); // i64.le_u
}

const memoryBytes = (w: ByteWriter): void => {
  w.u8(0x3f).u8(0).u8(0xad).u8(0x42).s64(16n).u8(0x86); // memory.size << 16
};
const tableSize =
  (table: number) =>
  (w: ByteWriter): void => {
    w.u8(0xfc).u32(16).u32(table).u8(0xad);
  };
const constant =
  (n: number) =>
  (w: ByteWriter): void => {
    w.u8(0x42).s64(BigInt(n));
  };

/** Length a passive segment starts with; active and declarative ones are dropped at instantiation. */
function elementLength(m: WasmModule, e: number): number {
  const seg = m.elements[e];
  return seg && seg.mode === "passive" ? (seg.funcs?.length ?? seg.exprs?.length ?? 0) : 0;
}
function dataLength(m: WasmModule, d: number): number {
  const seg = m.data[d];
  return seg && seg.mode === "passive" ? seg.bytes.length : 0;
}

/**
 * A helper that replaces one instruction: it charges a base, checks the operands first (out-of-bounds
 * operands are not charged per unit: the instruction then traps with the engine's own message), charges
 * per page / byte / element, checks the fuel, and only then runs the instruction.
 */
function helperFor(m: WasmModule, L: Layout, kind: number, index: number, index2: number): [FuncType, Uint8Array] {
  const w = new ByteWriter();
  const C = COSTS;
  const bulk = (params: number[], fits: () => void, shift: number, per: number, op: number[]): [FuncType, Uint8Array] => {
    w.u32(0);
    chargeConst(w, L, kind >= Kind.TableGrow ? C.tableBulkBase : C.bulkMemoryBase);
    fits();
    w.u8(0x04).u8(0x40);
    chargeDynamic(w, L, 2, shift, per);
    emitFuelCheck(w, L);
    w.u8(0x0b);
    for (let i = 0; i < params.length; i++) w.u8(0x20).u32(i);
    w.bytes(new Uint8Array(op)).u8(0x0b);
    return [{ params, results: [] }, w.finish()];
  };
  const leb = (n: number): number[] => [...new ByteWriter().u32(n).finish()];
  const i3 = [I32, I32, I32];
  switch (kind) {
    case Kind.MemoryFill:
      return bulk(i3, () => emitFits(w, 0, 2, memoryBytes), C.bulkMemoryBytesShift, 1, [0xfc, 11, 0]);
    case Kind.MemoryCopy:
      return bulk(
        i3,
        () => {
          emitFits(w, 0, 2, memoryBytes);
          emitFits(w, 1, 2, memoryBytes);
          w.u8(0x71);
        },
        C.bulkMemoryBytesShift,
        1,
        [0xfc, 10, 0, 0],
      );
    case Kind.MemoryInit:
      return bulk(
        i3,
        () => {
          emitFits(w, 0, 2, memoryBytes);
          emitFits(w, 1, 2, constant(dataLength(m, index)));
          w.u8(0x71);
        },
        C.bulkMemoryBytesShift,
        1,
        [0xfc, 8, ...leb(index), 0],
      );
    case Kind.TableFill: {
      const rt = m.tables[index]!.refType;
      return bulk([I32, rt, I32], () => emitFits(w, 0, 2, tableSize(index)), 0, C.tableBulkPerElement, [0xfc, 17, ...leb(index)]);
    }
    case Kind.TableCopy:
      return bulk(
        i3,
        () => {
          emitFits(w, 0, 2, tableSize(index));
          emitFits(w, 1, 2, tableSize(index2));
          w.u8(0x71);
        },
        0,
        C.tableBulkPerElement,
        [0xfc, 14, ...leb(index), ...leb(index2)],
      );
    case Kind.TableInit:
      return bulk(
        i3,
        () => {
          emitFits(w, 0, 2, tableSize(index2));
          emitFits(w, 1, 2, constant(elementLength(m, index)));
          w.u8(0x71);
        },
        0,
        C.tableBulkPerElement,
        [0xfc, 12, ...leb(index), ...leb(index2)],
      );
    case Kind.MemoryGrow: {
      const max = Math.min(m.memories[0]?.max ?? V8_MAX_MEMORY_PAGES, V8_MAX_MEMORY_PAGES);
      return growHelper(w, L, [I32], 0, 1, max, MEMORY_ACCOUNTING.pageBytes, C.memoryGrowBase, C.memoryGrowPerPage, [0x40, 0], (x) => x.u8(0x3f).u8(0));
    }
    case Kind.TableGrow: {
      const t = m.tables[index]!;
      const max = Math.min(t.limits.max ?? V8_MAX_TABLE_ENTRIES, V8_MAX_TABLE_ENTRIES);
      return growHelper(w, L, [t.refType, I32], 1, 2, max, MEMORY_ACCOUNTING.tableEntryBytes, C.tableGrowBase, C.tableGrowPerElement, [0xfc, 15, ...leb(index)], (x) =>
        x.u8(0xfc).u32(16).u32(index),
      );
    }
  }
  throw new Error(`no metering helper for instruction kind ${kind}`);
}

/**
 * memory.grow / table.grow: -1 past the declared (or V8's) maximum, -1 and the LimitReached flag past
 * the job's memory budget, otherwise charged per unit and run; the engine refusing below the budget
 * sets EngineRefused (the host was short of memory, not the job: a host fault).
 */
function growHelper(
  w: ByteWriter,
  L: Layout,
  params: number[],
  delta: number,
  firstLocal: number,
  maxUnits: number,
  bytesPerUnit: number,
  base: number,
  perUnit: number,
  op: number[],
  size: (w: ByteWriter) => void,
): [FuncType, Uint8Array] {
  const need = firstLocal;
  const result = firstLocal + 1;
  w.u32(2).u32(1).u8(I64).u32(1).u8(I32);
  chargeConst(w, L, base);
  size(w);
  w.u8(0xad);
  u64(w, delta).u8(0x7c).u8(0x42).s64(BigInt(maxUnits)).u8(0x56); // size + delta > max
  w.u8(0x04).u8(0x40).u8(0x41).s32(-1).u8(0x0f).u8(0x0b);
  u64(w, delta).u8(0x42).s64(BigInt(bytesPerUnit)).u8(0x7e).u8(0x22).u32(need);
  w.u8(0x23).u32(L.budget).u8(0x55); // need > budget
  w.u8(0x04).u8(0x40);
  emitSetFlag(w, L, MemoryFlag.LimitReached);
  w.u8(0x41).s32(-1).u8(0x0f).u8(0x0b);
  chargeDynamic(w, L, delta, 0, perUnit);
  emitFuelCheck(w, L);
  for (let i = 0; i < params.length; i++) w.u8(0x20).u32(i);
  w.bytes(new Uint8Array(op)).u8(0x22).u32(result).u8(0x41).s32(-1).u8(0x46);
  w.u8(0x04).u8(0x40);
  emitSetFlag(w, L, MemoryFlag.EngineRefused);
  w.u8(0x05);
  w.u8(0x23).u32(L.budget).u8(0x20).u32(need).u8(0x7d).u8(0x24).u32(L.budget);
  w.u8(0x0b);
  w.u8(0x20).u32(result).u8(0x0b);
  return [{ params, results: [I32] }, w.finish()];
}
