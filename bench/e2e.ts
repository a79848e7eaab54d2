/**
 * The whole local market under load: a fixed number of deployments through the real actors
 * (node, hosts, verifiers, matchmakers, indexer, explorer — each its own process), submitted by
 * many consumers at once. Prints a table; writes bench/results/e2e.json with one entry per
 * configuration run (the automine run's figures also at the top level).
 *
 *   npm run bench:e2e                                   the three configurations of issue #13:
 *                                                       hardhat automine, anvil 2 s blocks, hardhat automine under a CPU hog
 *   npm run bench:e2e -- --chain anvil --block-time 2   one configuration (--load adds the CPU hog)
 *
 * Options / environment: --deployments N (BENCH_DEPLOYMENTS, default 240), --in-flight N
 * (BENCH_IN_FLIGHT, default 96), --bid-window S (default 3), BENCH_CONCURRENT_JOBS (each provider's
 * offered capacity; default: the in-flight count, so capacity never binds), BENCH_TRACE=file (every
 * deployment's progress lines, with a millisecond timestamp and the deployment's number, appended to
 * the file: where the time of a deployment goes).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseUnits, type JsonRpcProvider } from "ethers";
import { DEFAULT_PROFILES, defaultOptions, startLocalMarket } from "../scripts/local/market.js";
import { localAccount } from "../scripts/local/accounts.js";
import { parseChain, type ChainKind } from "../scripts/local/chain.js";
import { deployWorkload, type DeployResult } from "../scripts/lib/consumer.js";
import { ensureWorkloads, workload } from "../runtime/workloads/build.js";
import { freePorts } from "../test/e2e/helpers.js";
import { GAS_LIMITS, senderFor } from "../contracts/client/sender.js";

interface Config {
  chain: ChainKind;
  blockTime: number;
  load: boolean;
}

const { values } = parseArgs({
  options: {
    chain: { type: "string" }, "block-time": { type: "string" }, load: { type: "boolean" },
    deployments: { type: "string" }, "in-flight": { type: "string" }, "bid-window": { type: "string" },
  },
});
const total = Number(values.deployments ?? process.env.BENCH_DEPLOYMENTS ?? 240);
const inFlight = Number(values["in-flight"] ?? process.env.BENCH_IN_FLIGHT ?? 96);
const bidWindow = Number(values["bid-window"] ?? 3);
const concurrentJobs = Number(process.env.BENCH_CONCURRENT_JOBS ?? inFlight);
const configs: Config[] = values.chain || values["block-time"] || values.load
  ? [{ chain: parseChain(values.chain ?? "hardhat"), blockTime: Number(values["block-time"] ?? 0), load: values.load ?? false }]
  : [
      { chain: "hardhat", blockTime: 0, load: false },
      { chain: "anvil", blockTime: 2, load: false },
      { chain: "hardhat", blockTime: 0, load: true },
    ];

/**
 * Stops the market (and the hog) of the run under way when the bench itself is told to stop (a
 * timeout, Ctrl-C): its node, hosts and agents must not outlive it and load the machine.
 */
let teardown: (() => Promise<void>) | undefined;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the market…`);
    // Deployments still under way fail as their market goes: that is expected now, not news.
    process.on("uncaughtException", () => {}).on("unhandledRejection", () => {});
    void (teardown?.() ?? Promise.resolve()).finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  });
}

/** Two busy loops (`yes > /dev/null`), one per core, for the whole measured run. */
function cpuHog(): () => void {
  const hogs: ChildProcess[] = Array.from({ length: cpus().length }, () => spawn("yes", [], { stdio: ["ignore", "ignore", "ignore"] }));
  return () => hogs.forEach((h) => h.kill("SIGKILL"));
}

async function runOne(config: Config) {
  ensureWorkloads();
  const base = await freePorts(6);
  const dir = mkdtempSync(join(tmpdir(), "troupe-bench-"));
  const market = await startLocalMarket(defaultOptions({
    dataDir: dir, nodePort: base, explorerPort: base + 1, hostPortBase: base + 2, chain: config.chain, blockTime: config.blockTime,
    providers: DEFAULT_PROFILES.slice(0, 4).map((p) => ({ ...p, concurrentJobs })), pollMs: 250,
  }));
  teardown = () => market.stop();
  const { chainId } = await market.provider.getNetwork();
  // One consumer per lane, as in a market of many users. They are funded before the clock starts.
  const consumers = Array.from({ length: inFlight }, (_, i) => localAccount(100 + i, market.provider));
  {
    const deployer = localAccount(0, market.provider);
    const sender = senderFor(deployer);
    const token = market.contracts.token.connect(deployer);
    const funding = [];
    for (const c of consumers) {
      funding.push(await sender.send({ to: c.address, value: parseUnits("10") }, { gasLimit: GAS_LIMITS.ether }));
      funding.push(await sender.send(await token.mint.populateTransaction(c.address, parseUnits("1000")), { gasLimit: GAS_LIMITS.transfer }));
    }
    await Promise.all(funding.map((tx) => tx.wait()));
  }
  const module = workload("checksum");
  const results: DeployResult[] = [];
  const failures: string[] = [];
  let reposted = 0;
  let next = 0;
  const gasBefore = await gasUsedSince(market.provider, 0);
  const stopHog = config.load ? cpuHog() : () => {};
  teardown = async () => {
    stopHog();
    await market.stop();
  };
  const load0 = loadavg()[0]!;
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
            allowedTiers: 0b111, region: 1 + (n % 4), maxLatencyClass: 2, bidWindow, deadlineIn: 180, repostIfLate: 2,
            // 96 consumers share this machine with the market: they read the bids at the window's end
            // (one look) instead of watching them arrive (one look a second each).
            watchBids: false,
          },
          process.env.BENCH_TRACE ? (line: string) => appendFileSync(process.env.BENCH_TRACE!, `${Date.now()} ${n} ${line}\n`) : () => {},
        );
        reposted += r.reposts ?? 0;
        if (r.status === "Settled" && !r.problem) results.push(r);
        else failures.push(`deployment ${n} (request ${r.id}): ${r.status}${r.problem ? `: ${r.problem}` : ""}`);
      } catch (error) {
        failures.push(`deployment ${n}: ${(error as Error).message.split("\n")[0]}`);
      }
    }
  }

  await Promise.all(Array.from({ length: inFlight }, (_, i) => lane(i)));
  const minutes = (Date.now() - started) / 60_000;
  const load1 = loadavg()[0]!;
  stopHog();
  const gas = (await gasUsedSince(market.provider, 0)) - gasBefore;
  await market.stop();
  teardown = undefined;
  if (process.env.BENCH_KEEP) console.log(`  (kept ${dir})`);
  else rmSync(dir, { recursive: true, force: true });
  for (const f of failures) console.error(`  ${f}`);

  const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  return {
    chain: config.chain,
    blockTime: config.blockTime,
    load: config.load,
    deploymentsSettledPerMinute: Number((results.length / minutes).toFixed(1)),
    requestToAwardMsP50: p50(results.map((r) => r.timings.awardMs ?? 0)),
    requestToSettledMsP50: p50(results.map((r) => r.timings.settledMs ?? 0)),
    failed: failures.length,
    deployments: total,
    gasPerSettled: results.length ? Math.round(Number(gas) / results.length) : 0,
    /** Requests that expired unbid because bids came later than the window, and were posted again. */
    reposted,
    inFlight,
    bidWindowSec: bidWindow,
    loadAverage: { atStart: Number(load0.toFixed(2)), atEnd: Number(load1.toFixed(2)) },
  };
}

/** Gas used by every block from `from` to the head (the funding and the measured run). */
async function gasUsedSince(provider: JsonRpcProvider, from: number): Promise<bigint> {
  const head = await provider.getBlockNumber();
  let sum = 0n;
  for (let b = from; b <= head; b++) sum += (await provider.getBlock(b))!.gasUsed;
  return sum;
}

const file = new URL("./results/e2e.json", import.meta.url);
type Entry = Awaited<ReturnType<typeof runOne>>;
const previous = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as { configurations?: Entry[] }) : {};
const entries: Entry[] = [...(previous.configurations ?? [])];
for (const config of configs) {
  console.log(`\n${config.chain}, ${config.blockTime ? `${config.blockTime} s blocks` : "automine"}${config.load ? ", under a CPU hog on every core" : ""}: ${total} deployments, ${inFlight} in flight`);
  const entry = await runOne(config);
  for (const [k, v] of Object.entries(entry)) console.log(`  ${k.padEnd(28)} ${typeof v === "object" ? JSON.stringify(v) : v}`);
  const at = entries.findIndex((e) => e.chain === entry.chain && e.blockTime === entry.blockTime && e.load === entry.load);
  if (at >= 0) entries[at] = entry;
  else entries.push(entry);
}
const automine = entries.find((e) => e.chain === "hardhat" && e.blockTime === 0 && !e.load);
const out = {
  ...(automine ? {
    deploymentsSettledPerMinute: automine.deploymentsSettledPerMinute, requestToAwardMsP50: automine.requestToAwardMsP50,
    requestToSettledMsP50: automine.requestToSettledMsP50, failed: automine.failed, deployments: automine.deployments,
    gasPerSettled: automine.gasPerSettled,
  } : {}),
  machine: { cores: cpus().length, node: process.version, date: new Date().toISOString().slice(0, 16) },
  configurations: entries,
};
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(file, JSON.stringify(out, null, 2) + "\n");
process.exit(0);
