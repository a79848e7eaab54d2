/**
 * A deterministic bound on a handler's execution, graph-node's gas (GIP-0005) in a simpler unit:
 * the mapping's module is rewritten so that every function entry and every loop iteration costs
 * one step and every call of a host function `HOST_CALL_STEPS`, taken from a global the host sets
 * before each trigger. When it runs out the handler traps, the same way on every machine and in
 * every run, and the host reports it as a deterministic error of that handler. Any execution that
 * never ends must either loop or call, so every one ends within the budget.
 */
import { countImports, readSections, readU32, replaceSections, s32, skipLeb, u32, type Section } from "./wasm-binary.js";
import { addExports } from "./wasm-globals.js";

/** The export under which the instrumented module exposes its remaining steps. */
export const FUEL_EXPORT = "__troupe_fuel";

/** What one call of a host function costs: they do far more than one WASM step (store reads, BigInt arithmetic, JSON). */
export const HOST_CALL_STEPS = 1_000;

/**
 * The default budget of one handler. The market's handlers use well under 100,000 steps; a tight
 * loop runs through 10^9 in about two seconds on this project's machines, and host calls in a loop
 * through it after 10^6 calls.
 */
export const DEFAULT_HANDLER_STEPS = 1_000_000_000;

/** The instructions that take `steps` from the fuel global `g` and trap once it is below zero (stack-neutral). */
function charge(g: number, steps: number): number[] {
  const global = u32(g);
  return [
    0x23, ...global, 0x41, ...s32(steps), 0x6b, 0x24, ...global, // fuel -= steps
    0x23, ...global, 0x41, 0x00, 0x48, 0x04, 0x40, 0x00, 0x0b, // if (fuel < 0) unreachable
  ];
}

/** Where the instruction at `i` (opcode `op`, already read) ends. */
function skipImmediates(code: Uint8Array, op: number, i: number): number {
  if (op === 0x02 || op === 0x03 || op === 0x04) {
    const t = code[i]!;
    return t === 0x40 || (t >= 0x6f && t <= 0x7f) ? i + 1 : skipLeb(code, i); // empty, a value type, or a type index
  }
  if (op === 0x0c || op === 0x0d || op === 0x10 || op === 0x12 || (op >= 0x20 && op <= 0x26) || op === 0xd2 || op === 0x41 || op === 0x42) return skipLeb(code, i);
  if (op === 0x0e) {
    const n = readU32(code, i);
    let p = n.next;
    for (let k = 0; k <= n.value; k++) p = skipLeb(code, p);
    return p;
  }
  if (op === 0x11 || op === 0x13) return skipLeb(code, skipLeb(code, i));
  if (op === 0x1c) {
    const n = readU32(code, i);
    return n.next + n.value;
  }
  if (op >= 0x28 && op <= 0x3e) {
    const align = readU32(code, i);
    let p = align.next;
    if (align.value & 0x40) p = skipLeb(code, p); // a memory index (multi-memory)
    return skipLeb(code, p);
  }
  if (op === 0x3f || op === 0x40) return skipLeb(code, i);
  if (op === 0x43) return i + 4;
  if (op === 0x44) return i + 8;
  if (op === 0xd0) return i + 1;
  if (op === 0xfc) {
    const sub = readU32(code, i);
    const p = sub.next;
    if (sub.value <= 7) return p;
    if (sub.value === 8 || sub.value === 10 || sub.value === 12 || sub.value === 14) return skipLeb(code, skipLeb(code, p));
    if (sub.value <= 17) return skipLeb(code, p);
    throw new Error(`unsupported instruction 0xfc ${sub.value} in the mapping`);
  }
  if (op === 0x00 || op === 0x01 || op === 0x05 || op === 0x0b || op === 0x0f || op === 0x1a || op === 0x1b || (op >= 0x45 && op <= 0xc4) || op === 0xd1) return i;
  throw new Error(`unsupported instruction 0x${op.toString(16)} in the mapping (only what AssemblyScript emits is metered)`);
}

/** One function body with its charges added. */
function meterBody(code: Uint8Array, start: number, end: number, importedFunctions: number, entry: number[], loop: number[], hostCall: number[]): number[] {
  let p = start;
  const locals = readU32(code, p);
  p = locals.next;
  for (let k = 0; k < locals.value; k++) p = skipLeb(code, p) + 1; // count, value type
  const out: number[] = [...code.subarray(start, p), ...entry];
  while (p < end) {
    const at = p;
    const op = code[p++]!;
    const next = skipImmediates(code, op, p);
    if (op === 0x10 && readU32(code, p).value < importedFunctions) out.push(...hostCall);
    for (let k = at; k < next; k++) out.push(code[k]!);
    if (op === 0x03) out.push(...loop);
    p = next;
  }
  return out;
}

/** The module metered: a mutable i32 global exported as `__troupe_fuel`, charged as the header says. */
export function meterFuel(wasm: Uint8Array): Uint8Array {
  const sections = readSections(wasm);
  const imports = countImports(wasm, sections);
  const globalSection = sections.find((s) => s.id === 6);
  const definedGlobals = globalSection ? readU32(wasm, globalSection.bodyStart) : undefined;
  const fuel = imports.globals + (definedGlobals?.value ?? 0);
  const globals = [
    ...u32((definedGlobals?.value ?? 0) + 1),
    ...(globalSection ? wasm.subarray(definedGlobals!.next, globalSection.end) : []),
    0x7f, 0x01, 0x41, ...s32(DEFAULT_HANDLER_STEPS), 0x0b, // (global (mut i32) (i32.const budget))
  ];
  const name = new TextEncoder().encode(FUEL_EXPORT);
  const exports = addExports(wasm, sections, 1, [...u32(name.length), ...name, 0x03, ...u32(fuel)]);
  const codeSection: Section | undefined = sections.find((s) => s.id === 10);
  const replaced = new Map([[6, globals], [7, exports]]);
  if (codeSection) {
    const entry = charge(fuel, 1);
    const hostCall = charge(fuel, HOST_CALL_STEPS);
    const count = readU32(wasm, codeSection.bodyStart);
    const body: number[] = [...u32(count.value)];
    let p = count.next;
    for (let k = 0; k < count.value; k++) {
      const size = readU32(wasm, p);
      const metered = meterBody(wasm, size.next, size.next + size.value, imports.functions, entry, entry, hostCall);
      body.push(...u32(metered.length));
      for (const b of metered) body.push(b);
      p = size.next + size.value;
    }
    replaced.set(10, body);
  }
  return replaceSections(wasm, sections, replaced);
}
