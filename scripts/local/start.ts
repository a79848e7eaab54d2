/**
 * `npm start`: the whole local market on one machine — a Hardhat node, the contracts, the indexer
 * and explorer, several providers (each a host daemon and a matchmaker agent) and a demo consumer
 * — every actor its own process, meeting only on the chain. Ctrl-C stops everything.
 *
 * Options (flag or environment variable):
 *   --chain C            TROUPE_CHAIN           hardhat (default) or anvil (Foundry's node)
 *   --block-time S       TROUPE_BLOCK_TIME      seconds between blocks; 0 = a block per transaction (default 0)
 *   --providers N        TROUPE_PROVIDERS       providers to run (1-5, default 4)
 *   --node-port P        TROUPE_NODE_PORT       the Hardhat node's port (default 8545)
 *   --explorer-port P    TROUPE_EXPLORER_PORT   the explorer's port (default 4000)
 *   --host-port P        TROUPE_HOST_PORT       the first host's port; the others follow (default 7101)
 *   --deployments N      TROUPE_DEMO_COUNT      demo deployments, 0 = until stopped (default 0)
 *   --concurrency N      TROUPE_DEMO_CONCURRENCY  demo deployments in flight (default 2)
 *   --interval MS        TROUPE_DEMO_INTERVAL_MS  pause between one lane's deployments (default 4000)
 *   --data-dir D         TROUPE_DATA_DIR        logs, databases, outboxes (default .troupe/local)
 */
import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { formatUnits } from "ethers";
import { DEFAULT_PROFILES, defaultOptions, startLocalMarket, type LocalMarket } from "./market.js";
import { watchMarket } from "./progress.js";
import { consumerAccount } from "./accounts.js";
import { parseChain } from "./chain.js";
import { ensureWorkloads } from "../../runtime/workloads/build.js";

const USAGE = `npm start -- [--chain hardhat|anvil] [--block-time S] [--providers N] [--deployments N] [--concurrency N]
                [--interval MS] [--node-port P] [--explorer-port P] [--host-port P] [--data-dir D]
(each also as TROUPE_CHAIN, TROUPE_BLOCK_TIME, TROUPE_PROVIDERS, …: see the top of scripts/local/start.ts)`;

let parsed;
try {
  parsed = parseArgs({
    options: {
      help: { type: "boolean", short: "h" }, chain: { type: "string" }, "block-time": { type: "string" },
      providers: { type: "string" }, "node-port": { type: "string" }, "explorer-port": { type: "string" },
      "host-port": { type: "string" }, deployments: { type: "string" }, concurrency: { type: "string" },
      interval: { type: "string" }, "data-dir": { type: "string" },
    },
  });
} catch (error) {
  console.error(`npm start: ${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
const { values } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const option = (flag: string | undefined, env: string, fallback: number) => {
  const raw = flag ?? process.env[env];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`npm start: ${env} / its flag must be a whole number, not "${raw}"`);
    process.exit(2);
  }
  return n;
};
const providerCount = option(values.providers, "TROUPE_PROVIDERS", 4);
if (providerCount < 1 || providerCount > DEFAULT_PROFILES.length) {
  console.error(`npm start: providers must be between 1 and ${DEFAULT_PROFILES.length}`);
  process.exit(2);
}
let chain;
try {
  chain = parseChain(values.chain ?? process.env.TROUPE_CHAIN ?? "hardhat");
} catch (error) {
  console.error(`npm start: ${(error as Error).message}`);
  process.exit(2);
}
const options = defaultOptions({
  chain,
  blockTime: option(values["block-time"], "TROUPE_BLOCK_TIME", 0),
  dataDir: resolve(values["data-dir"] ?? process.env.TROUPE_DATA_DIR ?? ".troupe/local"),
  nodePort: option(values["node-port"], "TROUPE_NODE_PORT", 8545),
  explorerPort: option(values["explorer-port"], "TROUPE_EXPLORER_PORT", 4000),
  hostPortBase: option(values["host-port"], "TROUPE_HOST_PORT", 7101),
  providers: DEFAULT_PROFILES.slice(0, providerCount),
  log: (line) => console.log(`troupe  ${line}`),
});

// Ctrl-C, or SIGINT / SIGTERM to this process alone, stops every actor, also during start-up.
let market: LocalMarket | undefined = undefined;
let stopProgress = () => {};
let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  console.log("\ntroupe  stopping…");
  stopProgress();
  await (market ? market.stop() : startingProcesses?.stopAll());
  console.log("troupe  stopped");
  process.exit(0);
}
let startingProcesses: LocalMarket["processes"] | undefined;
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
process.on("SIGHUP", shutdown);

const t0 = Date.now();
console.log(`troupe  starting the local market on ${options.chain}${options.blockTime > 0 ? ` with a block every ${options.blockTime} s` : " (a block per transaction)"} (logs in ${join(options.dataDir, "logs")})`);
console.log("troupe  building the sample workloads (clang, AssemblyScript; first start only)…");
const built = ensureWorkloads();
console.log(`troupe  ${Object.keys(built).length} workloads ready`);
market = await startLocalMarket({ ...options, onProcesses: (p) => (startingProcesses = p) });
if (stopping) await new Promise(() => {});

console.log("troupe  funded local keys (Hardhat's public test mnemonic; use them on this chain only):");
for (const f of market.funded) {
  const key = f.index < 20 ? `account #${f.index}` : "";
  console.log(`troupe    ${key.padEnd(12)} ${f.address}  ${f.tokens > 0n ? `${formatUnits(f.tokens)} tokens, ` : ""}10000 ETH  ${f.role}`);
}
console.log("troupe    a consumer key: CONSUMER_KEY=$(npx troupe keys consumer)   other keys: npx troupe keys --help");
console.log(`troupe  explorer: ${market.explorerUrl}/  (GraphQL: ${market.explorerUrl}/graphql)`);
console.log(`troupe  RPC: ${market.rpcUrl}; deployment: ${market.deploymentFile}`);
console.log(`troupe  try: TROUPE_DEPLOYMENT=${market.deploymentFile} EXPLORER_URL=${market.explorerUrl}/graphql npx troupe market`);

stopProgress = watchMarket(market.provider, market.contracts, market.deployment.startBlock, (line) => console.log(`market  ${line}`));
market.processes.start({
  name: "demo-consumer",
  command: process.execPath,
  args: ["--import", "tsx", "scripts/local/demo-consumer.ts"],
  env: {
    CONSUMER_KEY: consumerAccount(0).privateKey,
    TROUPE_DEPLOYMENT: market.deploymentFile,
    RPC_URL: market.rpcUrl,
    EXPLORER_URL: `${market.explorerUrl}/graphql`,
    TROUPE_CONTENT_DIR: join(options.dataDir, "content"),
    TROUPE_CONSUMER_DIR: join(options.dataDir, "consumer"),
    DEMO_COUNT: String(option(values.deployments, "TROUPE_DEMO_COUNT", 0)),
    DEMO_CONCURRENCY: String(option(values.concurrency, "TROUPE_DEMO_CONCURRENCY", 2)),
    DEMO_INTERVAL_MS: String(option(values.interval, "TROUPE_DEMO_INTERVAL_MS", 4000)),
  },
});
console.log(`troupe  the market is ready (${Math.round((Date.now() - t0) / 1000)} s); the demo consumer is deploying. Ctrl-C stops everything.`);
