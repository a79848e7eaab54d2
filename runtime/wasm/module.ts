import { AdmissionError } from "./errors.js";
import { decodeInstr, Kind, type Immediates } from "./opcodes.js";
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

export interface FuncType {
  params: number[];
  results: number[];
}
export interface Import {
  module: string;
  name: string;
  kind: number;
  typeIndex: number;
}
export interface Export {
  name: string;
  kind: number;
  index: number;
}
export interface MemoryType {
  min: number;
  max?: number;
}
export interface Section {
  id: number;
  /** The section's content (without id and size). */
  body: Uint8Array;
}
export interface FunctionBody {
  /** Number of locals declared in the body (params excluded). */
  localCount: number;
  /** The whole body as in the module (local declarations + code, without the size prefix). */
  body: Uint8Array;
  /** Where the instructions start inside `body`. */
  codeStart: number;
}

/** A decoded core module: the sections the instrumenter rewrites are parsed, the rest kept as bytes. */
export interface WasmModule {
  sections: Section[];
  types: FuncType[];
  imports: Import[];
  importedFunctions: number;
  functionTypes: number[];
  memories: MemoryType[];
  globalCount: number;
  exports: Export[];
  start?: number;
  code: FunctionBody[];
}

const MAGIC = [0x00, 0x61, 0x73, 0x6d];
const VALTYPES = new Set([0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f]);

function valtype(r: ByteReader): number {
  const t = r.u8();
  if (VALTYPES.has(t)) return t;
  if (t === 0x64 || t === 0x63 || (t >= 0x65 && t <= 0x6e) || t === 0x69)
    throw new AdmissionError("typed function references / GC types are not allowed");
  throw new DecodeError(`unknown value type 0x${t.toString(16)} at byte ${r.pos - 1}`);
}

function limits(r: ByteReader, what: string): MemoryType {
  const flags = r.u8();
  if (flags === 0x02 || flags === 0x03) throw new AdmissionError(`threads: shared ${what} is not allowed`);
  if (flags > 0x01) throw new AdmissionError(`${what} with limit flags 0x${flags.toString(16)} (memory64 or custom pages) is not allowed`);
  const min = r.u32();
  return flags === 0x01 ? { min, max: r.u32() } : { min };
}

/** Skips a constant expression (global initialisers) up to its `end`. */
function constExpr(r: ByteReader): void {
  const imm: Immediates = { kind: Kind.Plain, traps: false, cost: 0, index: 0, blockType: 0, pushes: 0 };
  for (let i = 0; i < 64; i++) {
    decodeInstr(r, imm);
    if (imm.kind === Kind.End) return;
  }
  throw new DecodeError(`constant expression too long at byte ${r.pos}`);
}

function parseTypes(r: ByteReader): FuncType[] {
  const n = r.u32();
  const types: FuncType[] = [];
  for (let i = 0; i < n; i++) {
    const form = r.u8();
    if (form !== 0x60) {
      if ([0x4e, 0x50, 0x4f, 0x5f, 0x5e].includes(form)) throw new AdmissionError("GC types (rec/sub/struct/array) are not allowed");
      throw new DecodeError(`unknown type form 0x${form.toString(16)}`);
    }
    const params = Array.from({ length: r.u32() }, () => valtype(r));
    const results = Array.from({ length: r.u32() }, () => valtype(r));
    types.push({ params, results });
  }
  return types;
}

/**
 * Decodes a core module's structure. Throws DecodeError for malformed bytes and AdmissionError for
 * features the host does not accept. Instruction-level checks happen when the code is instrumented.
 */
export function parseModule(bytes: Uint8Array): WasmModule {
  if (bytes.length < 8) throw new DecodeError("too short to be a WebAssembly module");
  for (let i = 0; i < 4; i++) if (bytes[i] !== MAGIC[i]) throw new DecodeError("missing the \\0asm magic number");
  if (bytes[4] === 0x0d && bytes[6] === 0x01) throw new AdmissionError("components are not allowed: submit a core module");
  if (bytes[4] !== 1 || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) throw new DecodeError("unsupported binary version");

  const m: WasmModule = {
    sections: [],
    types: [],
    imports: [],
    importedFunctions: 0,
    functionTypes: [],
    memories: [],
    globalCount: 0,
    exports: [],
    code: [],
  };
  const r = new ByteReader(bytes, 8);
  while (!r.done) {
    const id = r.u8();
    const size = r.u32();
    const body = r.take(size);
    m.sections.push({ id, body });
    const s = new ByteReader(body);
    switch (id) {
      case SectionId.Custom:
        continue;
      case SectionId.Type:
        m.types = parseTypes(s);
        break;
      case SectionId.Import: {
        const n = s.u32();
        for (let i = 0; i < n; i++) {
          const module = s.name();
          const name = s.name();
          const kind = s.u8();
          let typeIndex = -1;
          if (kind === 0) {
            typeIndex = s.u32();
            m.importedFunctions++;
          } else if (kind === 1) {
            valtype(s);
            limits(s, "table");
          } else if (kind === 2) {
            m.memories.push(limits(s, "memory"));
          } else if (kind === 3) {
            valtype(s);
            s.u8();
            m.globalCount++;
          } else if (kind === 4) {
            throw new AdmissionError("exception handling (tag imports) is not allowed");
          } else throw new DecodeError(`unknown import kind ${kind}`);
          m.imports.push({ module, name, kind, typeIndex });
        }
        break;
      }
      case SectionId.Function: {
        const n = s.u32();
        for (let i = 0; i < n; i++) m.functionTypes.push(s.u32());
        break;
      }
      case SectionId.Table: {
        const n = s.u32();
        for (let i = 0; i < n; i++) {
          if (s.bytes[s.pos] === 0x40) throw new AdmissionError("tables with initialisers (typed references) are not allowed");
          valtype(s);
          limits(s, "table");
        }
        break;
      }
      case SectionId.Memory: {
        const n = s.u32();
        for (let i = 0; i < n; i++) m.memories.push(limits(s, "memory"));
        break;
      }
      case SectionId.Global: {
        const n = s.u32();
        for (let i = 0; i < n; i++) {
          valtype(s);
          s.u8();
          constExpr(s);
          m.globalCount++;
        }
        break;
      }
      case SectionId.Export: {
        const n = s.u32();
        for (let i = 0; i < n; i++) m.exports.push({ name: s.name(), kind: s.u8(), index: s.u32() });
        break;
      }
      case SectionId.Start:
        m.start = s.u32();
        break;
      case SectionId.Code: {
        const n = s.u32();
        for (let i = 0; i < n; i++) {
          const fsize = s.u32();
          const fbody = s.take(fsize);
          const f = new ByteReader(fbody);
          let localCount = 0;
          const groups = f.u32();
          for (let g = 0; g < groups; g++) {
            localCount += f.u32();
            valtype(f);
            if (localCount > 50_000) throw new AdmissionError(`function ${i} declares more than 50000 locals`);
          }
          m.code.push({ localCount, body: fbody, codeStart: f.pos });
        }
        break;
      }
      case SectionId.Element:
      case SectionId.Data:
      case SectionId.DataCount:
        continue;
      case SectionId.Tag:
        throw new AdmissionError("exception handling (tag section) is not allowed");
      default:
        throw new DecodeError(`unknown section id ${id}`);
    }
    if (!s.done) throw new DecodeError(`section ${id} has ${s.end - s.pos} trailing bytes`);
  }
  if (m.functionTypes.length !== m.code.length) throw new DecodeError("function and code section counts differ");
  return m;
}
