/** The agent's configuration from the environment, with an error naming each bad variable. */
import { uriPolicyFromEnv, type UriPolicy } from "../../runtime/host/uri-policy.js";
import { isAddress } from "ethers";
import { join } from "node:path";

export interface MatchmakerConfig {
  rpcUrl: string;
  agentKey: string;
  providers: string[];
  market: string;
  registry: string;
  offers: string;
  explorerUrl?: string;
  dataDir: string;
  modelPath: string;
  startBlock: number;
  pollMs: number;
  /** skip requests whose bid window closes within this many seconds (a bid must be mined in time) */
  bidMarginSec: number;
  /** serve explanations (and model updates) over HTTP on this port (unset: don't) */
  explanationsPort?: number;
  /** the ModelUpdates contract: federated learning with the other agents (unset: the agent learns alone) */
  modelUpdates?: string;
  /** how often the peers' model updates are merged, in seconds */
  federatedMergeSec: number;
  /** the URL this agent's stores are served under, announced with its model updates (default file://) */
  publicUrl?: string;
  /**
   * Where fetched modules and inputs are cached by sha-256 (default `$DATA_DIR/content`; point it
   * at the host's store to fetch each blob once for both, and to see inputs handed to the host).
   */
  contentDir: string;
  /** the largest module / input the agent fetches and bids on (match the host's MAX_MODULE_BYTES / MAX_INPUT_BYTES) */
  maxModuleBytes: number;
  maxInputBytes: number;
  /** how long one content fetch may take, in ms */
  fetchTimeoutMs: number;
  /**
   * Where content may be fetched from, read like the host's (`CONTENT_DIRS` for file: URIs,
   * `FETCH_ALLOW_ADDRESSES` for http(s) to private addresses; runtime/host/README.md): the agent
   * bids only on what its host would be allowed to fetch.
   */
  fetchPolicy: UriPolicy;
}

export class ConfigError extends Error {}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name]?.trim();
  if (!v) throw new ConfigError(`${name} is not set`);
  return v;
}

function address(env: NodeJS.ProcessEnv, name: string): string {
  const v = required(env, name);
  if (!isAddress(v)) throw new ConfigError(`${name} is not an address: ${v}`);
  return v;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const v = env[name]?.trim();
  if (!v) return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new ConfigError(`${name} must be an integer of at least ${min}, got ${v}`);
  return n;
}

/** The host's URI policy from the same variables; a bad entry is a configuration error. */
function uriPolicy(env: NodeJS.ProcessEnv): UriPolicy {
  try {
    return uriPolicyFromEnv(env);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

const MiB = 1024 * 1024;

/** Reads the config; `needsKey: false` for read-only commands (why-no-bid may run without AGENT_KEY). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, needsKey = true): MatchmakerConfig {
  const providers = required(env, "PROVIDERS")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const p of providers) if (!isAddress(p)) throw new ConfigError(`PROVIDERS has a non-address entry: ${p}`);
  const agentKey = needsKey ? required(env, "AGENT_KEY") : (env.AGENT_KEY?.trim() ?? "");
  if (agentKey && !/^(0x)?[0-9a-fA-F]{64}$/.test(agentKey)) throw new ConfigError("AGENT_KEY is not a 32-byte hex private key");
  const dataDir = env.DATA_DIR?.trim() || ".troupe/matchmaker";
  const cfg: MatchmakerConfig = {
    rpcUrl: required(env, "RPC_URL"),
    agentKey,
    providers,
    market: address(env, "MARKET"),
    registry: address(env, "REGISTRY"),
    offers: address(env, "OFFERS"),
    dataDir,
    modelPath: env.MODEL_PATH?.trim() || join(dataDir, "model.json"),
    startBlock: integer(env, "START_BLOCK", 0),
    pollMs: integer(env, "POLL_MS", 2_000),
    bidMarginSec: integer(env, "BID_MARGIN_SEC", 2),
    federatedMergeSec: integer(env, "FEDERATED_MERGE_SEC", 300),
    contentDir: env.CONTENT_DIR?.trim() || join(dataDir, "content"),
    maxModuleBytes: integer(env, "MAX_MODULE_BYTES", 32 * MiB, 1),
    maxInputBytes: integer(env, "MAX_INPUT_BYTES", 64 * MiB, 1),
    fetchTimeoutMs: integer(env, "FETCH_TIMEOUT_MS", 30_000, 1),
    fetchPolicy: uriPolicy(env),
  };
  if (env.MODEL_UPDATES?.trim()) cfg.modelUpdates = address(env, "MODEL_UPDATES");
  if (env.PUBLIC_URL?.trim()) cfg.publicUrl = env.PUBLIC_URL.trim().replace(/\/+$/, "");
  if (env.EXPLORER_URL?.trim()) cfg.explorerUrl = env.EXPLORER_URL.trim();
  if (env.EXPLANATIONS_PORT?.trim()) cfg.explanationsPort = integer(env, "EXPLANATIONS_PORT", 0);
  return cfg;
}
