/** The few pieces of the WebAssembly binary format the host reads and rewrites in a mapping's module. */

export function readU32(bytes: Uint8Array, at: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  let i = at;
  for (;;) {
    const b = bytes[i++];
    if (b === undefined) throw new Error("truncated LEB128 in the mapping's wasm");
    value |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
  }
  return { value: value >>> 0, next: i };
}

/** Skips one LEB128 number of any width. */
export function skipLeb(bytes: Uint8Array, at: number): number {
  let i = at;
  while (bytes[i++]! & 0x80);
  return i;
}

export function u32(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

export function s32(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** Skips one init expression (constant expressions end with 0x0b). */
export function skipInitExpr(bytes: Uint8Array, at: number): number {
  let i = at;
  while (bytes[i] !== 0x0b) {
    const op = bytes[i++]!;
    if (op === 0x41 || op === 0x42 || op === 0x23 || op === 0xd2) {
      // i32.const / i64.const / global.get / ref.func: one LEB immediate
      i = skipLeb(bytes, i);
    } else if (op === 0x43) i += 4;
    else if (op === 0x44) i += 8;
    else if (op === 0xd0) i += 1; // ref.null t
    else if (op === 0x6a || op === 0x6b || op === 0x6c || op === 0x7c || op === 0x7d || op === 0x7e) {
      // extended constant expressions
    } else throw new Error(`unsupported opcode 0x${op.toString(16)} in a global initialiser`);
  }
  return i + 1;
}

export interface Section {
  id: number;
  /** The section's id byte. */
  start: number;
  /** Its content, after the size. */
  bodyStart: number;
  end: number;
}

export function readSections(wasm: Uint8Array): Section[] {
  if (wasm[0] !== 0 || wasm[1] !== 0x61 || wasm[2] !== 0x73 || wasm[3] !== 0x6d) throw new Error("not a wasm module");
  const sections: Section[] = [];
  let i = 8;
  while (i < wasm.length) {
    const id = wasm[i]!;
    const { value: size, next } = readU32(wasm, i + 1);
    sections.push({ id, start: i, bodyStart: next, end: next + size });
    i = next + size;
  }
  return sections;
}

/** How many functions and globals the module imports (they come first in their index spaces). */
export function countImports(wasm: Uint8Array, sections: Section[]): { functions: number; globals: number } {
  const counts = { functions: 0, globals: 0 };
  const imports = sections.find((s) => s.id === 2);
  if (!imports) return counts;
  let p = imports.bodyStart;
  const count = readU32(wasm, p);
  p = count.next;
  for (let k = 0; k < count.value; k++) {
    for (let n = 0; n < 2; n++) {
      const len = readU32(wasm, p);
      p = len.next + len.value;
    }
    const kind = wasm[p++]!;
    if (kind === 0x00) {
      p = readU32(wasm, p).next;
      counts.functions++;
    } else if (kind === 0x01) {
      p++; // reftype
      const flags = wasm[p++]!;
      p = readU32(wasm, p).next;
      if (flags & 1) p = readU32(wasm, p).next;
    } else if (kind === 0x02) {
      const flags = wasm[p++]!;
      p = readU32(wasm, p).next;
      if (flags & 1) p = readU32(wasm, p).next;
    } else if (kind === 0x03) {
      p += 2;
      counts.globals++;
    } else throw new Error(`unknown import kind ${kind}`);
  }
  return counts;
}

/** The order known sections must appear in (custom sections, id 0, may go anywhere). */
const ORDER = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];

/** The module with the sections `replaced` (by id) given new contents; a missing one is inserted in its place. */
export function replaceSections(wasm: Uint8Array, sections: Section[], replaced: Map<number, number[]>): Uint8Array {
  const parts: (Uint8Array | number[])[] = [wasm.subarray(0, 8)];
  const pending = new Map(replaced);
  const emit = (id: number) => {
    const body = pending.get(id)!;
    parts.push([id, ...u32(body.length)], body);
    pending.delete(id);
  };
  for (const s of sections) {
    if (s.id !== 0) {
      for (const id of [...pending.keys()]) if (ORDER.indexOf(id) < ORDER.indexOf(s.id)) emit(id);
    }
    if (pending.has(s.id)) emit(s.id);
    else parts.push(wasm.subarray(s.start, s.end));
  }
  for (const id of [...pending.keys()].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b))) emit(id);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
