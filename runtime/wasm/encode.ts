import { SECTION_ORDER, SectionId, type ElementSegment, type FuncType, type Limits, type TableType, type WasmModule } from "./module.js";
import { ByteWriter, u32Size } from "./writer.js";

/** Where the code section's bodies landed in the encoded module (byte offsets of each body's first byte). */
export interface EncodedModule {
  bytes: Uint8Array;
  /** Absolute offset of each function body's content (after its size prefix), in code-section order. */
  bodyOffsets: number[];
}

function limits(w: ByteWriter, l: Limits): void {
  if (l.max === undefined) w.u8(0).u32(l.min);
  else w.u8(1).u32(l.min).u32(l.max);
}

function tableType(w: ByteWriter, t: TableType): void {
  w.u8(t.refType);
  limits(w, t.limits);
}

export function writeFuncType(w: ByteWriter, t: FuncType): void {
  w.u8(0x60).vec(t.params, (x, v) => x.u8(v)).vec(t.results, (x, v) => x.u8(v));
}

function element(w: ByteWriter, e: ElementSegment): void {
  // Flags follow the segment's content: expressions or function indices, its mode, and an explicit table.
  const exprs = e.exprs !== undefined;
  let flags: number;
  if (e.mode === "active") flags = e.table !== 0 || (e.flags & 2) !== 0 ? 2 : 0;
  else flags = e.mode === "passive" ? 1 : 3;
  if (exprs) flags |= 4;
  // Flags 0 and 4 imply funcref; any other element type needs the explicit-table form.
  if (e.mode === "active" && (flags & 2) === 0 && exprs && e.refType !== 0x70) flags |= 2;
  w.u32(flags);
  if (e.mode === "active") {
    if (flags & 2) w.u32(e.table);
    w.bytes(e.offset!);
  }
  if (flags & 3) {
    if (exprs) w.u8(e.refType);
    else w.u8(0x00);
  }
  if (exprs) w.vec(e.exprs!, (x, b) => x.bytes(b));
  else w.vec(e.funcs ?? [], (x, f) => x.u32(f));
}

/** The content of one non-custom section, or undefined when the module has nothing for it. */
function sectionBody(m: WasmModule, id: number): Uint8Array | undefined {
  const w = new ByteWriter();
  switch (id) {
    case SectionId.Type:
      if (m.types.length === 0 && !m.present.includes(id)) return undefined;
      w.vec(m.types, writeFuncType);
      break;
    case SectionId.Import:
      if (m.imports.length === 0 && !m.present.includes(id)) return undefined;
      w.vec(m.imports, (x, i) => {
        x.name(i.module).name(i.name).u8(i.kind);
        if (i.kind === 0) x.u32(i.typeIndex);
        else if (i.kind === 1) tableType(x, i.table!);
        else if (i.kind === 2) limits(x, i.memory!);
        else x.u8(i.global!.valType).u8(i.global!.mutable ? 1 : 0);
      });
      break;
    case SectionId.Function:
      if (m.functionTypes.length === 0 && !m.present.includes(id)) return undefined;
      w.vec(m.functionTypes, (x, t) => x.u32(t));
      break;
    case SectionId.Table: {
      const defined = m.tables.slice(m.imports.filter((i) => i.kind === 1).length);
      if (defined.length === 0 && !m.present.includes(id)) return undefined;
      w.vec(defined, tableType);
      break;
    }
    case SectionId.Memory: {
      const defined = m.memories.slice(m.imports.filter((i) => i.kind === 2).length);
      if (defined.length === 0 && !m.present.includes(id)) return undefined;
      w.vec(defined, limits);
      break;
    }
    case SectionId.Global:
      if (m.globals.length === 0 && !m.present.includes(id)) return undefined;
      w.vec(m.globals, (x, g) => x.u8(g.type.valType).u8(g.type.mutable ? 1 : 0).bytes(g.init));
      break;
    case SectionId.Export:
      if (m.exports.length === 0 && !m.present.includes(id)) return undefined;
      w.vec(m.exports, (x, e) => x.name(e.name).u8(e.kind).u32(e.index));
      break;
    case SectionId.Start:
      if (m.start === undefined) return undefined;
      w.u32(m.start);
      break;
    case SectionId.Element:
      if (m.elements.length === 0 && !m.present.includes(id)) return undefined;
      w.vec(m.elements, element);
      break;
    case SectionId.DataCount:
      if (m.dataCount === undefined) return undefined;
      w.u32(m.data.length);
      break;
    case SectionId.Code:
      // Written straight into the module by encodeModule (the bodies are most of its bytes).
      return undefined;
    case SectionId.Data:
      if (m.data.length === 0 && !m.present.includes(id)) return undefined;
      w.vec(m.data, (x, d) => {
        if (d.mode === "passive") x.u8(1);
        else if (d.explicitMemory) x.u8(2).u32(0).bytes(d.offset!);
        else x.u8(0).bytes(d.offset!);
        x.u32(d.bytes.length).bytes(d.bytes);
      });
      break;
    default:
      return undefined;
  }
  return w.finish();
}

/**
 * Encodes a module: sections in the order the binary format requires, every LEB128 in its shortest
 * form, custom sections back after the section they followed. Function bodies are written as they are
 * (their instructions are already in binary form).
 */
export function encodeModule(m: WasmModule): EncodedModule {
  // Written into a scratch buffer reused between modules; the result is one exact-size copy of it.
  const out = scratch.clear();
  out.reserve(m.code.reduce((a, f) => a + f.body.length + 5, 4096) + m.data.reduce((a, d) => a + d.bytes.length + 16, 0));
  out.bytes(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
  const bodyOffsets: number[] = [];
  const customs = (after: number): void => {
    for (const c of m.customs) {
      if (c.after !== after) continue;
      const body = new ByteWriter().name(c.name).bytes(c.payload).finish();
      out.u8(0).u32(body.length).bytes(body);
    }
  };
  customs(0);
  for (const id of SECTION_ORDER) {
    if (id === SectionId.Code) {
      if (m.code.length > 0 || m.present.includes(id)) {
        // The section's size is known before its bodies are written, so they are copied once, in place.
        let size = u32Size(m.code.length);
        for (const f of m.code) size += u32Size(f.body.length) + f.body.length;
        out.u8(id).u32(size).u32(m.code.length);
        for (const f of m.code) {
          out.u32(f.body.length);
          bodyOffsets.push(out.length);
          out.bytes(f.body);
        }
      }
    } else {
      const body = sectionBody(m, id);
      if (body) out.u8(id).u32(body.length).bytes(body);
    }
    // A custom section anchored to a section that is now absent still comes out, in the same relative place.
    customs(id);
  }
  const bytes = out.finish();
  if (out.capacity > SCRATCH_KEEP_BYTES) scratch = new ByteWriter(SCRATCH_KEEP_BYTES);
  return { bytes, bodyOffsets };
}

const SCRATCH_KEEP_BYTES = 8 * 1024 * 1024;
let scratch = new ByteWriter(1 << 16);
