import { readFileSync } from "node:fs";
import { isAddress } from "ethers";
import type { MarketAddresses } from "./indexer.js";

export interface IndexerConfig {
  rpcUrl: string;
  addresses: MarketAddresses;
  startBlock: number;
  dbPath: string;
  confirmations: number;
  pollMs: number;
  maxBlockRange: number;
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

function address(value: unknown, name: string): string {
  if (typeof value !== "string" || !isAddress(value)) throw new Error(`${name} must be a contract address, got ${JSON.stringify(value)}`);
  return value;
}

/** Reads a deployment file: `{ addresses: { registry, offers, market, court, models }, startBlock }` or the same keys flat. */
function fromDeploymentFile(path: string): { addresses: MarketAddresses; startBlock: number } {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`DEPLOYMENT_FILE ${path} is not readable JSON (${(error as Error).message})`);
  }
  const a = (json.addresses ?? json) as Record<string, unknown>;
  const startBlock = Number(json.startBlock ?? 0);
  if (!Number.isSafeInteger(startBlock) || startBlock < 0) throw new Error(`DEPLOYMENT_FILE ${path}: bad startBlock`);
  const addresses: MarketAddresses = {
    registry: address(a.registry, `${path}: registry`),
    offers: address(a.offers, `${path}: offers`),
    market: address(a.market, `${path}: market`),
    court: a.court === undefined ? undefined : address(a.court, `${path}: court`),
    models: a.models === undefined ? undefined : address(a.models, `${path}: models`),
  };
  // Further contracts (new data sources) by their deployment key or data source name.
  for (const [k, v] of Object.entries(a)) if (!(k in addresses) && typeof v === "string" && isAddress(v)) addresses[k] = v;
  return { addresses, startBlock };
}

/** The indexer's configuration from the environment; a bad value is an error naming the variable. */
export function indexerConfig(env: Env = process.env): IndexerConfig {
  const deployment = env.DEPLOYMENT_FILE
    ? fromDeploymentFile(env.DEPLOYMENT_FILE)
    : {
        addresses: {
          registry: address(env.REGISTRY_ADDRESS, "REGISTRY_ADDRESS"),
          offers: address(env.OFFERS_ADDRESS, "OFFERS_ADDRESS"),
          market: address(env.MARKET_ADDRESS, "MARKET_ADDRESS"),
          court: env.COURT_ADDRESS ? address(env.COURT_ADDRESS, "COURT_ADDRESS") : undefined,
          models: env.MODELS_ADDRESS ? address(env.MODELS_ADDRESS, "MODELS_ADDRESS") : undefined,
        },
        startBlock: integer(env, "START_BLOCK", 0),
      };
  return {
    rpcUrl: env.RPC_URL ?? "http://127.0.0.1:8545",
    ...deployment,
    startBlock: env.START_BLOCK ? integer(env, "START_BLOCK", 0) : deployment.startBlock,
    dbPath: env.DB_PATH ?? ".troupe/indexer.db",
    confirmations: integer(env, "CONFIRMATIONS", 0),
    pollMs: integer(env, "POLL_MS", 1000),
    maxBlockRange: Math.max(1, integer(env, "MAX_BLOCK_RANGE", 2000)),
  };
}
