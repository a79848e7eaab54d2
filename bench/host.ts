/**
 * Host daemon benchmark: a real daemon (child process) on a chain served over JSON-RPC.
 * - latency: award → the report on chain, one agreement at a time (median and worst of ROUNDS);
 * - throughput: BATCH agreements awarded together, until the last report is on chain.
 * Writes bench/results/host.json. Run with `npm run bench:host`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ZeroHash } from "ethers";
import { encodeInputBundle, METERING_VERSION } from "../runtime/job/index.js";
import { sha256Hex } from "../runtime/host/sha256.js";
import { startRpcNode } from "../test/helpers/rpc-node.js";
import { spawnHost } from "../test/runtime-host/host-process.js";
import { advanceTime, award, chainNow, liveMarket, liveProvider, Status, TOKEN } from "../test/runtime-host/market-setup.js";
import { buildChecksumWorkload, contentDirs } from "../test/runtime-host/workload.js";

const ROUNDS = 7;
const BATCH = Number(process.env.BATCH ?? 24);
const CONCURRENCY = Number(process.env.MAX_CONCURRENT_JOBS ?? 2);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const dir = mkdtempSync(join(tmpdir(), "troupe-bench-host-"));
const node = await startRpcNode();
const m = await liveMarket(node.provider);
const p = await liveProvider(m, 2);
const { market } = m.deployment;
const workload = buildChecksumWorkload();

let inputs = 0;
function request(stdin: string) {
  const bundle = encodeInputBundle({ args: ["checksum"], env: {}, stdin: new TextEncoder().encode(stdin), files: {}, outputs: ["result.txt"] });
  const file = join(dir, `input-${inputs++}.bin`);
  writeFileSync(file, bundle);
  return {
    workloadHash: "0x" + sha256Hex(workload.wasm), workloadURI: pathToFileURL(workload.path).href,
    inputHash: "0x" + sha256Hex(bundle), inputURI: pathToFileURL(file).href,
  };
}

async function reported(id: bigint): Promise<boolean> {
  return Number((await market.request(id)).status) === Status.Reported;
}

const host = spawnHost({
  RPC_URL: node.url, HOST_KEY: p.hostKey.privateKey, PROVIDER: p.owner.address, MARKET: m.deployment.addresses.market,
  MARKET_START_BLOCK: String(m.deployment.startBlock), DATA_DIR: join(dir, "host"), HOST_PORT: "0", CONTENT_DIRS: contentDirs(dir),
  POLL_INTERVAL_MS: "50", MAX_CONCURRENT_JOBS: String(CONCURRENCY),
});
try {
  await host.waitFor(/outputs on http/);
  // Warm up: the module is fetched and compiled, the job process started.
  const warm = await award(m, p, request("warm-up"));
  while (!(await reported(warm))) await sleep(20);

  const latencies: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const id = await award(m, p, request(`latency ${i}`));
    const t0 = performance.now();
    while (!(await reported(id))) await sleep(10);
    latencies.push(performance.now() - t0);
  }

  // Throughput: post and bid on BATCH requests, then close every auction at once.
  const ids: bigint[] = [];
  const now = await chainNow(node.provider);
  for (let i = 0; i < BATCH; i++) {
    await (
      await market.connect(m.consumer).postRequest({
        ...request(`batch ${i} `.repeat(50)), maxFuel: 1_000_000_000n, maxPricePerMFuel: TOKEN / 20n, maxFee: TOKEN / 100n,
        minMemoryMiB: 32, allowedTiers: 7, region: 1, maxLatencyClass: 3, bidWindow: 30, execTime: 1800,
        deadline: now + 3600, meteringVersion: METERING_VERSION, valueAtRisk: 0n,
      })
    ).wait();
    const id = await market.requestCount();
    await (await market.connect(p.owner).bid(id, p.offerId, TOKEN / 100n, TOKEN / 1000n, ZeroHash)).wait();
    ids.push(id);
  }
  await advanceTime(node.provider, 31);
  const t0 = performance.now();
  for (const id of ids) await (await market.connect(m.keeper).closeAuction(id)).wait();
  const awardedMs = performance.now() - t0;
  for (const id of ids) while (!(await reported(id))) await sleep(10);
  const batchMs = performance.now() - t0;

  const results = {
    machine: { cores: 2, node: process.version, date: new Date().toISOString().slice(0, 10) },
    maxConcurrentJobs: CONCURRENCY,
    awardToReportMsMedian: round(median(latencies)),
    awardToReportMsMax: round(Math.max(...latencies)),
    batch: BATCH,
    batchAwardMs: round(awardedMs),
    batchAllReportedMs: round(batchMs),
    reportsPerSecond: round((BATCH * 1000) / batchMs, 2),
  };
  console.table([
    { measure: "award → report on chain, median (ms)", value: results.awardToReportMsMedian },
    { measure: "award → report on chain, worst of 7 (ms)", value: results.awardToReportMsMax },
    { measure: `${BATCH} awards closed (ms)`, value: results.batchAwardMs },
    { measure: `${BATCH} awards → all reported (ms)`, value: results.batchAllReportedMs },
    { measure: "reports per second", value: results.reportsPerSecond },
  ]);
  mkdirSync("bench/results", { recursive: true });
  writeFileSync("bench/results/host.json", JSON.stringify(results, null, 2) + "\n");
} finally {
  await host.stop();
  await node.close();
  rmSync(dir, { recursive: true, force: true });
}
