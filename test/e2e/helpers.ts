import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_PROFILES, defaultOptions, startLocalMarket, waitFor, type LocalMarket, type LocalMarketOptions } from "../../scripts/local/market.js";
import type { ChainKind } from "../../scripts/local/chain.js";

/** A chain the end-to-end suites run on: which node, and seconds between blocks (0 = automine). */
export interface ChainCase {
  chain: ChainKind;
  blockTime: number;
}

export const describeChain = (c: ChainCase) => `${c.chain}, ${c.blockTime > 0 ? `a block every ${c.blockTime} s` : "automine"}`;

const ALL: ChainCase[] = [
  { chain: "hardhat", blockTime: 0 }, { chain: "anvil", blockTime: 2 }, { chain: "anvil", blockTime: 0 }, { chain: "hardhat", blockTime: 2 },
];

/**
 * The test matrix: each suite runs on both nodes and on both cadences, paired so that every node
 * meets every cadence while `npm test` stays within its time (happy path: hardhat automine and
 * anvil with 2 s blocks; faults: anvil automine and hardhat with 2 s blocks).
 * TROUPE_E2E_MATRIX=full runs every suite on all four.
 */
export const E2E_MATRIX: { happy: ChainCase[]; faults: ChainCase[] } = process.env.TROUPE_E2E_MATRIX === "full"
  ? { happy: ALL, faults: ALL }
  : { happy: [ALL[0]!, ALL[1]!], faults: [ALL[2]!, ALL[3]!] };

/**
 * The matrix's chains of one cadence. Each suite has a test file per cadence, so that `npm test`,
 * which runs test files in parallel processes, runs a suite's chains at the same time.
 */
export const ofCadence = (cases: ChainCase[], cadence: "automine" | "blocks") => cases.filter((c) => (c.blockTime > 0) === (cadence === "blocks"));

/**
 * A port nobody listens on right now, and `count - 1` free ones after it. Drawn below Linux's
 * ephemeral range (32768 and up), so that no connection or `listen(0)` of a test file running in
 * parallel takes one of them between this check and the market's start.
 */
export async function freePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * (12_000 - count));
    const ports = Array.from({ length: count }, (_, i) => base + i);
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) return base;
  }
  throw new Error("no free port range found");
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** Starts a local market on free ports in a fresh directory. */
export async function startTestMarket(overrides: Partial<LocalMarketOptions> = {}): Promise<LocalMarket> {
  const providers = overrides.providers ?? DEFAULT_PROFILES.slice(0, 2);
  const base = await freePorts(2 + providers.length);
  return startLocalMarket(defaultOptions({
    dataDir: mkdtempSync(join(tmpdir(), "troupe-e2e-")),
    nodePort: base,
    explorerPort: base + 1,
    hostPortBase: base + 2,
    providers,
    pollMs: 250,
    // Nobody appeals in these tests: a short appeal window closes a decided case sooner.
    parameters: { disputeWindow: 30, commitWindow: 60, revealWindow: 60, appealWindow: 5 },
    // the tests' consumers publish to fresh temporary directories (TROUPE_CONTENT_DIR)
    contentDirs: [tmpdir()],
    ...overrides,
  }));
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `troupe …` as its own process, the way a user does. */
export function runCli(args: string[], env: Record<string, string>, timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["scripts/cli/troupe.mjs", ...args],
      { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Asks the explorer's GraphQL API. */
export async function graphql<T>(explorerUrl: string, query: string): Promise<T> {
  const res = await fetch(`${explorerUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query }),
  });
  const answer = (await res.json()) as { data?: T; errors?: { message: string }[] };
  if (answer.errors?.length || !answer.data) throw new Error(`GraphQL: ${answer.errors?.[0]?.message ?? "no data"}`);
  return answer.data;
}

/** Polls `check` until it returns a value (not undefined) or the time runs out. */
export function eventually<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  return waitFor(async () => {
    const value = await check();
    if (value === undefined) throw new Error("not yet");
    return value;
  }, timeoutMs, what);
}
