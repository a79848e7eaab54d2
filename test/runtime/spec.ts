// Shared job spec builders for the runtime tests.
import type { InputBundle, JobSpec } from "../../runtime/job/index.js";

export function bundle(over: Partial<InputBundle> = {}): InputBundle {
  return { args: ["prog"], env: {}, stdin: new Uint8Array(), files: {}, outputs: [], ...over };
}

export function spec(module: Uint8Array, over: Partial<Omit<JobSpec, "module">> & { fuel?: bigint; memoryMiB?: number } = {}): JobSpec {
  return {
    module,
    input: over.input ?? bundle(),
    limits: over.limits ?? { fuel: over.fuel ?? 2_000_000_000n, memoryMiB: over.memoryMiB ?? 64, wallTimeoutMs: 30_000 },
    seed: over.seed ?? new Uint8Array(32).fill(7),
  };
}

export const text = (b: Uint8Array): string => Buffer.from(b).toString("utf8");
