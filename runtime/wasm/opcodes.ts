import { COSTS } from "./cost-table.js";
import { AdmissionError } from "./errors.js";
import { DecodeError, type ByteReader } from "./reader.js";

/** What the instrumenter needs to know about one instruction. */
export const Kind = {
  Plain: 0,
  /** Ends a metered block after it: br, br_if, br_table, unreachable. */
  Branch: 1,
  /** Starts a new metered block right after it (a backward branch target). */
  Loop: 2,
  Block: 3,
  If: 4,
  Else: 5,
  End: 6,
  Call: 7,
  CallIndirect: 8,
  Return: 9,
  // Everything from here on is replaced by a call to a metering helper.
  MemoryGrow: 10,
  MemoryCopy: 11,
  MemoryFill: 12,
  MemoryInit: 13,
  TableGrow: 14,
  TableFill: 15,
  TableCopy: 16,
  TableInit: 17,
} as const;
export type KindCode = (typeof Kind)[keyof typeof Kind];

/** Immediates of the last decoded instruction that the instrumenter reads. */
export interface Immediates {
  kind: KindCode;
  /** The instruction can trap (a memory access, an integer division, a float-to-int truncation...). */
  traps: boolean;
  /** Static fuel cost before metering adds anything. */
  cost: number;
  /**
   * call: function index; call_indirect: type index; br / br_if: label depth; memory.init / data.drop: data index;
   * table.init / elem.drop: element index; table.* / table.get/set: table index; global.*: global index.
   */
  index: number;
  /** call_indirect / table.init: table index; table.copy: source table index. */
  index2: number;
  /** block/loop/if: the block type (-64 empty, negative valtype, or a type index). */
  blockType: number;
  /** How many 8-byte slots the instruction can push (an upper bound). */
  pushes: number;
  /** The full opcode: one byte, or prefix << 8 | sub-opcode (0xfc.., 0xfd..). */
  op: number;
  /** v128-typed float arithmetic whose result may be a NaN (f32x4 or f64x2 lanes; 0 otherwise). */
  simdFloat: 0 | 4 | 2;
}

export function newImmediates(): Immediates {
  return { kind: Kind.Plain, traps: false, cost: 0, index: 0, index2: 0, blockType: 0, pushes: 0, op: 0, simdFloat: 0 };
}

/** Value types the admitted feature set knows: numbers, v128, funcref, externref. */
export const VALTYPES = new Set([0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f]);
export const REFTYPES = new Set([0x70, 0x6f]);

/** Type constructors of typed function references and GC, named when a module uses them. */
function refusedType(t: number): never {
  if (t === 0x64 || t === 0x63) throw new AdmissionError("typed function references (ref / ref null types) are not allowed");
  if (t >= 0x65 && t <= 0x74) throw new AdmissionError(`GC / typed reference type 0x${t.toString(16)} is not allowed`);
  if (t === 0x69 || t === 0x68) throw new AdmissionError("exception handling (exnref) is not allowed");
  throw new DecodeError(`unknown value type 0x${t.toString(16)}`);
}

export function readValType(r: ByteReader): number {
  const t = r.u8();
  if (VALTYPES.has(t)) return t;
  return refusedType(t);
}

export function readRefType(r: ByteReader): number {
  const t = r.u8();
  if (REFTYPES.has(t)) return t;
  if (VALTYPES.has(t)) throw new DecodeError(`0x${t.toString(16)} at byte ${r.pos - 1} is not a reference type`);
  return refusedType(t);
}

function blockType(r: ByteReader): number {
  const first = r.bytes[r.pos];
  if (first === 0x40) {
    r.pos++;
    return -64;
  }
  if (first !== undefined && VALTYPES.has(first)) {
    r.pos++;
    return first - 0x80;
  }
  if (first !== undefined && first >= 0x40 && first < 0x80) refusedType(first);
  const idx = r.s33();
  if (idx < 0) throw new DecodeError(`bad block type at byte ${r.pos}`);
  return idx;
}

/** A memarg: alignment (bit 6 would announce a memory index: multi-memory) and offset, both LEB128. */
function memarg(r: ByteReader): void {
  const align = r.u32();
  if (align & 0x40) throw new AdmissionError("multiple memories are not allowed (memarg with a memory index)");
  if (align >= 32) throw new DecodeError(`alignment 2^${align} at byte ${r.pos} is out of range`);
  r.u32();
}

/** A memory index immediate (a u32 LEB128, possibly padded): only memory 0 exists under the policy. */
function memoryIndex(r: ByteReader, what: string): void {
  if (r.u32() !== 0) throw new AdmissionError(`${what}: multiple memories are not allowed (memory index other than 0)`);
}

// Opcodes of the base instruction set that may trap at run time.
const TRAPPING = [0x00, 0x11, 0x25, 0x26, 0x6d, 0x6e, 0x6f, 0x70, 0x7f, 0x80, 0x81, 0x82, 0xa8, 0xa9, 0xaa, 0xab, 0xae, 0xaf, 0xb0, 0xb1];
// Integer division and remainder cost more than other arithmetic.
const DIVISION = [0x6d, 0x6e, 0x6f, 0x70, 0x7f, 0x80, 0x81, 0x82];
/** Per one-byte opcode: bit 1 traps, bit 2 is a division (a table: decoding looks it up per instruction). */
const TRAPS = 1;
const DIVIDES = 2;
const NUMERIC = new Uint8Array(256);
for (const op of TRAPPING) NUMERIC[op] = NUMERIC[op]! | TRAPS;
for (const op of DIVISION) NUMERIC[op] = NUMERIC[op]! | DIVIDES;

const EXCEPTIONS = new Set([0x06, 0x07, 0x08, 0x09, 0x0a, 0x18, 0x19, 0x1f]);
const TYPED_REFS = new Set([0x14, 0x15, 0xd3, 0xd4, 0xd5, 0xd6]);

/**
 * Decodes one instruction at `r.pos`, advances past its immediates and fills `imm`.
 * Every integer immediate is read as the LEB128 the binary format allows, redundant padding included.
 * Throws DecodeError for malformed bytes and AdmissionError for features the host does not run.
 */
export function decodeInstr(r: ByteReader, imm: Immediates): number {
  const op = r.u8();
  imm.op = op;
  imm.kind = Kind.Plain;
  imm.traps = false;
  imm.cost = COSTS.instruction;
  imm.pushes = 1;
  imm.simdFloat = 0;
  if (op >= 0x28 && op <= 0x3e) {
    memarg(r);
    imm.traps = true;
    imm.pushes = op <= 0x35 ? 1 : 0;
    return op;
  }
  if (op >= 0x45 && op <= 0xc4) {
    const flags = NUMERIC[op]!;
    if (flags !== 0) {
      imm.traps = (flags & TRAPS) !== 0;
      if (flags & DIVIDES) imm.cost = COSTS.division;
    }
    return op;
  }
  switch (op) {
    case 0x00:
      imm.kind = Kind.Branch;
      imm.traps = true;
      imm.pushes = 0;
      return op;
    case 0x01:
      imm.cost = 0;
      imm.pushes = 0;
      return op;
    case 0x02:
    case 0x03:
    case 0x04:
      imm.blockType = blockType(r);
      imm.kind = op === 0x02 ? Kind.Block : op === 0x03 ? Kind.Loop : Kind.If;
      imm.cost = op === 0x04 ? COSTS.instruction : 0;
      imm.pushes = 0;
      return op;
    case 0x05:
      imm.kind = Kind.Else;
      imm.pushes = 0;
      return op;
    case 0x0b:
      imm.kind = Kind.End;
      imm.cost = 0;
      imm.pushes = 0;
      return op;
    case 0x0c:
    case 0x0d:
      imm.index = r.u32();
      imm.kind = Kind.Branch;
      imm.pushes = 0;
      return op;
    case 0x0e: {
      const n = r.u32();
      if (n > r.end - r.pos) throw new DecodeError(`br_table with ${n} labels runs past the end at byte ${r.pos}`);
      for (let i = 0; i <= n; i++) r.u32();
      imm.kind = Kind.Branch;
      imm.cost = COSTS.branchTable;
      imm.pushes = 0;
      return op;
    }
    case 0x0f:
      imm.kind = Kind.Return;
      imm.pushes = 0;
      return op;
    case 0x10:
      imm.index = r.u32();
      imm.kind = Kind.Call;
      imm.cost = COSTS.call;
      return op;
    case 0x11:
      imm.index = r.u32();
      imm.index2 = r.u32();
      imm.kind = Kind.CallIndirect;
      imm.traps = true;
      imm.cost = COSTS.callIndirect;
      return op;
    case 0x12:
    case 0x13:
      throw new AdmissionError("tail calls are not allowed");
    case 0x1a:
      imm.pushes = 0;
      return op;
    case 0x1b:
      return op;
    case 0x1c: {
      const n = r.u32();
      if (n !== 1) throw new DecodeError(`select with ${n} types at byte ${r.pos} (exactly one is allowed)`);
      const t = r.u8();
      if (!VALTYPES.has(t)) refusedType(t);
      imm.pushes = t === 0x7b ? 2 : 1;
      return op;
    }
    case 0x20:
    case 0x22:
    case 0x23:
      imm.index = r.u32();
      return op;
    case 0x21:
    case 0x24:
      imm.index = r.u32();
      imm.pushes = 0;
      return op;
    case 0x25:
    case 0x26:
      imm.index = r.u32();
      imm.traps = true;
      imm.pushes = op === 0x25 ? 1 : 0;
      return op;
    case 0x3f:
      memoryIndex(r, "memory.size");
      return op;
    case 0x40:
      memoryIndex(r, "memory.grow");
      imm.kind = Kind.MemoryGrow;
      return op;
    case 0x41:
      r.skipSigned(5);
      return op;
    case 0x42:
      r.skipSigned(10);
      return op;
    case 0x43:
      r.skip(4);
      return op;
    case 0x44:
      r.skip(8);
      return op;
    case 0xd0: {
      const t = r.bytes[r.pos];
      if (t === 0x70 || t === 0x6f) r.pos++;
      else if (t !== undefined && t >= 0x40 && t < 0x80) refusedType(t);
      else throw new AdmissionError("typed function references (ref.null of a type index) are not allowed");
      return op;
    }
    case 0xd1:
      return op;
    case 0xd2:
      imm.index = r.u32();
      return op;
    case 0xfc:
      return decodeFC(r, imm);
    case 0xfd:
      return decodeSimd(r, imm);
    case 0xfb:
      throw new AdmissionError("GC instructions are not allowed");
    case 0xfe:
      throw new AdmissionError("threads (atomic instructions) are not allowed");
  }
  if (EXCEPTIONS.has(op)) throw new AdmissionError("exception handling is not allowed");
  if (TYPED_REFS.has(op)) throw new AdmissionError("typed function references / GC instructions are not allowed");
  throw new DecodeError(`unknown opcode 0x${op.toString(16)} at byte ${r.pos - 1}`);
}

function decodeFC(r: ByteReader, imm: Immediates): number {
  const sub = r.u32();
  const op = 0xfc00 | (sub & 0xff);
  imm.op = op;
  if (sub <= 7) return op; // saturating float-to-int
  imm.traps = true;
  imm.pushes = 0;
  switch (sub) {
    case 8:
      imm.index = r.u32();
      memoryIndex(r, "memory.init");
      imm.kind = Kind.MemoryInit;
      return op;
    case 9:
      imm.index = r.u32();
      imm.traps = false;
      return op;
    case 10:
      memoryIndex(r, "memory.copy");
      memoryIndex(r, "memory.copy");
      imm.kind = Kind.MemoryCopy;
      return op;
    case 11:
      memoryIndex(r, "memory.fill");
      imm.kind = Kind.MemoryFill;
      return op;
    case 12:
      imm.index = r.u32();
      imm.index2 = r.u32();
      imm.kind = Kind.TableInit;
      return op;
    case 13:
      imm.index = r.u32();
      imm.traps = false;
      return op;
    case 14:
      imm.index = r.u32();
      imm.index2 = r.u32();
      imm.kind = Kind.TableCopy;
      return op;
    case 15:
      imm.index = r.u32();
      imm.traps = false;
      imm.kind = Kind.TableGrow;
      imm.pushes = 1;
      return op;
    case 16:
      imm.index = r.u32();
      imm.traps = false;
      imm.pushes = 1;
      return op;
    case 17:
      imm.index = r.u32();
      imm.kind = Kind.TableFill;
      return op;
  }
  throw new AdmissionError(`0xFC instruction ${sub} at byte ${r.pos} is not in the admitted feature set`);
}

// f32x4 / f64x2 operations whose result lanes can be NaNs with CPU-specific bits.
const SIMD_F32 = new Set([0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0x67, 0x68, 0x69, 0x6a, 0x5e]);
const SIMD_F64 = new Set([0xef, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0x74, 0x75, 0x7a, 0x94, 0x5f]);

function decodeSimd(r: ByteReader, imm: Immediates): number {
  const sub = r.u32();
  if (sub > 0xff) throw new AdmissionError("relaxed SIMD is not allowed");
  const op = 0xfd00 | sub;
  imm.op = op;
  if (sub <= 11) {
    memarg(r);
    imm.traps = true;
    imm.pushes = sub === 11 ? 0 : 1;
  } else if (sub === 12 || sub === 13) {
    r.skip(16);
  } else if (sub >= 21 && sub <= 34) {
    r.skip(1);
  } else if (sub >= 84 && sub <= 91) {
    memarg(r);
    r.skip(1);
    imm.traps = true;
    imm.pushes = sub <= 87 ? 1 : 0;
  } else if (sub === 92 || sub === 93) {
    memarg(r);
    imm.traps = true;
  } else if (SIMD_F32.has(sub)) imm.simdFloat = 4;
  else if (SIMD_F64.has(sub)) imm.simdFloat = 2;
  // v128 values take two 8-byte stack slots.
  imm.pushes *= 2;
  return op;
}
