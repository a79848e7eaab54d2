// Builds small core modules byte by byte for runtime tests (fuel counts, admission reasons).
import { SECTION_ORDER } from "../../runtime/wasm/module.js";
import { ByteReader } from "../../runtime/wasm/reader.js";
import { ByteWriter } from "../../runtime/wasm/writer.js";

export const T = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const;

export interface FuncDef {
  params?: number[];
  results?: number[];
  locals?: number[];
  /** Instruction bytes without the final `end`. */
  code: number[];
  export?: string;
}
export interface ImportDef {
  module: string;
  name: string;
  params?: number[];
  results?: number[];
}
export interface ModuleDef {
  imports?: ImportDef[];
  funcs: FuncDef[];
  memory?: { min: number; max?: number; shared?: boolean };
  start?: number;
  /** Raw sections (id, body), placed in the binary format's section order (custom sections last). */
  extra?: [number, number[]][];
  /** Data segments written at an offset of memory 0. */
  data?: { offset: number; bytes: number[] }[];
}

function section(out: ByteWriter, id: number, body: ByteWriter): void {
  const b = body.finish();
  out.u8(id).u32(b.length).bytes(b);
}

export function buildModule(def: ModuleDef): Uint8Array {
  const imports = def.imports ?? [];
  const sigs: string[] = [];
  const typeOf = (params: number[] = [], results: number[] = []): number => {
    const key = JSON.stringify([params, results]);
    let i = sigs.indexOf(key);
    if (i < 0) i = sigs.push(key) - 1;
    return i;
  };
  const importTypes = imports.map((i) => typeOf(i.params, i.results));
  const funcTypes = def.funcs.map((f) => typeOf(f.params, f.results));
  const out = new ByteWriter().bytes(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  section(
    out,
    1,
    new ByteWriter().vec(sigs, (w, s) => {
      const [p, r] = JSON.parse(s) as [number[], number[]];
      w.u8(0x60).vec(p, (x, v) => x.u8(v)).vec(r, (x, v) => x.u8(v));
    }),
  );
  if (imports.length) section(out, 2, new ByteWriter().vec(imports, (w, imp) => w.name(imp.module).name(imp.name).u8(0).u32(importTypes[imports.indexOf(imp)]!)));
  section(out, 3, new ByteWriter().vec(funcTypes, (w, t) => w.u32(t)));
  if (def.memory) {
    const m = def.memory;
    const flags = (m.max !== undefined ? 1 : 0) | (m.shared ? 2 : 0);
    const w = new ByteWriter().u32(1).u8(flags).u32(m.min);
    if (m.max !== undefined) w.u32(m.max);
    section(out, 5, w);
  }
  const exports: [string, number, number][] = [];
  def.funcs.forEach((f, i) => f.export && exports.push([f.export, 0, imports.length + i]));
  if (def.memory) exports.push(["memory", 2, 0]);
  section(out, 7, new ByteWriter().vec(exports, (w, [n, k, i]) => w.name(n).u8(k).u32(i)));
  if (def.start !== undefined) section(out, 8, new ByteWriter().u32(def.start));
  section(
    out,
    10,
    new ByteWriter().vec(def.funcs, (w, f) => {
      const body = new ByteWriter().vec(f.locals ?? [], (x, t) => x.u32(1).u8(t)).bytes(new Uint8Array(f.code)).u8(0x0b).finish();
      w.u32(body.length).bytes(body);
    }),
  );
  if (def.data?.length)
    section(
      out,
      11,
      new ByteWriter().vec(def.data, (w, d) => w.u8(0).u8(0x41).s32(d.offset).u8(0x0b).u32(d.bytes.length).bytes(new Uint8Array(d.bytes))),
    );
  const extra = def.extra ?? [];
  const body = out.finish();
  if (extra.length === 0) return body;
  // Re-split the sections written above and merge the extra ones in the binary format's order.
  const sections: [number, Uint8Array][] = [];
  const r = new ByteReader(body, 8);
  while (!r.done) {
    const id = r.u8();
    sections.push([id, r.take(r.u32())]);
  }
  for (const [id, b] of extra) sections.push([id, new Uint8Array(b)]);
  const rank = (id: number): number => (id === 0 ? 99 : SECTION_ORDER.indexOf(id));
  sections.sort((a, b) => rank(a[0]) - rank(b[0]));
  const merged = new ByteWriter().bytes(body.subarray(0, 8));
  for (const [id, b] of sections) merged.u8(id).u32(b.length).bytes(b);
  return merged.finish();
}

/** A module whose `_start` runs `code` (no params, no results), with one page of memory. */
export function startModule(code: number[], extra: Partial<ModuleDef> & { locals?: number[] } = {}): Uint8Array {
  return buildModule({
    memory: { min: 1 },
    ...extra,
    funcs: [{ code, export: "_start", locals: extra.locals }, ...(extra.funcs ?? [])],
  });
}

/** `i32.const n` as bytes. */
export function i32const(n: number): number[] {
  return [0x41, ...new ByteWriter().s32(n).finish()];
}
