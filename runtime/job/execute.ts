import { Outcome, type OutcomeCode } from "../../contracts/client/typed-data.js";
import { DecodeError } from "../wasm/reader.js";
import { AdmissionError } from "../wasm/errors.js";
import { METERING_VERSION } from "../wasm/cost-table.js";
import { MemoryFlag, METER_EXPORTS, TrapStatus } from "../wasm/instrument.js";
import { ExitSignal, Wasi } from "../wasi/preview1.js";
import { WASI_MODULE } from "../wasi/names.js";
import { prepareModule, type PreparedModule } from "./module-cache.js";
import { outputHash } from "./output-hash.js";
import type { JobResult, JobSpec } from "./types.js";

/** Caps on what a job may write to stdout / stderr; writes past them fail with EFBIG. */
export const OUTPUT_CAPS = { stdout: 4 * 1024 * 1024, stderr: 1024 * 1024 } as const;

const PAGE = 65536;

export function checkSpec(spec: JobSpec): void {
  const { limits } = spec;
  if (!(spec.module instanceof Uint8Array)) throw new Error("job spec: module must be a Uint8Array");
  if (!(spec.seed instanceof Uint8Array) || spec.seed.length !== 32) throw new Error("job spec: seed must be 32 bytes");
  if (typeof limits.fuel !== "bigint" || limits.fuel <= 0n || limits.fuel >= 1n << 63n)
    throw new Error("job spec: limits.fuel must be a bigint in (0, 2^63)");
  if (!Number.isFinite(limits.memoryMiB) || limits.memoryMiB <= 0 || limits.memoryMiB > 4096)
    throw new Error("job spec: limits.memoryMiB must be in (0, 4096]");
  if (!Number.isFinite(limits.wallTimeoutMs) || limits.wallTimeoutMs <= 0) throw new Error("job spec: limits.wallTimeoutMs must be positive");
}

/**
 * Runs one job in the current thread. `metered: false` runs the module as submitted (no fuel, no
 * limits) and exists only to compare outputs and speed with the metered run.
 */
export async function executeJob(spec: JobSpec, metered = true): Promise<JobResult> {
  const t0 = performance.now();
  checkSpec(spec);
  const limitPages = Math.floor(spec.limits.memoryMiB * 16);
  const base = {
    exitCode: 0,
    fuelUsed: 0n,
    peakMemoryPages: 0,
    stdout: new Uint8Array(),
    stderr: new Uint8Array(),
    outputs: {},
    meteringVersion: METERING_VERSION,
  };
  const early = (outcome: OutcomeCode, detail: string, hostFault?: string): JobResult => ({
    ...base,
    outcome,
    detail,
    outputHash: outputHash(base.stdout, spec.input.outputs, {}),
    wallMs: Math.round(performance.now() - t0),
    ...(hostFault ? { hostFault } : {}),
  });

  let prepared: PreparedModule;
  try {
    prepared = await prepareModule(spec.module, metered);
  } catch (e) {
    if (e instanceof AdmissionError || e instanceof DecodeError) return early(Outcome.InvalidModule, e.message);
    return early(Outcome.InvalidModule, "module could not be prepared", (e as Error).message);
  }
  if (metered && prepared.initialPages > limitPages)
    return early(Outcome.OutOfMemory, `initial memory of ${prepared.initialPages} pages exceeds the limit of ${limitPages} pages`);

  let fuelGlobal: WebAssembly.Global | undefined;
  const wasi = new Wasi({
    args: spec.input.args,
    env: spec.input.env,
    stdin: spec.input.stdin,
    files: spec.input.files,
    seed: spec.seed,
    stdoutCap: OUTPUT_CAPS.stdout,
    stderrCap: OUTPUT_CAPS.stderr,
    fsCapBytes: spec.limits.memoryMiB * 1024 * 1024,
    charge: (fuel) => {
      if (fuelGlobal) fuelGlobal.value = (fuelGlobal.value as bigint) - BigInt(fuel);
    },
    fuelUsed: () => (fuelGlobal ? spec.limits.fuel - (fuelGlobal.value as bigint) : 0n),
  });

  let instance: WebAssembly.Instance;
  try {
    instance = new WebAssembly.Instance(prepared.compiled, { [WASI_MODULE]: wasi.imports() });
  } catch (e) {
    return early(Outcome.Trap, `instantiation failed: ${(e as Error).message}`);
  }
  const ex = instance.exports;
  const memory = (ex[METER_EXPORTS.memory] ?? ex["memory"]) as WebAssembly.Memory | undefined;
  if (memory instanceof WebAssembly.Memory) wasi.bind(memory);
  if (metered) {
    fuelGlobal = ex[METER_EXPORTS.fuel] as WebAssembly.Global;
    fuelGlobal.value = spec.limits.fuel;
    (ex[METER_EXPORTS.memoryLimit] as WebAssembly.Global).value = limitPages;
  }
  const status = (): number => (metered ? ((ex[METER_EXPORTS.status] as WebAssembly.Global).value as number) : 0);
  const memFlags = (): number => (metered ? ((ex[METER_EXPORTS.memoryFlags] as WebAssembly.Global).value as number) : 0);

  let outcome: OutcomeCode = Outcome.Exited;
  let exitCode = 0;
  let detail = "exited";
  let hostFault: string | undefined;
  let refund = 0;
  try {
    const ret = (ex["_start"] as () => unknown)();
    if (typeof ret === "number") exitCode = ret >>> 0;
    detail = `exited with code ${exitCode}`;
  } catch (e) {
    if (e instanceof ExitSignal) {
      exitCode = e.code;
      detail = `exited with code ${exitCode}`;
    } else if (e instanceof WebAssembly.RuntimeError) {
      if (status() === TrapStatus.OutOfFuel) {
        outcome = Outcome.OutOfFuel;
        detail = "out of fuel";
      } else if (status() === TrapStatus.StackLimit) {
        outcome = Outcome.StackLimit;
        detail = "logical stack limit exceeded (recursion too deep)";
      } else {
        outcome = memFlags() & MemoryFlag.LimitReached ? Outcome.OutOfMemory : Outcome.Trap;
        detail = outcome === Outcome.OutOfMemory ? `trap after reaching the memory limit: ${e.message}` : `trap: ${e.message}`;
        const at = trapOffset(e);
        if (at === undefined) hostFault = "could not locate the trapping instruction";
        else refund = prepared.refunds.get(at) ?? 0;
      }
    } else if (e instanceof RangeError && /call stack/i.test(e.message)) {
      hostFault = "V8 stack overflow before the logical stack limit";
      outcome = Outcome.Trap;
    } else {
      hostFault = `host error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
      outcome = Outcome.Trap;
    }
  }
  if (memFlags() & MemoryFlag.EngineRefused) hostFault ??= "the engine refused memory.grow below the job's limit";

  let fuelUsed = 0n;
  if (metered) {
    const left = (fuelGlobal!.value as bigint) + BigInt(refund);
    fuelUsed = spec.limits.fuel - left;
    if (left < 0n || outcome === Outcome.OutOfFuel) {
      outcome = Outcome.OutOfFuel;
      detail = "out of fuel";
      fuelUsed = spec.limits.fuel;
    }
  }
  if (outcome === Outcome.Exited && exitCode !== 0 && memFlags() & MemoryFlag.LimitReached) {
    outcome = Outcome.OutOfMemory;
    detail = `exited with code ${exitCode} after reaching the memory limit`;
  }
  if (outcome !== Outcome.Exited) exitCode = 0;
  if (wasi.truncated.stdout) detail += "; stdout truncated at its cap";
  if (wasi.truncated.stderr) detail += "; stderr truncated at its cap";

  const outputs: Record<string, Uint8Array> = {};
  for (const name of spec.input.outputs) {
    const data = wasi.readFile(name);
    if (data) outputs[name] = data;
  }
  const stdout = wasi.stdout();
  return {
    outcome,
    exitCode,
    fuelUsed,
    peakMemoryPages: memory instanceof WebAssembly.Memory ? memory.buffer.byteLength / PAGE : 0,
    wallMs: Math.round(performance.now() - t0),
    stdout,
    stderr: wasi.stderr(),
    outputs,
    outputHash: outputHash(stdout, spec.input.outputs, outputs),
    meteringVersion: METERING_VERSION,
    detail,
    ...(hostFault ? { hostFault } : {}),
  };
}

/** The byte offset of the topmost wasm frame in a trap's stack trace. */
function trapOffset(e: Error): number | undefined {
  const m = /wasm-function\[\d+\]:0x([0-9a-f]+)/.exec(e.stack ?? "");
  return m ? parseInt(m[1]!, 16) : undefined;
}
