/**
 * The whole local market under load: a fixed number of deployments through the real actors
 * (node, hosts, verifiers, matchmakers, indexer, explorer — each its own process), submitted by
 * several consumers at once. Prints a table; writes bench/results/e2e.json.
 * Environment: BENCH_DEPLOYMENTS (default 180), BENCH_IN_FLIGHT (default 64), BENCH_CONCURRENT_JOBS
 * (each provider's offered capacity; default: the in-flight count, so capacity never binds — an
 * agent holds a slot for every live bid until its window closes, and the default local profiles
 * offer 16/8/4/8 jobs).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseUnits } from "ethers";
import { DEFAULT_PROFILES, defaultOptions, startLocalMarket } from "../scripts/local/market.js";
import { localAccount } from "../scripts/local/accounts.js";
import { deployWorkload, type DeployResult } from "../scripts/lib/consumer.js";
import { ensureWorkloads, workload } from "../runtime/workloads/build.js";
import { freePorts } from "../test/e2e/helpers.js";

const total = Number(process.env.BENCH_DEPLOYMENTS ?? 180);
const inFlight = Number(process.env.BENCH_IN_FLIGHT ?? 64);
const concurrentJobs = Number(process.env.BENCH_CONCURRENT_JOBS ?? inFlight);

ensureWorkloads();
const base = await freePorts(6);
const dir = mkdtempSync(join(tmpdir(), "troupe-bench-"));
const market = await startLocalMarket(defaultOptions({
  dataDir: dir, nodePort: base, explorerPort: base + 1, hostPortBase: base + 2,
  providers: DEFAULT_PROFILES.slice(0, 4).map((p) => ({ ...p, concurrentJobs })), pollMs: 250,
}));
const { chainId } = await market.provider.getNetwork();
// One consumer per lane, as in a market of many users (a consumer's own transactions go one at
// a time). They are funded before the clock starts.
const consumers = Array.from({ length: inFlight }, (_, i) => localAccount(100 + i, market.provider));
{
  const deployer = localAccount(0, market.provider);
  let nonce = await deployer.getNonce();
  const token = market.contracts.token.connect(deployer);
  const funding = [];
  for (const c of consumers) {
    funding.push(await deployer.sendTransaction({ to: c.address, value: parseUnits("10"), nonce: nonce++ }));
    funding.push(await token.mint(c.address, parseUnits("1000"), { nonce: nonce++ }));
  }
  await Promise.all(funding.map((tx) => tx.wait()));
}
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
        { deployment: market.deployment, contracts: market.contracts, consumer: consumers[lane]!, content: { dir: join(dir, "content") }, chainId, pollMs: 250 },
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
  concurrentJobsPerProvider: concurrentJobs,
};
console.log("\nThe local market end to end (5-second bid windows, co-signed settlement)\n");
for (const [k, v] of Object.entries(figures)) console.log(`${k.padEnd(28)} ${v}`);
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(new URL("./results/e2e.json", import.meta.url), JSON.stringify(figures, null, 2) + "\n");
process.exit(0);
