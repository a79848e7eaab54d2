import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { loadSchemaModel } from "../services/common/entity-model.js";
import { openIndexDb } from "../services/indexer/database.js";
import { EntityStore } from "../services/indexer/entity-store.js";
import { configureManifest } from "../services/indexer/indexer.js";
import { loadSubgraphManifest } from "../services/indexer/mapping/manifest.js";
import { SubgraphRunner, type BlockInput } from "../services/indexer/mapping/subgraph-runner.js";
import { ADDRESSES, syntheticMarket } from "./explorer/synthetic-market.js";
import { RawHttpClient } from "./explorer/raw-http-client.js";

/**
 * bench:explorer — ingest a synthetic market of AGREEMENTS (default 100,000) deployments through
 * the indexer's real path (the compiled subgraph's WASM mappings, the versioned entity store,
 * SQLite), then serve it with the explorer in its own process and measure CONCURRENCY (default 32)
 * clients on loopback: the page's query mix, the same at random past blocks (time travel), and the
 * page's mix again while one more client (from another address) loops the worst query the limits
 * allow.
 */
const AGREEMENTS = Number(process.env.AGREEMENTS ?? 100_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 32);
const QUERY_SECONDS = Number(process.env.QUERY_SECONDS ?? 20);
const BLOCKS_PER_BATCH = 100;
/** `--only ingest`: measure the ingest alone (same figure), without serving or querying. */
const ONLY_INGEST = process.argv.includes("--only") && process.argv[process.argv.indexOf("--only") + 1] === "ingest";
/**
 * BENCH_DB=<path>: keep the ingested database there (with `<path>.json`: the ingest's figures, its
 * providers and last block) and, when both exist for the same AGREEMENTS, serve it again instead of
 * ingesting: query iterations then cost the queries only. The ingest figure reported is the one
 * recorded when the file was built (`ingestReused: true` in the results).
 */
const BENCH_DB = process.env.BENCH_DB;

interface Ingested {
  events: number;
  seconds: number;
  providers: string[];
  lastBlock: number;
  agreements?: number;
}

function reusable(path: string): Ingested | undefined {
  if (!existsSync(path) || !existsSync(`${path}.json`)) return undefined;
  const saved = JSON.parse(readFileSync(`${path}.json`, "utf8")) as Ingested;
  return saved.agreements === AGREEMENTS ? saved : undefined;
}

async function ingest(dbPath: string): Promise<Ingested> {
  const schema = loadSchemaModel();
  const db = openIndexDb(dbPath, schema);
  const store = new EntityStore(db, schema);
  const warnings: string[] = [];
  const runner = new SubgraphRunner(configureManifest(loadSubgraphManifest(), ADDRESSES, 0), store, schema, { warn: (m) => warnings.push(m) });
  const market = syntheticMarket({ providers: 240, agreements: AGREEMENTS, days: 60, perBlock: 60, start: 1_780_000_000 });
  let events = 0;
  let busy = 0;
  let batch: BlockInput[] = [];
  const apply = () => {
    const started = performance.now();
    for (const block of batch) events += runner.processBlock(block);
    store.flush(batch.at(-1)!.block, () => runner.persist(db));
    busy += performance.now() - started;
    batch = [];
  };
  let lastBlock = 0;
  for (const block of market.blocks()) {
    lastBlock = block.block.number;
    batch.push(block);
    if (batch.length === BLOCKS_PER_BATCH) apply();
  }
  if (batch.length) apply();
  db.close();
  if (warnings.length) throw new Error(`ingest warned ${warnings.length} times, first: ${warnings[0]}`);
  return { events, seconds: busy / 1000, providers: market.providers, lastBlock };
}

function startExplorer(dbPath: string): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ["--import", "tsx", "services/explorer/main.ts"], {
    // The 32 clients stand for 32 users but share one loopback address: the per-address rate limit
    // (5,000 requests/s by default) would count them as one.
    env: { ...process.env, DB_PATH: dbPath, PORT: "0", RATE_LIMIT: "1000000" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the explorer exited (${code})`)));
    child.stdout!.on("data", (d: Buffer) => {
      const m = /explorer: (http:\/\/[^/\s]+)\//.exec(d.toString());
      if (m) resolve({ url: m[1]!, stop: () => child.kill("SIGTERM") });
    });
  });
}

/** The explorer's common queries, with random ids and pages so few repeat. */
function queryMix(providers: string[], rand: () => number): Mix {
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const agreementId = () => String(1 + Math.floor(rand() * AGREEMENTS));
  return [
    () => ({
      query: `query ($id: ID!) { agreement(id: $id) { id status pricePerMFuel fee requestedAt awardedAt reportedAt closedAt providerPayment
        provider { id tierName reputation } usageReport { fuelUsed wallMs outcomeName } settlement { kind providerPayment consumerRefund }
        request { id bids(orderBy: seq) { seq total provider { id } } } } }`,
      variables: { id: agreementId() },
    }),
    () => ({
      query: `query ($id: ID!) { provider(id: $id) { id tierName region stake reputation completed breached earnings
        offers { id pricePerMFuel withdrawn } agreements(first: 20, orderBy: awardedAt, orderDirection: desc) { id status pricePerMFuel providerPayment } } }`,
      variables: { id: pick(providers) },
    }),
    () => ({
      query: `query ($status: String!, $skip: Int!) { agreements(first: 25, skip: $skip, where: { status: $status }, orderBy: awardedAt, orderDirection: desc) {
        id status pricePerMFuel awardedAt provider { id tierName } } }`,
      variables: { status: pick(["Settled", "Breached", "Overturned"]), skip: Math.floor(rand() * 200) },
    }),
    () => ({
      query: `{ providers(first: 50, orderBy: reputation, orderDirection: desc) { id tierName region stake reputation completed breached } }`,
    }),
    () => ({
      query: `query ($tier: Int!) { marketStats_collection(first: 30, orderBy: day, orderDirection: desc, where: { tier: $tier }) {
        day region jobs volume averagePricePerMFuel slaBreachRate } }`,
      variables: { tier: Math.floor(rand() * 3) },
    }),
    () => ({
      query: `{ deploymentRequests(first: 20, where: { status: "Open" }, orderBy: createdAt, orderDirection: desc) {
        id maxPricePerMFuel bidWindowEnd bids(first: 5, orderBy: total) { total provider { id } } } }`,
    }),
    () => ({
      query: `query ($p: String!) { agreements(first: 10, where: { provider: $p, status: "Settled" }, orderBy: awardedAt, orderDirection: desc) {
        id usageReport { fuelUsed wallMs } } }`,
      variables: { p: pick(providers) },
    }),
    () => ({
      query: `query ($id: ID!) { deploymentRequest(id: $id) { id status consumer maxFuel maxPricePerMFuel escrow createdAt
        agreement { id status } bids(orderBy: seq) { id seq total pricePerMFuel fee provider { id } } } }`,
      variables: { id: agreementId() },
    }),
  ];
}

/** Past-block versions of the page's queries, at random blocks of the market's history. */
function timeTravelMix(providers: string[], lastBlock: number, rand: () => number) {
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const block = () => 1 + Math.floor(rand() * lastBlock);
  const agreementId = () => String(1 + Math.floor(rand() * AGREEMENTS));
  return [
    () => ({
      query: `query ($id: ID!, $b: Int!) { agreement(id: $id, block: { number: $b }) { id status pricePerMFuel reportedAt closedAt providerPayment
        provider { id reputation completed } usageReport { fuelUsed } settlement { kind } } }`,
      variables: { id: agreementId(), b: block() },
    }),
    () => ({
      query: `query ($id: ID!, $b: Int!) { provider(id: $id, block: { number: $b }) { id stake reputation completed breached earnings
        agreements(first: 20, orderBy: awardedAt, orderDirection: desc) { id status pricePerMFuel } } }`,
      variables: { id: pick(providers), b: block() },
    }),
    () => ({
      query: `query ($b: Int!) { marketSummary(id: "market", block: { number: $b }) { agreements settled breached volume fuel }
        _meta(block: { number: $b }) { block { number hash parentHash timestamp } } }`,
      variables: { b: block() },
    }),
    () => ({
      query: `query ($id: ID!, $b: Int!) { deploymentRequest(id: $id, block: { number: $b }) { id status bidCount
        bids(orderBy: seq) { seq total provider { id } } agreement { id status } } }`,
      variables: { id: agreementId(), b: block() },
    }),
  ];
}

/**
 * The most expensive query the limits let through: a 1,000-row page ordered by an unindexed
 * field, a 40-branch `or`, nested lists. Each run differs in one literal (`n`), so the response
 * cache never answers it: every one is executed.
 */
export const worstAllowed = (n: number) => `{ agreements(first: 1000, orderBy: fee, where: { or: [${[...Array(10).keys()]
  .map((i) => `{ fee_gte: "${i + n}" }, { status_not: "X${i}" }, { consumer_not: "0x${String(i).padStart(40, "0")}" }, { maxFuel_gt: "${i}" }`)
  .join(", ")}] }) { id status provider { id reputation } request { id bids(first: 30) { id total } } } }`;

type Mix = (() => { query: string; variables?: Record<string, unknown> })[];

/** CONCURRENCY clients run `mix` for `seconds`; with `hostile`, one more client loops `worstAllowed` from another address. */
async function load(url: string, mix: Mix, seconds: number, hostile = false) {
  const { hostname, port } = new URL(url);
  const clients = [...Array(CONCURRENCY).keys()].map(() => new RawHttpClient(hostname, Number(port)));
  const attacker = new RawHttpClient(hostname, Number(port), "127.0.0.2");
  const run = async (duration: number, latencies: number[] | undefined) => {
    const end = performance.now() + duration * 1000;
    let errors = 0;
    let i = 0;
    let hostileRuns = 0;
    let hostileRefused = 0;
    const attack = hostile
      ? (async () => {
          while (performance.now() < end) {
            const { body } = await attacker.post("/graphql", JSON.stringify({ query: worstAllowed(hostileRuns) }));
            hostileRuns++;
            if (body.includes('"errors"')) {
              if (hostileRefused++ === 0) console.log(`the worst query was refused: ${body.slice(0, 300)}`);
            }
          }
        })()
      : Promise.resolve();
    await Promise.all([
      attack,
      ...clients.map(async (client) => {
        while (performance.now() < end) {
          const body = JSON.stringify(mix[i++ % mix.length]!());
          const started = performance.now();
          const { status, body: text } = await client.post("/graphql", body);
          latencies?.push(performance.now() - started);
          if (status !== 200 || text.includes('"errors"')) {
            if (errors++ === 0) console.error(`query failed (${status}): ${text.slice(0, 300)}`);
          }
        }
      }),
    ]);
    return { errors, hostileRuns, hostileRefused };
  };
  await run(3, undefined); // warm-up: JIT, statement and parse caches
  const latencies: number[] = [];
  const { errors, hostileRuns, hostileRefused } = await run(seconds, latencies);
  for (const c of [...clients, attacker]) c.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { count: latencies.length, errors, p50: at(0.5), p99: at(0.99), qps: latencies.length / seconds, hostileRuns, hostileRefused };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "troupe-bench-explorer-"));
  const dbPath = BENCH_DB ?? join(dir, "index.db");
  try {
    let ingested = BENCH_DB ? reusable(BENCH_DB) : undefined;
    const ingestReused = ingested !== undefined;
    if (ingested) console.log(`serving the market already ingested in ${BENCH_DB} (${AGREEMENTS.toLocaleString("en")} agreements)`);
    else {
      console.log(`ingesting a synthetic market of ${AGREEMENTS.toLocaleString("en")} agreements…`);
      if (BENCH_DB) for (const suffix of ["", "-wal", "-shm", ".json"]) rmSync(BENCH_DB + suffix, { force: true });
      ingested = await ingest(dbPath);
      if (BENCH_DB) writeFileSync(`${BENCH_DB}.json`, JSON.stringify({ ...ingested, agreements: AGREEMENTS }) + "\n");
    }
    const ingestEventsPerSecond = Math.round(ingested.events / ingested.seconds);
    if (ONLY_INGEST) {
      console.log(JSON.stringify({ ingestEventsPerSecond, events: ingested.events, seconds: Number(ingested.seconds.toFixed(1)), agreements: AGREEMENTS }));
      return;
    }
    console.log(`serving it; ${CONCURRENCY} clients for ${QUERY_SECONDS} s…`);
    const explorer = await startExplorer(dbPath);
    let q;
    let tt;
    let hostile;
    let rand = 7;
    const random = () => ((rand = (rand * 1664525 + 1013904223) >>> 0) / 2 ** 32);
    try {
      q = await load(explorer.url, queryMix(ingested.providers, random), QUERY_SECONDS);
      console.log(`time travel: ${CONCURRENCY} clients at random past blocks for ${QUERY_SECONDS} s…`);
      tt = await load(explorer.url, timeTravelMix(ingested.providers, ingested.lastBlock, random), QUERY_SECONDS);
      console.log(`hostile: the same ${CONCURRENCY} clients while one more loops the worst allowed query, for ${QUERY_SECONDS} s…`);
      hostile = await load(explorer.url, queryMix(ingested.providers, random), QUERY_SECONDS, true);
    } finally {
      explorer.stop();
    }
    for (const [name, r] of [["query", q], ["time-travel", tt], ["hostile", hostile]] as const) {
      if (r.errors) throw new Error(`${r.errors} ${name} queries failed`);
    }
    const result = {
      ingestEventsPerSecond,
      queryP50Ms: Number(q.p50.toFixed(2)),
      queryP99Ms: Number(q.p99.toFixed(2)),
      timeTravelP99Ms: Number(tt.p99.toFixed(2)),
      hostileP99Ms: Number(hostile.p99.toFixed(2)),
      agreements: AGREEMENTS,
      concurrency: CONCURRENCY,
      ...(ingestReused ? { ingestReused } : {}),
    };
    console.table({
      "ingest events": { value: ingested.events, target: "" },
      "ingest time (s)": { value: Number(ingested.seconds.toFixed(1)), target: "" },
      "ingest events/s": { value: ingestEventsPerSecond, target: "≥ 5000" },
      "queries run": { value: q.count, target: "" },
      "queries/s": { value: Math.round(q.qps), target: "" },
      "query p50 (ms)": { value: result.queryP50Ms, target: "" },
      "query p99 (ms)": { value: result.queryP99Ms, target: "≤ 20" },
      "time-travel queries/s": { value: Math.round(tt.qps), target: "" },
      "time-travel p99 (ms)": { value: result.timeTravelP99Ms, target: "≤ 30" },
      "hostile: normal queries/s": { value: Math.round(hostile.qps), target: "" },
      "hostile: worst queries run": { value: hostile.hostileRuns, target: "" },
      "hostile: of them refused": { value: hostile.hostileRefused, target: "" },
      "hostile: p99 (ms)": { value: result.hostileP99Ms, target: "≤ 100" },
    });
    mkdirSync("bench/results", { recursive: true });
    writeFileSync("bench/results/explorer.json", JSON.stringify(result, null, 2) + "\n");
    console.log("wrote bench/results/explorer.json");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
