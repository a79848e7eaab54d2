/**
 * The whole local market under load: a fixed number of deployments through the real actors
 * (node, hosts, verifiers, matchmakers, indexer, explorer — each its own process), submitted by
 * several consumers at once. Prints a table; writes bench/results/e2e.json.
 * Environment: BENCH_DEPLOYMENTS (default 120), BENCH_IN_FLIGHT (default 32).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseUnits } from "ethers";
import { DEFAULT_PROFILES, defaultOptions, startLocalMarket } from "../scripts/local/market.js";
import { consumerAccount } from "../scripts/local/accounts.js";
import { deployWorkload, type DeployResult } from "../scripts/lib/consumer.js";
import { ensureWorkloads, workload } from "../runtime/workloads/build.js";
import { freePorts } from "../test/e2e/helpers.js";

const total = Number(process.env.BENCH_DEPLOYMENTS ?? 120);
const inFlight = Number(process.env.BENCH_IN_FLIGHT ?? 32);
const CONSUMERS = 4;

ensureWorkloads();
const base = await freePorts(6);
const dir = mkdtempSync(join(tmpdir(), "troupe-bench-"));
const market = await startLocalMarket(defaultOptions({
  dataDir: dir, nodePort: base, explorerPort: base + 1, hostPortBase: base + 2,
  providers: DEFAULT_PROFILES.slice(0, 4), pollMs: 250,
}));
const { chainId } = await market.provider.getNetwork();
const consumers = Array.from({ length: CONSUMERS }, (_, i) => consumerAccount(i, market.provider));
const module = workload("checksum");
const results: DeployResult[] = [];
let failed = 0;
let next = 0;
const started = Date.now();

async function lane(lane: number) {
  for (;;) {
    const n = next++;
    if (n >= total) return;
    try {
      const r = await deployWorkload(
        { deployment: market.deployment, contracts: market.contracts, consumer: consumers[lane % CONSUMERS]!, content: { dir: join(dir, "content") }, chainId, pollMs: 250 },
        {
          module, input: { args: ["checksum", "1"], env: {}, stdin: new TextEncoder().encode(`job ${n}\n`), files: {}, outputs: [] },
          maxFuel: 200_000_000n, maxPricePerMFuel: parseUnits("0.01"), maxFee: parseUnits("0.001"), minMemoryMiB: 16,
          allowedTiers: 0b111, region: 1 + (n % 4), maxLatencyClass: 2, bidWindow: 5, deadlineIn: 180,
        },
        () => {},
      );
      if (r.status === "Settled" && !r.problem) results.push(r);
      else {
        failed++;
        console.error(`deployment ${n}: ${r.status}${r.problem ? `: ${r.problem}` : ""}`);
      }
    } catch (error) {
      failed++;
      console.error(`deployment ${n}: ${(error as Error).message.split("\n")[0]}`);
    }
  }
}

await Promise.all(Array.from({ length: inFlight }, (_, i) => lane(i)));
const minutes = (Date.now() - started) / 60_000;
await market.stop();

const p50 = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const figures = {
  deploymentsSettledPerMinute: Number((results.length / minutes).toFixed(1)),
  requestToAwardMsP50: p50(results.map((r) => r.timings.awardMs ?? 0)),
  requestToSettledMsP50: p50(results.map((r) => r.timings.settledMs ?? 0)),
  failed,
  deployments: total,
  inFlight,
};
console.log("\nThe local market end to end (5-second bid windows, co-signed settlement)\n");
for (const [k, v] of Object.entries(figures)) console.log(`${k.padEnd(28)} ${v}`);
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(new URL("./results/e2e.json", import.meta.url), JSON.stringify(figures, null, 2) + "\n");
process.exit(0);
