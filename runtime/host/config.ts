import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { uriPolicyFromEnv, type UriPolicy } from "./uri-policy.js";
import { getAddress, isHexString, Wallet } from "ethers";

/** Where the daemon's crash-test hook pauses, so a test can SIGKILL it at that exact point. */
export type CrashPoint = "after-outbox" | "after-send";

/** The host daemon's configuration, from the environment (see `loadHostConfig`). */
export interface HostConfig {
  rpcUrl: string;
  hostKey: string;
  provider: string;
  market: string;
  startBlock: number;
  dataDir: string;
  port: number;
  bind: string;
  pollIntervalMs: number;
  logRange: number;
  confirmations: number;
  jobTimeoutMs: number;
  fetchTimeoutMs: number;
  maxModuleBytes: number;
  maxInputBytes: number;
  /** Where `file:` URIs may read and which non-public addresses http(s) may reach. */
  fetchPolicy: UriPolicy;
  /** Tries to fetch a job's content before it is reported unavailable, and the first wait between them. */
  fetchAttempts: number;
  fetchRetryMs: number;
  maxJobAttempts: number;
  maxConcurrentJobs: number;
  cosignWaitMs: number;
  maxBackoffMs: number;
  crashPoint?: CrashPoint;
}

/** Bad configuration: the message names the variable and what is wrong with it. */
export class ConfigError extends Error {}

const MiB = 1024 * 1024;

/**
 * Reads the configuration from environment variables:
 *
 *   RPC_URL             JSON-RPC endpoint (required)
 *   HOST_KEY            the host key, 0x + 64 hex digits; or HOST_KEYSTORE (a JSON keystore file)
 *                       with HOST_KEYSTORE_PASSWORD
 *   PROVIDER            the provider address whose agreements to serve (required)
 *   MARKET              the market contract address (required)
 *   MARKET_START_BLOCK  the first block to scan (default 0)
 *   DATA_DIR            outbox, jobs, content store, checkpoint (default .troupe/host)
 *   HOST_PORT           output server port (default 8600; 0 picks a free one); HOST_BIND (default 127.0.0.1)
 *   POLL_INTERVAL_MS    chain polling interval (default 2000)
 *   LOG_RANGE           widest getLogs range in blocks (default 2000); CONFIRMATIONS (default 0)
 *   JOB_TIMEOUT_MS      wall-clock watchdog per job (default 60000); FETCH_TIMEOUT_MS (default 30000)
 *   MAX_MODULE_BYTES    (default 32 MiB); MAX_INPUT_BYTES (default 64 MiB)
 *   CONTENT_DIRS        directories file: URIs may be read from (path-delimited; default none: file: is refused)
 *   FETCH_ALLOW_ADDRESSES  addresses or ranges (comma-separated, e.g. 127.0.0.0/8,::1) http(s) may reach
 *                       although they are loopback, private, link-local, unspecified or multicast (default none)
 *   FETCH_ATTEMPTS      tries before a job's content counts as unavailable (default 3); FETCH_RETRY_MS the
 *                       first wait between them, doubling (default 1000)
 *   MAX_JOB_ATTEMPTS    runs of a job ending in a host fault before it is given up (default 3)
 *   MAX_CONCURRENT_JOBS jobs in progress at once: fetching, running, storing, signing (default 1; the job
 *                       process pool runs at most one module per core among them)
 *   COSIGN_WAIT_MS      how long a report waits for the consumer's co-signature (default 0)
 *   MAX_BACKOFF_MS      the longest wait between reconnection attempts (default 30000)
 */
export async function loadHostConfig(env: NodeJS.ProcessEnv = process.env): Promise<HostConfig> {
  const crash = env.TROUPE_HOST_CRASH_POINT || undefined;
  if (crash !== undefined && crash !== "after-outbox" && crash !== "after-send") {
    throw new ConfigError(`TROUPE_HOST_CRASH_POINT must be after-outbox or after-send, not ${JSON.stringify(crash)}`);
  }
  return {
    rpcUrl: httpUrl(env, "RPC_URL"),
    hostKey: await hostKey(env),
    provider: address(env, "PROVIDER"),
    market: address(env, "MARKET"),
    startBlock: integer(env, "MARKET_START_BLOCK", 0, 0),
    dataDir: resolve(env.DATA_DIR || ".troupe/host"),
    port: integer(env, "HOST_PORT", 8600, 0, 65535),
    bind: env.HOST_BIND || "127.0.0.1",
    pollIntervalMs: integer(env, "POLL_INTERVAL_MS", 2000, 10),
    logRange: integer(env, "LOG_RANGE", 2000, 1),
    confirmations: integer(env, "CONFIRMATIONS", 0, 0),
    jobTimeoutMs: integer(env, "JOB_TIMEOUT_MS", 60_000, 1),
    fetchTimeoutMs: integer(env, "FETCH_TIMEOUT_MS", 30_000, 1),
    maxModuleBytes: integer(env, "MAX_MODULE_BYTES", 32 * MiB, 1),
    maxInputBytes: integer(env, "MAX_INPUT_BYTES", 64 * MiB, 1),
    fetchPolicy: fetchPolicy(env),
    fetchAttempts: integer(env, "FETCH_ATTEMPTS", 3, 1, 20),
    fetchRetryMs: integer(env, "FETCH_RETRY_MS", 1000, 0),
    maxJobAttempts: integer(env, "MAX_JOB_ATTEMPTS", 3, 1),
    maxConcurrentJobs: integer(env, "MAX_CONCURRENT_JOBS", 1, 1, 256),
    cosignWaitMs: integer(env, "COSIGN_WAIT_MS", 0, 0),
    maxBackoffMs: integer(env, "MAX_BACKOFF_MS", 30_000, 1),
    ...(crash ? { crashPoint: crash } : {}),
  };
}

function fetchPolicy(env: NodeJS.ProcessEnv): UriPolicy {
  try {
    return uriPolicyFromEnv(env);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value === "") throw new ConfigError(`${name} is not set`);
  return value;
}

function httpUrl(env: NodeJS.ProcessEnv, name: string): string {
  const value = required(env, name);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} is not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new ConfigError(`${name} must be http(s)://, not ${url.protocol}`);
  return value;
}

function address(env: NodeJS.ProcessEnv, name: string): string {
  const value = required(env, name);
  try {
    return getAddress(value);
  } catch {
    throw new ConfigError(`${name} is not an address: ${JSON.stringify(value)}`);
  }
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = env[name];
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(value)}`);
  }
  return n;
}

async function hostKey(env: NodeJS.ProcessEnv): Promise<string> {
  if (env.HOST_KEY) {
    if (!isHexString(env.HOST_KEY, 32)) throw new ConfigError("HOST_KEY must be 0x followed by 64 hex digits");
    return env.HOST_KEY;
  }
  if (!env.HOST_KEYSTORE) throw new ConfigError("HOST_KEY (or HOST_KEYSTORE with HOST_KEYSTORE_PASSWORD) is not set");
  let json: string;
  try {
    json = readFileSync(env.HOST_KEYSTORE, "utf8");
  } catch (error) {
    throw new ConfigError(`HOST_KEYSTORE ${env.HOST_KEYSTORE} cannot be read: ${(error as Error).message}`);
  }
  try {
    return (await Wallet.fromEncryptedJson(json, env.HOST_KEYSTORE_PASSWORD ?? "")).privateKey;
  } catch (error) {
    throw new ConfigError(`HOST_KEYSTORE ${env.HOST_KEYSTORE} cannot be decrypted: ${(error as Error).message}`);
  }
}
