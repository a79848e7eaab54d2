import { Outcome, type OutcomeCode } from "../../contracts/client/typed-data.js";
import { DecodeError } from "../wasm/reader.js";
import { AdmissionError } from "../wasm/errors.js";
import { METERING_VERSION } from "../wasm/cost-table.js";
import { METER_EXPORTS, TrapStatus } from "../wasm/instrument.js";
import { ExitSignal, Wasi } from "../wasi/preview1.js";
import { WASI_MODULE } from "../wasi/names.js";
import { FuelExhausted, Meter } from "./meter.js";
import { FootprintError, prepareModule, type PreparedModule } from "./module-cache.js";
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

  const limitBytes = Math.floor(spec.limits.memoryMiB * 1024 * 1024);
  let prepared: PreparedModule;
  try {
    prepared = await prepareModule(spec.module, metered, metered ? limitBytes : Infinity);
  } catch (e) {
    if (e instanceof FootprintError) return early(Outcome.OutOfMemory, e.message);
    if (e instanceof AdmissionError || e instanceof DecodeError) return early(Outcome.InvalidModule, e.message);
    return early(Outcome.InvalidModule, "module could not be prepared", (e as Error).message);
  }

  let meter: Meter | undefined;
  const wasi = new Wasi({
    args: spec.input.args,
    env: spec.input.env,
    stdin: spec.input.stdin,
    files: spec.input.files,
    dirs: spec.input.dirs,
    seed: spec.seed,
    stdoutCap: OUTPUT_CAPS.stdout,
    stderrCap: OUTPUT_CAPS.stderr,
    fsCapBytes: limitBytes,
    charge: (fuel) => meter?.charge(fuel),
    fuelUsed: () => meter?.used() ?? 0n,
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
  if (metered) meter = new Meter(ex, spec.limits.fuel, limitBytes - prepared.footprint);

  let outcome: OutcomeCode = Outcome.Exited;
  let exitCode = 0;
  let detail = "exited";
  let hostFault: string | undefined;
  let refund = 0;
  try {
    const start = ex["_start"] as () => unknown;
    const ret = meter ? meter.call(start) : start();
    if (typeof ret === "number") exitCode = ret >>> 0;
    detail = `exited with code ${exitCode}`;
  } catch (e) {
    if (e instanceof ExitSignal) {
      exitCode = e.code;
      detail = `exited with code ${exitCode}`;
    } else if (e instanceof FuelExhausted) {
      outcome = Outcome.OutOfFuel;
      detail = "out of fuel";
    } else if (e instanceof WebAssembly.RuntimeError) {
      const status = meter?.trapStatus() ?? TrapStatus.None;
      if (status === TrapStatus.OutOfFuel) {
        outcome = Outcome.OutOfFuel;
        detail = "out of fuel";
      } else if (status === TrapStatus.StackLimit) {
        outcome = Outcome.StackLimit;
        detail = "logical stack limit exceeded (recursion too deep)";
      } else {
        outcome = meter?.limitReached() ? Outcome.OutOfMemory : Outcome.Trap;
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
  if (meter?.engineRefused()) hostFault ??= "the engine refused to grow memory or a table below the job's limit";

  let fuelUsed = 0n;
  if (meter) {
    const left = meter.left() + BigInt(refund);
    fuelUsed = spec.limits.fuel - left;
    if (left < 0n || outcome === Outcome.OutOfFuel) {
      outcome = Outcome.OutOfFuel;
      detail = "out of fuel";
      fuelUsed = spec.limits.fuel;
    }
    // The meter's invariant, checked where the attested figure is made: never negative, never past the cap.
    if (fuelUsed < 0n || fuelUsed > spec.limits.fuel)
      hostFault ??= `meter invariant broken: fuelUsed ${fuelUsed} outside [0, ${spec.limits.fuel}]`;
  }
  if (outcome === Outcome.Exited && exitCode !== 0 && meter?.limitReached()) {
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
    fuelUsed: hostFault ? 0n : fuelUsed,
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
