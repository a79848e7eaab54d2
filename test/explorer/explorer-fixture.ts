import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRpcNode, type RpcNode } from "../helpers/rpc-node.js";
import { loadSchemaModel } from "../../services/common/entity-model.js";
import { Indexer } from "../../services/indexer/indexer.js";
import { startExplorer, type RunningExplorer } from "../../services/explorer/server.js";
import { runMarketScenario, type Scenario } from "../indexer/market-scenario.js";

/** A chain with the scripted market, indexed, and the explorer serving it. */
export interface ExplorerFixture {
  node: RpcNode;
  scenario: Scenario;
  indexer: Indexer;
  explorer: RunningExplorer;
  dbPath: string;
  /** Runs a query; returns the HTTP status and the JSON body. */
  query(query: string, variables?: Record<string, unknown>): Promise<{ status: number; body: GraphQLBody }>;
  /** Runs a query that must succeed; returns its data. */
  data(query: string, variables?: Record<string, unknown>): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: { message: string }[];
}

export async function explorerFixture(): Promise<ExplorerFixture> {
  const node = await startRpcNode();
  const scenario = await runMarketScenario(node.provider);
  const dir = mkdtempSync(join(tmpdir(), "troupe-explorer-"));
  const dbPath = join(dir, "index.db");
  const schema = loadSchemaModel();
  const indexer = new Indexer({
    provider: node.provider,
    addresses: scenario.deployment.addresses,
    startBlock: scenario.deployment.startBlock,
    dbPath,
    schema,
    warn: (m) => {
      throw new Error(`unexpected indexer warning: ${m}`);
    },
  });
  await indexer.syncOnce();
  const explorer = await startExplorer({ dbPath, schema });
  const query = async (q: string, variables?: Record<string, unknown>) => {
    const res = await fetch(`${explorer.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ query: q, variables }),
    });
    return { status: res.status, body: (await res.json()) as GraphQLBody };
  };
  return {
    node,
    scenario,
    indexer,
    explorer,
    dbPath,
    query,
    async data(q, variables) {
      const { status, body } = await query(q, variables);
      if (status !== 200 || body.errors) throw new Error(`query failed (${status}): ${JSON.stringify(body.errors)}`);
      return body.data!;
    },
    async close() {
      await explorer.close();
      indexer.close();
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
