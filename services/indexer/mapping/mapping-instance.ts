/**
 * One compiled mapping (a data source's `.wasm`), started once and reset before every trigger to
 * the state right after its start function: the same state a fresh instance would have, which is
 * what graph-node gives every handler. The reset restores the memory and every mutable global
 * (exported for that purpose by `exportMutableGlobals`); a handler that grew the memory gets a
 * genuinely fresh instance instead. The module is metered (wasm-fuel.ts): each handler, and the
 * start function, runs on a budget of steps and fails deterministically when it runs out.
 */
import { AscHeap, DeterministicError, type AscExports } from "./asc-heap.js";
import { hostImports, type HostContext } from "./host-exports.js";
import { DEFAULT_HANDLER_STEPS, FUEL_EXPORT, HOST_CALL_STEPS, meterFuel } from "./wasm-fuel.js";
import { exportMutableGlobals, GLOBAL_EXPORT_PREFIX } from "./wasm-globals.js";

export class MappingInstance {
  private readonly module: WebAssembly.Module;
  private instance!: WebAssembly.Instance;
  private exports!: AscExports & Record<string, unknown>;
  private heap!: AscHeap;
  private snapshot!: Uint8Array;
  private globals!: [WebAssembly.Global, number | bigint][];
  private fuel!: WebAssembly.Global;
  private dirty = false;
  private readonly context: HostContext;

  constructor(
    readonly name: string,
    wasm: Uint8Array,
    context: Omit<HostContext, "heap">,
    /** The steps one handler may take (wasm-fuel.ts); at most 2^31 - 1. */
    private readonly steps = DEFAULT_HANDLER_STEPS,
  ) {
    if (!Number.isInteger(steps) || steps < 1 || steps > 0x7fffffff) throw new Error(`a handler's step budget must be an integer in 1..2^31-1, got ${steps}`);
    this.module = new WebAssembly.Module(exportMutableGlobals(meterFuel(wasm)));
    this.context = { ...context, heap: () => this.heap };
    const provided = hostImports(this.context);
    const missing = WebAssembly.Module.imports(this.module)
      .filter((i) => i.kind === "function" && !(i.name in provided))
      .map((i) => `${i.module}.${i.name}`);
    if (missing.length) {
      throw new Error(`mapping ${name} imports host functions the embedded indexer does not provide: ${missing.join(", ")}`);
    }
    this.start();
  }

  private start(): void {
    const provided = hostImports(this.context);
    const imports: WebAssembly.Imports = {};
    for (const i of WebAssembly.Module.imports(this.module)) {
      if (i.kind !== "function") throw new Error(`mapping ${this.name} imports a ${i.kind} (${i.module}.${i.name}); only functions are provided`);
      (imports[i.module] ??= {})[i.name] = provided[i.name]!;
    }
    this.instance = new WebAssembly.Instance(this.module, imports);
    this.exports = this.instance.exports as unknown as AscExports & Record<string, unknown>;
    for (const needed of ["memory", "allocate", "id_of_type"]) {
      if (!(needed in this.exports)) throw new Error(`mapping ${this.name} does not export ${needed}: is it compiled by graph-cli for apiVersion >= 0.0.5?`);
    }
    this.heap = new AscHeap(this.exports);
    this.fuel = this.exports[FUEL_EXPORT] as WebAssembly.Global;
    const start = this.exports._start;
    if (typeof start === "function") this.call("_start", () => (start as () => void)());
    this.snapshot = new Uint8Array(this.exports.memory.buffer).slice();
    this.globals = Object.entries(this.exports)
      .filter(([name]) => name.startsWith(GLOBAL_EXPORT_PREFIX))
      .map(([, g]) => [g as WebAssembly.Global, (g as WebAssembly.Global).value as number | bigint]);
    // Everything below the first heap block is static data (the module's string literals among
    // it). The probe's allocation is undone by the reset before the first trigger.
    this.heap.setStaticLimit(this.exports.allocate(0) >>> 0);
    this.dirty = true;
  }

  /** Back to the state after `_start`. */
  private reset(): void {
    if (!this.dirty) return;
    const memory = this.exports.memory;
    if (memory.buffer.byteLength !== this.snapshot.length) {
      this.start();
      return;
    }
    new Uint8Array(memory.buffer).set(this.snapshot);
    for (const [g, v] of this.globals) g.value = v;
    this.heap.reset();
    this.dirty = false;
  }

  /** Runs `handler` with the object `write` allocates as its argument. Errors propagate. */
  invoke(handler: string, write: (heap: AscHeap) => number): void {
    const fn = this.exports[handler];
    if (typeof fn !== "function") throw new Error(`mapping ${this.name} has no handler ${handler}`);
    this.reset();
    this.dirty = true;
    const arg = write(this.heap);
    this.call(handler, () => (fn as (ptr: number) => void)(arg));
  }

  /** The steps the last handler (or the start function) took. */
  stepsUsed(): number {
    return this.steps - (this.fuel.value as number);
  }

  /** Runs `body` on a fresh budget, turning traps into deterministic errors. */
  private call(what: string, body: () => void): void {
    this.fuel.value = this.steps;
    try {
      body();
    } catch (error) {
      if (error instanceof WebAssembly.RuntimeError) {
        if ((this.fuel.value as number) < 0) {
          throw new DeterministicError(
            `${what} ran out of its execution budget of ${this.steps.toLocaleString("en")} steps (one per call or loop iteration in the mapping, ${HOST_CALL_STEPS} per host call): it was stopped`,
          );
        }
        throw new DeterministicError(`${error.message} (wasm trap)`);
      }
      if (error instanceof RangeError && /call stack/.test(error.message)) throw new DeterministicError("stack overflow in the mapping");
      throw error;
    }
  }
}
