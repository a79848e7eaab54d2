/**
 * Exports every mutable global of a compiled mapping under `__troupe_global_<index>`, so the host
 * can snapshot a started instance and restore it before each trigger. graph-node gives every
 * trigger a fresh instance; creating one costs ~0.3 ms in V8 (most of it reserving the memory),
 * while restoring the memory and globals of one started instance costs ~1 µs and leaves the
 * handler exactly the state a fresh instance would have.
 */
import { countImports, readSections, readU32, replaceSections, skipInitExpr, u32 } from "./wasm-binary.js";

export const GLOBAL_EXPORT_PREFIX = "__troupe_global_";

/** The module with its mutable globals exported (the module is otherwise unchanged). */
export function exportMutableGlobals(wasm: Uint8Array): Uint8Array {
  const sections = readSections(wasm);
  const importedGlobals = countImports(wasm, sections).globals;
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
  return replaceSections(wasm, sections, new Map([[7, addExports(wasm, sections, mutable.length, extra)]]));
}

/** The export section's contents with `count` more exports (`entries`, encoded) at its end. */
export function addExports(wasm: Uint8Array, sections: ReturnType<typeof readSections>, count: number, entries: number[]): number[] {
  const section = sections.find((s) => s.id === 7);
  if (!section) return [...u32(count), ...entries];
  const old = readU32(wasm, section.bodyStart);
  return [...u32(old.value + count), ...wasm.subarray(old.next, section.end), ...entries];
}
