import { AdmissionError } from "./errors.js";
import { decodeInstr, Kind, newImmediates, readRefType, readValType } from "./opcodes.js";
import { ByteReader, DecodeError } from "./reader.js";

export const SectionId = {
  Custom: 0,
  Type: 1,
  Import: 2,
  Function: 3,
  Table: 4,
  Memory: 5,
  Global: 6,
  Export: 7,
  Start: 8,
  Element: 9,
  Code: 10,
  Data: 11,
  DataCount: 12,
  Tag: 13,
} as const;

/** The order the binary format requires for non-custom sections. */
export const SECTION_ORDER: readonly number[] = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];

export const ExternKind = { Func: 0, Table: 1, Memory: 2, Global: 3, Tag: 4 } as const;

export interface FuncType {
  params: number[];
  results: number[];
}
export interface Limits {
  min: number;
  max?: number;
}
/** Kept for the instrumenter's and the tests' older name. */
export type MemoryType = Limits;
export interface TableType {
  refType: number;
  limits: Limits;
}
export interface GlobalType {
  valType: number;
  mutable: boolean;
}
export interface Import {
  module: string;
  name: string;
  kind: number;
  /** Function imports: the type index; -1 otherwise. */
  typeIndex: number;
  table?: TableType;
  memory?: Limits;
  global?: GlobalType;
}
export interface Export {
  name: string;
  kind: number;
  index: number;
}
export interface Global {
  type: GlobalType;
  /** The constant initialiser expression, `end` included, as in the module. */
  init: Uint8Array;
}
export interface ElementSegment {
  /** The segment's flags (0-7): they fix its mode and whether it lists function indices or expressions. */
  flags: number;
  mode: "active" | "passive" | "declarative";
  table: number;
  /** Active segments: the offset expression, `end` included. */
  offset?: Uint8Array;
  refType: number;
  /** Flags 0-3: function indices. */
  funcs?: number[];
  /** Flags 4-7: constant expressions (`end` included). */
  exprs?: Uint8Array[];
}
export interface DataSegment {
  mode: "active" | "passive";
  /** Flags 2 name the memory explicitly (it must be 0). */
  explicitMemory: boolean;
  offset?: Uint8Array;
  bytes: Uint8Array;
}
export interface FunctionBody {
  /** Local declarations (count, type) as in the module. */
  localGroups: [number, number][];
  /** Number of locals declared in the body (params excluded). */
  localCount: number;
  /** The whole body as in the module (local declarations + code, without the size prefix). */
  body: Uint8Array;
  /** Where the instructions start inside `body`. */
  codeStart: number;
}
export interface CustomSection {
  name: string;
  /** The section's content after its name. */
  payload: Uint8Array;
  /** The id of the non-custom section it followed (0: before all of them), so it is written back in place. */
  after: number;
}
export interface Section {
  id: number;
  /** The section's content (without id and size). */
  body: Uint8Array;
}

/** A decoded core module: every section of the admitted feature set, parsed. */
export interface WasmModule {
  types: FuncType[];
  imports: Import[];
  importedFunctions: number;
  importedGlobals: number;
  /** Type index of each defined function. */
  functionTypes: number[];
  tables: TableType[];
  /** Imported and defined memories, in index order. */
  memories: Limits[];
  globals: Global[];
  /** Imported + defined globals. */
  globalCount: number;
  exports: Export[];
  start?: number;
  elements: ElementSegment[];
  dataCount?: number;
  code: FunctionBody[];
  data: DataSegment[];
  customs: CustomSection[];
  /** Non-custom section ids in the order they appeared. */
  present: number[];
  /** Raw sections in order (custom ones included). */
  sections: Section[];
}

const MAGIC = [0x00, 0x61, 0x73, 0x6d];
/** Upper bound on a vector's length from the bytes left: every item takes at least one byte. */
function count(r: ByteReader, what: string, minBytes = 1): number {
  const n = r.u32();
  if (n * minBytes > r.end - r.pos) throw new DecodeError(`${what} count ${n} at byte ${r.pos} runs past the end of its section`);
  return n;
}

function limits(r: ByteReader, what: "memory" | "table"): Limits {
  const flags = r.u8();
  if (flags === 0x02 || flags === 0x03) throw new AdmissionError(`threads: shared ${what} is not allowed`);
  if (flags & 0x04) throw new AdmissionError(`${what}64 is not allowed (limits flags 0x${flags.toString(16)})`);
  if (flags & 0x08) throw new AdmissionError(`custom page sizes are not allowed (limits flags 0x${flags.toString(16)})`);
  if (flags > 0x01) throw new DecodeError(`${what} limits with unknown flags 0x${flags.toString(16)}`);
  const min = r.u32();
  return flags === 0x01 ? { min, max: r.u32() } : { min };
}

function tableType(r: ByteReader): TableType {
  if (r.bytes[r.pos] === 0x40) throw new AdmissionError("tables with initialiser expressions (typed function references) are not allowed");
  const refType = readRefType(r);
  return { refType, limits: limits(r, "table") };
}

function globalType(r: ByteReader): GlobalType {
  const valType = readValType(r);
  const m = r.u8();
  if (m > 1) throw new DecodeError(`global mutability byte 0x${m.toString(16)} at byte ${r.pos - 1}`);
  return { valType, mutable: m === 1 };
}

/** Reads a constant expression up to and including its `end`; returns its bytes. */
function constExpr(r: ByteReader): Uint8Array {
  const start = r.pos;
  const imm = newImmediates();
  for (;;) {
    decodeInstr(r, imm);
    if (imm.kind === Kind.End) return r.bytes.subarray(start, r.pos);
    if (imm.kind !== Kind.Plain) throw new DecodeError(`instruction 0x${imm.op.toString(16)} is not allowed in a constant expression`);
  }
}

function parseTypes(r: ByteReader): FuncType[] {
  const n = count(r, "type", 3);
  const types: FuncType[] = [];
  for (let i = 0; i < n; i++) {
    const form = r.u8();
    if (form !== 0x60) {
      if ([0x4e, 0x4d, 0x50, 0x4f, 0x5f, 0x5e, 0x5d].includes(form)) throw new AdmissionError("GC types (rec/sub/struct/array) are not allowed");
      throw new DecodeError(`unknown type form 0x${form.toString(16)}`);
    }
    const params = Array.from({ length: count(r, "parameter") }, () => readValType(r));
    const results = Array.from({ length: count(r, "result") }, () => readValType(r));
    types.push({ params, results });
  }
  return types;
}

function parseElement(r: ByteReader): ElementSegment {
  const flags = r.u32();
  if (flags > 7) throw new DecodeError(`element segment flags ${flags} (0-7 exist)`);
  const passiveOrDeclarative = (flags & 1) !== 0;
  const explicitTable = (flags & 2) !== 0;
  const usesExprs = (flags & 4) !== 0;
  const mode = !passiveOrDeclarative ? "active" : explicitTable ? "declarative" : "passive";
  const seg: ElementSegment = { flags, mode, table: 0, refType: 0x70 };
  if (mode === "active") {
    if (explicitTable) seg.table = r.u32();
    seg.offset = constExpr(r);
  }
  if (passiveOrDeclarative || explicitTable) {
    if (usesExprs) seg.refType = readRefType(r);
    else if (r.u8() !== 0x00) throw new DecodeError("element segment kind must be 0x00 (funcref)");
  }
  const n = count(r, "element");
  if (usesExprs) seg.exprs = Array.from({ length: n }, () => constExpr(r));
  else seg.funcs = Array.from({ length: n }, () => r.u32());
  return seg;
}

function parseData(r: ByteReader): DataSegment {
  const flags = r.u32();
  if (flags > 2) throw new DecodeError(`data segment flags ${flags} (0-2 exist)`);
  if (flags === 1) return { mode: "passive", explicitMemory: false, bytes: r.take(r.u32()) };
  let explicitMemory = false;
  if (flags === 2) {
    if (r.u32() !== 0) throw new AdmissionError("data segment for a memory other than 0: multiple memories are not allowed");
    explicitMemory = true;
  }
  const offset = constExpr(r);
  return { mode: "active", explicitMemory, offset, bytes: r.take(r.u32()) };
}

function parseImport(r: ByteReader, m: WasmModule): Import {
  const module = r.name();
  const name = r.name();
  const kind = r.u8();
  const imp: Import = { module, name, kind, typeIndex: -1 };
  switch (kind) {
    case ExternKind.Func:
      imp.typeIndex = r.u32();
      m.importedFunctions++;
      break;
    case ExternKind.Table:
      imp.table = tableType(r);
      m.tables.push(imp.table);
      break;
    case ExternKind.Memory:
      imp.memory = limits(r, "memory");
      m.memories.push(imp.memory);
      break;
    case ExternKind.Global:
      imp.global = globalType(r);
      m.importedGlobals++;
      m.globalCount++;
      break;
    case ExternKind.Tag:
      throw new AdmissionError("exception handling (tag imports) is not allowed");
    default:
      throw new DecodeError(`unknown import kind ${kind}`);
  }
  return imp;
}

function parseBody(fbody: Uint8Array, index: number): FunctionBody {
  const f = new ByteReader(fbody);
  let localCount = 0;
  const localGroups: [number, number][] = [];
  const groups = count(f, `local declaration group of function ${index}`, 2);
  for (let g = 0; g < groups; g++) {
    const n = f.u32();
    localCount += n;
    // V8's own limit; finer admission limits come later, this only stops absurd counts early.
    if (localCount > 50_000) throw new AdmissionError(`function ${index} declares ${localCount}+ locals, over V8's limit of 50000`);
    localGroups.push([n, readValType(f)]);
  }
  return { localGroups, localCount, body: fbody, codeStart: f.pos };
}

/**
 * Decodes a core module, every section of the admitted feature set. Throws DecodeError for malformed
 * bytes and AdmissionError for features the host does not accept. Function bodies are split into
 * locals and instruction bytes; instructions are decoded when the code is instrumented.
 */
export function parseModule(bytes: Uint8Array): WasmModule {
  if (bytes.length < 8) throw new DecodeError("too short to be a WebAssembly module");
  for (let i = 0; i < 4; i++) if (bytes[i] !== MAGIC[i]) throw new DecodeError("missing the \\0asm magic number");
  if (bytes[4] === 0x0d && bytes[6] === 0x01) throw new AdmissionError("components are not allowed: submit a core module");
  if (bytes[4] !== 1 || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) throw new DecodeError("unsupported binary version");

  const m: WasmModule = {
    types: [],
    imports: [],
    importedFunctions: 0,
    importedGlobals: 0,
    functionTypes: [],
    tables: [],
    memories: [],
    globals: [],
    globalCount: 0,
    exports: [],
    elements: [],
    code: [],
    data: [],
    customs: [],
    present: [],
    sections: [],
  };
  const r = new ByteReader(bytes, 8);
  let last = 0;
  let lastOrder = -1;
  while (!r.done) {
    const id = r.u8();
    const size = r.u32();
    const body = r.take(size);
    m.sections.push({ id, body });
    const s = new ByteReader(body);
    if (id === SectionId.Custom) {
      const name = s.name();
      m.customs.push({ name, payload: body.subarray(s.pos), after: last });
      continue;
    }
    if (id === SectionId.Tag) throw new AdmissionError("exception handling (tag section) is not allowed");
    const order = SECTION_ORDER.indexOf(id);
    if (order < 0) throw new DecodeError(`unknown section id ${id}`);
    if (order <= lastOrder) throw new DecodeError(`section ${id} is out of order or repeated`);
    lastOrder = order;
    last = id;
    m.present.push(id);
    switch (id) {
      case SectionId.Type:
        m.types = parseTypes(s);
        break;
      case SectionId.Import:
        for (let i = 0, n = count(s, "import", 4); i < n; i++) m.imports.push(parseImport(s, m));
        break;
      case SectionId.Function:
        for (let i = 0, n = count(s, "function"); i < n; i++) m.functionTypes.push(s.u32());
        break;
      case SectionId.Table:
        for (let i = 0, n = count(s, "table", 3); i < n; i++) m.tables.push(tableType(s));
        break;
      case SectionId.Memory:
        for (let i = 0, n = count(s, "memory", 2); i < n; i++) m.memories.push(limits(s, "memory"));
        break;
      case SectionId.Global:
        for (let i = 0, n = count(s, "global", 3); i < n; i++) {
          m.globals.push({ type: globalType(s), init: constExpr(s) });
          m.globalCount++;
        }
        break;
      case SectionId.Export: {
        const seen = new Set<string>();
        for (let i = 0, n = count(s, "export", 3); i < n; i++) {
          const e = { name: s.name(), kind: s.u8(), index: s.u32() };
          if (e.kind > 3) throw new DecodeError(`export ${e.name} has unknown kind ${e.kind}`);
          if (seen.has(e.name)) throw new DecodeError(`duplicate export name ${e.name}`);
          seen.add(e.name);
          m.exports.push(e);
        }
        break;
      }
      case SectionId.Start:
        m.start = s.u32();
        break;
      case SectionId.Element:
        for (let i = 0, n = count(s, "element segment", 2); i < n; i++) m.elements.push(parseElement(s));
        break;
      case SectionId.DataCount:
        m.dataCount = s.u32();
        break;
      case SectionId.Code:
        for (let i = 0, n = count(s, "function body", 2); i < n; i++) m.code.push(parseBody(s.take(s.u32()), i));
        break;
      case SectionId.Data:
        for (let i = 0, n = count(s, "data segment", 2); i < n; i++) m.data.push(parseData(s));
        break;
    }
    if (!s.done) throw new DecodeError(`section ${id} has ${s.end - s.pos} trailing bytes`);
  }
  if (m.functionTypes.length !== m.code.length) throw new DecodeError("function and code section counts differ");
  if (m.dataCount !== undefined && m.dataCount !== m.data.length) throw new DecodeError("data count and data section disagree");
  return m;
}
