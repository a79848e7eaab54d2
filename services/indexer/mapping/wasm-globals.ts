/**
 * Exports every mutable global of a compiled mapping under `__troupe_global_<index>`, so the host
 * can snapshot a started instance and restore it before each trigger. graph-node gives every
 * trigger a fresh instance; creating one costs ~0.3 ms in V8 (most of it reserving the memory),
 * while restoring the memory and globals of one started instance costs ~1 µs and leaves the
 * handler exactly the state a fresh instance would have.
 */

function readU32(bytes: Uint8Array, at: number): { value: number; next: number } {
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

function u32(value: number): number[] {
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

/** Skips one init expression (constant expressions end with 0x0b). */
function skipInitExpr(bytes: Uint8Array, at: number): number {
  let i = at;
  while (bytes[i] !== 0x0b) {
    const op = bytes[i++]!;
    if (op === 0x41 || op === 0x42 || op === 0x23 || op === 0xd2) {
      // i32.const / i64.const / global.get / ref.func: one LEB immediate
      while (bytes[i++]! & 0x80);
    } else if (op === 0x43) i += 4;
    else if (op === 0x44) i += 8;
    else if (op === 0xd0) i += 1; // ref.null t
    else if (op === 0x6a || op === 0x6b || op === 0x6c || op === 0x7c || op === 0x7d || op === 0x7e) {
      // extended constant expressions
    } else throw new Error(`unsupported opcode 0x${op.toString(16)} in a global initialiser`);
  }
  return i + 1;
}

export const GLOBAL_EXPORT_PREFIX = "__troupe_global_";

/** The module with its mutable globals exported (the module is otherwise unchanged). */
export function exportMutableGlobals(wasm: Uint8Array): Uint8Array {
  if (wasm[0] !== 0 || wasm[1] !== 0x61 || wasm[2] !== 0x73 || wasm[3] !== 0x6d) throw new Error("not a wasm module");
  const sections: { id: number; start: number; end: number; bodyStart: number }[] = [];
  let i = 8;
  while (i < wasm.length) {
    const id = wasm[i]!;
    const { value: size, next } = readU32(wasm, i + 1);
    sections.push({ id, start: i, bodyStart: next, end: next + size });
    i = next + size;
  }
  let importedGlobals = 0;
  const imports = sections.find((s) => s.id === 2);
  if (imports) {
    let p = imports.bodyStart;
    const count = readU32(wasm, p);
    p = count.next;
    for (let k = 0; k < count.value; k++) {
      for (let n = 0; n < 2; n++) {
        const len = readU32(wasm, p);
        p = len.next + len.value;
      }
      const kind = wasm[p++]!;
      if (kind === 0x00) p = readU32(wasm, p).next;
      else if (kind === 0x01) {
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
        importedGlobals++;
      } else throw new Error(`unknown import kind ${kind}`);
    }
  }
  const mutable: number[] = [];
  const globals = sections.find((s) => s.id === 6);
  if (globals) {
    let p = globals.bodyStart;
    const count = readU32(wasm, p);
    p = count.next;
    for (let k = 0; k < count.value; k++) {
      p++; // value type
      const mut = wasm[p++]!;
      p = skipInitExpr(wasm, p);
      if (mut === 1) mutable.push(importedGlobals + k);
    }
  }
  if (mutable.length === 0) return wasm;
  const encoder = new TextEncoder();
  const extra: number[] = [];
  for (const index of mutable) {
    const name = encoder.encode(`${GLOBAL_EXPORT_PREFIX}${index}`);
    extra.push(...u32(name.length), ...name, 0x03, ...u32(index));
  }
  const exportsSection = sections.find((s) => s.id === 7);
  let body: number[];
  if (exportsSection) {
    const count = readU32(wasm, exportsSection.bodyStart);
    body = [...u32(count.value + mutable.length), ...wasm.subarray(count.next, exportsSection.end), ...extra];
  } else {
    body = [...u32(mutable.length), ...extra];
  }
  const section = [7, ...u32(body.length), ...body];
  // The export section goes where it was, or after the last section with a lower id.
  const at = exportsSection ?? sections.filter((s) => s.id !== 0 && s.id < 7).at(-1);
  const cutStart = exportsSection ? exportsSection.start : at ? at.end : 8;
  const cutEnd = exportsSection ? exportsSection.end : cutStart;
  const out = new Uint8Array(wasm.length - (cutEnd - cutStart) + section.length);
  out.set(wasm.subarray(0, cutStart), 0);
  out.set(section, cutStart);
  out.set(wasm.subarray(cutEnd), cutStart + section.length);
  return out;
}
