import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
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
 * the indexer's real decode + handler + SQLite path, then serve it with the explorer in its own
 * process and measure CONCURRENCY (default 32) clients running a mix of explorer queries on loopback.
 */
const AGREEMENTS = Number(process.env.AGREEMENTS ?? 100_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 32);
const QUERY_SECONDS = Number(process.env.QUERY_SECONDS ?? 20);
const BLOCKS_PER_BATCH = 100;

async function ingest(dbPath: string) {
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
  for (const block of market.blocks()) {
    batch.push(block);
    if (batch.length === BLOCKS_PER_BATCH) apply();
  }
  if (batch.length) apply();
  db.close();
  if (warnings.length) throw new Error(`ingest warned ${warnings.length} times, first: ${warnings[0]}`);
  return { events, seconds: busy / 1000, providers: market.providers };
}

function startExplorer(dbPath: string): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ["--import", "tsx", "services/explorer/main.ts"], {
    env: { ...process.env, DB_PATH: dbPath, PORT: "0" },
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
function queryMix(providers: string[], rand: () => number) {
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

async function load(url: string, providers: string[]) {
  const { hostname, port } = new URL(url);
  const clients = [...Array(CONCURRENCY).keys()].map(() => new RawHttpClient(hostname, Number(port)));
  let rand = 7;
  const mix = queryMix(providers, () => ((rand = (rand * 1664525 + 1013904223) >>> 0) / 2 ** 32));
  const run = async (seconds: number, latencies: number[] | undefined) => {
    const end = performance.now() + seconds * 1000;
    let errors = 0;
    let i = 0;
    await Promise.all(
      clients.map(async (client) => {
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
    );
    return errors;
  };
  await run(3, undefined); // warm-up: JIT, statement and parse caches
  const latencies: number[] = [];
  const errors = await run(QUERY_SECONDS, latencies);
  for (const c of clients) c.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { count: latencies.length, errors, p50: at(0.5), p99: at(0.99), qps: latencies.length / QUERY_SECONDS };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "troupe-bench-explorer-"));
  const dbPath = join(dir, "index.db");
  try {
    console.log(`ingesting a synthetic market of ${AGREEMENTS.toLocaleString("en")} agreements…`);
    const ingested = await ingest(dbPath);
    const ingestEventsPerSecond = Math.round(ingested.events / ingested.seconds);
    console.log(`serving it; ${CONCURRENCY} clients for ${QUERY_SECONDS} s…`);
    const explorer = await startExplorer(dbPath);
    let q;
    try {
      q = await load(explorer.url, ingested.providers);
    } finally {
      explorer.stop();
    }
    if (q.errors) throw new Error(`${q.errors} queries failed`);
    const result = {
      ingestEventsPerSecond,
      queryP50Ms: Number(q.p50.toFixed(2)),
      queryP99Ms: Number(q.p99.toFixed(2)),
      agreements: AGREEMENTS,
      concurrency: CONCURRENCY,
    };
    console.table({
      "ingest events": { value: ingested.events, target: "" },
      "ingest time (s)": { value: Number(ingested.seconds.toFixed(1)), target: "" },
      "ingest events/s": { value: ingestEventsPerSecond, target: "≥ 5000" },
      "queries run": { value: q.count, target: "" },
      "queries/s": { value: Math.round(q.qps), target: "" },
      "query p50 (ms)": { value: result.queryP50Ms, target: "" },
      "query p99 (ms)": { value: result.queryP99Ms, target: "≤ 25" },
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
