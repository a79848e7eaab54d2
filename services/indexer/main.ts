import { NativeJsonRpcProvider } from "../../contracts/client/rpc.js";
import { loadSchemaModel } from "../common/entity-model.js";
import { indexerConfig } from "./config.js";
import { Indexer } from "./indexer.js";
import { loadSubgraphManifest } from "./mapping/manifest.js";
import { SyncRpcChain } from "./mapping/sync-rpc.js";
import { ensureSubgraphBuilt } from "./mapping/ensure-build.js";

/**
 * The embedded indexer: follows the market on RPC_URL into the SQLite file DB_PATH.
 * It runs the compiled subgraph (SUBGRAPH_MANIFEST, default subgraph/build/subgraph.yaml, built
 * first when missing or older than subgraph/src) with the deployment's addresses.
 * Env: RPC_URL, DEPLOYMENT_FILE or REGISTRY_ADDRESS + OFFERS_ADDRESS + MARKET_ADDRESS + COURT_ADDRESS
 * + MODELS_ADDRESS (+ START_BLOCK; without the court or the board, disputes or model updates go unindexed, with a warning),
 * DB_PATH, CONFIRMATIONS, POLL_MS, MAX_BLOCK_RANGE (blocks per getLogs). With ONCE=1 it catches up once and exits.
 */
async function main(): Promise<void> {
  const config = indexerConfig();
  if (!process.env.SUBGRAPH_MANIFEST) ensureSubgraphBuilt((m) => console.log(`indexer: ${m}`));
  const provider = new NativeJsonRpcProvider(config.rpcUrl, undefined, { staticNetwork: true });
  const indexer = new Indexer({
    provider,
    addresses: config.addresses,
    startBlock: config.startBlock,
    dbPath: config.dbPath,
    schema: loadSchemaModel(),
    manifest: loadSubgraphManifest(process.env.SUBGRAPH_MANIFEST || undefined),
    chain: new SyncRpcChain(config.rpcUrl),
    confirmations: config.confirmations,
    maxBlockRange: config.maxBlockRange,
    log: process.env.VERBOSE ? (m) => console.log(`indexer: ${m}`) : undefined,
  });
  const stop = new AbortController();
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => stop.abort());
  console.log(`indexer: ${config.rpcUrl} -> ${config.dbPath} from block ${indexer.checkpoint()?.number ?? config.startBlock}`);
  if (process.env.ONCE === "1") {
    const result = await indexer.syncOnce();
    console.log(`indexer: at block ${result.checkpoint?.number ?? "-"} (${result.applied} events)`);
  } else {
    await indexer.run(config.pollMs, stop.signal);
  }
  indexer.close();
  provider.destroy();
}

main().catch((error: unknown) => {
  console.error(`indexer: ${(error as Error).message}`);
  process.exit(1);
});
