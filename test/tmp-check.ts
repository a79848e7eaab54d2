import { readFileSync } from "node:fs";
import { executeJob } from "../runtime/job/execute.js";
import { spec, bundle } from "./runtime/spec.js";
for (const f of process.argv.slice(2)) {
  const m = new Uint8Array(readFileSync(f));
  for (const metered of [false, true]) {
    const t0 = performance.now();
    const r = await executeJob(spec(m, { fuel: 1n << 40n, memoryMiB: 256, input: bundle({ args: ["x", process.env.SCALE ?? "1"] }) }), metered);
    console.log(f, metered, r.outcome, r.detail, (performance.now() - t0).toFixed(1), "ms", r.fuelUsed, Buffer.from(r.stdout).toString().trim().slice(0, 150), Buffer.from(r.stderr).toString().slice(0, 300));
  }
}
