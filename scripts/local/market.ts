import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { parseUnits, type JsonRpcProvider } from "ethers";
import { connectMarket, connectRpc, readDeployment, type DeploymentInfo, type MarketContracts } from "../lib/deployment.js";
import { ProcessGroup, type ProcessSpec } from "./processes.js";
import { consumerAccount, LOCAL_ACCOUNTS, MAX_LOCAL_PROVIDERS, providerAccounts, verifierAccount, verifierIndex } from "./accounts.js";
import { endpointMetadata } from "../cli/commands/provider.js";
import { cachedModelPath } from "../lib/model-cache.js";
import { fundEther, nodeSpec, quietNode, setBlockTime, type ChainKind } from "./chain.js";
import { GAS_LIMITS, senderFor } from "../../contracts/client/sender.js";
import { signHostKeyProof } from "../../contracts/client/signing.js";
import { METERING_VERSION } from "../../runtime/wasm/cost-table.js";

const run = promisify(execFile);
/** What each local consumer key is minted at start. */
const CONSUMER_TOKENS = parseUnits("1000000");
const TSX = ["--import", "tsx"];
/** What each local verifier stakes in the court (tokens). */
const VERIFIER_STAKE = "200";

/**
 * The local market's contract parameters (README "Configuration"), over the defaults of a real
 * network: the token is mintable (the faucet), a newcomer's failure-rate prior weighs 0.1 token
 * (local jobs are worth fractions of a token: a 10-token prior would drown every record), and the
 * court's windows are short enough to watch a dispute end.
 */
export const LOCAL_PARAMETERS: Record<string, string | number | boolean> = {
  tokenMintable: true,
  priorValue: `${10n ** 17n}n`,
  minEscrow: `${10n ** 12n}n`,
  disputeWindow: 120,
  // a round moves on as soon as every seat has committed (or revealed): the windows only bound a slow verifier
  commitWindow: 60,
  revealWindow: 60,
  appealWindow: 20,
};

/** One provider of the local market: where it is and what it sells. */
export interface ProviderProfile {
  tier: number;
  region: number;
  price: string;
  fee: string;
  latencyClass: number;
  memoryMiB: number;
  concurrentJobs: number;
}

/** Cloud: cheap per fuel, far; edge: mid-priced, near; iot: nearest, small. */
export const DEFAULT_PROFILES: ProviderProfile[] = [
  { tier: 0, region: 1, price: "0.004", fee: "0.0005", latencyClass: 2, memoryMiB: 2048, concurrentJobs: 16 },
  { tier: 1, region: 2, price: "0.008", fee: "0.0008", latencyClass: 1, memoryMiB: 512, concurrentJobs: 8 },
  { tier: 2, region: 2, price: "0.006", fee: "0.0002", latencyClass: 0, memoryMiB: 128, concurrentJobs: 4 },
  { tier: 1, region: 3, price: "0.007", fee: "0.0006", latencyClass: 1, memoryMiB: 512, concurrentJobs: 8 },
  { tier: 0, region: 4, price: "0.005", fee: "0.0004", latencyClass: 2, memoryMiB: 4096, concurrentJobs: 16 },
];

export interface LocalMarketOptions {
  dataDir: string;
  /** Which node runs the chain (default hardhat). */
  chain: ChainKind;
  /** Seconds between blocks once the market is deployed; 0 = a block per transaction (automine). */
  blockTime: number;
  nodePort: number;
  explorerPort: number;
  hostPortBase: number;
  providers: ProviderProfile[];
  /** Seconds the host/agents/indexer wait between chain polls, in ms. */
  pollMs: number;
  /** Ignition module parameters over LOCAL_PARAMETERS (bigints as "123n"). */
  parameters?: Record<string, string | number | boolean>;
  /** Extra environment per host, by provider index (e.g. fault injection in tests). */
  hostEnv?: (index: number) => Record<string, string>;
  /** Directories besides `<dataDir>/content` and `.troupe/content` whose files the hosts and verifiers may read by file: URI. */
  contentDirs?: string[];
  /**
   * The endpoint the actors (hosts, agents, indexer) use, given the node's: by default the node
   * itself; a test puts a proxy in between to take the endpoint away under them.
   */
  actorRpcUrl?: (nodeUrl: string) => Promise<string>;
  /** Told the process group as soon as it exists (so a signal during start-up can stop it). */
  onProcesses?: (processes: ProcessGroup) => void;
  /** Start matchmaker agents (default true); without them tests bid themselves. */
  matchmakers?: boolean;
  log?: (line: string) => void;
}

export interface LocalMarket {
  deployment: DeploymentInfo;
  deploymentFile: string;
  rpcUrl: string;
  explorerUrl: string;
  provider: JsonRpcProvider;
  contracts: MarketContracts;
  processes: ProcessGroup;
  /** The owner address and host endpoint of each provider. */
  providers: { address: string; endpoint: string; profile: ProviderProfile }[];
  /** Which local keys hold what, for people to use (account index, address, what it is for). */
  funded: { index: number; address: string; role: string; tokens: bigint }[];
  stop(): Promise<void>;
}

export function defaultOptions(overrides: Partial<LocalMarketOptions> = {}): LocalMarketOptions {
  return {
    dataDir: resolve(".troupe/local"),
    chain: "hardhat",
    blockTime: 0,
    nodePort: 8545,
    explorerPort: 4000,
    hostPortBase: 7101,
    providers: DEFAULT_PROFILES.slice(0, 4),
    pollMs: 500,
    ...overrides,
  };
}

/**
 * Starts the whole local market: a Hardhat node, the contracts (Ignition), the indexer and the
 * explorer, and per provider a host daemon, a verifier agent and a matchmaker agent — each its own process.
 */
export async function startLocalMarket(options: LocalMarketOptions): Promise<LocalMarket> {
  const log = options.log ?? (() => {});
  if (options.providers.length > MAX_LOCAL_PROVIDERS) throw new Error(`the local chain has accounts for at most ${MAX_LOCAL_PROVIDERS} providers`);
  rmSync(options.dataDir, { recursive: true, force: true });
  mkdirSync(options.dataDir, { recursive: true });
  const processes = new ProcessGroup(join(options.dataDir, "logs"), (name, code) => log(`${name} exited (${code ?? "signal"})`));
  options.onProcesses?.(processes);
  const rpcUrl = `http://127.0.0.1:${options.nodePort}`;
  const deploymentFile = join(options.dataDir, "deployment.json");
  try {
    processes.start(nodeSpec(options.chain, options.nodePort));
    const provider = await waitFor(() => connectRpc(rpcUrl, 1000), 60_000, `the ${options.chain} node on ${rpcUrl}`);
    log(`chain up at ${rpcUrl} (${options.chain}; automining while the market is set up)`);
    await setBlockTime(rpcUrl, 0);
    await quietNode(rpcUrl);

    await run("npx", ["hardhat", "run", "--network", "localhost", "scripts/local/deploy.ts"], {
      env: { ...process.env, LOCAL_RPC_URL: rpcUrl, TROUPE_DEPLOYMENT: deploymentFile, TROUPE_PARAMETERS: JSON.stringify({ ...LOCAL_PARAMETERS, ...options.parameters }) },
    });
    const deployment = readDeployment(deploymentFile);
    log(`market deployed at ${deployment.addresses.market}`);
    const contracts = connectMarket(deployment, provider);

    const deployer = (await import("./accounts.js")).localAccount(0, provider);
    const minter = senderFor(deployer);
    const token = contracts.token.connect(deployer);
    const minted: Promise<unknown>[] = [];
    const mint = async (to: string, amount: bigint) => {
      const sent = await minter.send(await token.mint.populateTransaction(to, amount), { gasLimit: GAS_LIMITS.transfer, label: `mint to ${to}` });
      minted.push(sent.wait());
    };
    const funded: LocalMarket["funded"] = [{ index: 0, address: deployer.address, role: "deployer: mints tokens (troupe faucet)", tokens: 0n }];
    for (let i = 0; i < 4; i++) {
      const c = consumerAccount(i);
      await mint(c.address, CONSUMER_TOKENS);
      funded.push({ index: LOCAL_ACCOUNTS - 1 - i, address: c.address, role: i === 0 ? "consumer (the demo consumer uses it)" : "consumer", tokens: CONSUMER_TOKENS });
    }

    const actorRpc = options.actorRpcUrl ? await options.actorRpcUrl(rpcUrl) : rpcUrl;
    const model = options.matchmakers === false ? undefined : await bootstrapModel(log);
    const providers: LocalMarket["providers"] = [];
    for (const [i, profile] of options.providers.entries()) {
      const { owner, host, agent } = providerAccounts(i, provider);
      const endpoint = `http://127.0.0.1:${options.hostPortBase + i}`;
      await mint(owner.address, parseUnits("100000"));
      await Promise.all(minted);
      await registerLocalProvider(contracts, owner, host, agent.address, profile, endpoint);
      funded.push(
        { index: 1 + 3 * i, address: owner.address, role: `provider ${i} owner (staked 1000)`, tokens: parseUnits("99000") },
        { index: 2 + 3 * i, address: host.address, role: `provider ${i} host key (signs reports, pays their gas)`, tokens: 0n },
        { index: 3 + 3 * i, address: agent.address, role: `provider ${i} matchmaker agent (bids)`, tokens: 0n },
      );
      providers.push({ address: owner.address, endpoint, profile });
      processes.start(hostSpec(i, options, deployment, actorRpc, host.privateKey, owner.address));
      // Each provider also runs a verifier, with a key of its own: a verifier sharing the
      // provider's owner or host key would be excluded from every case about it.
      const verifier = verifierAccount(i, provider);
      await fundEther(rpcUrl, verifier.address);
      await mint(verifier.address, parseUnits(VERIFIER_STAKE));
      funded.push({ index: verifierIndex(i), address: verifier.address, role: `verifier ${i} (staked ${VERIFIER_STAKE} in the court)`, tokens: 0n });
      processes.start({
        name: `verifier-${i}`, command: process.execPath, args: [...TSX, "runtime/verifier/main.ts"],
        env: {
          RPC_URL: actorRpc, VERIFIER_KEY: verifier.privateKey, MARKET: deployment.addresses.market, STAKE: VERIFIER_STAKE,
          START_BLOCK: String(deployment.startBlock), DATA_DIR: join(options.dataDir, `verifier-${i}`),
          // Court windows are tens of seconds here: a poll a second keeps up.
          POLL_MS: String(Math.max(options.pollMs, 1000)),
          ...localFetchPolicy(options),
        },
      });
      if (model) {
        mkdirSync(join(options.dataDir, `matchmaker-${i}`), { recursive: true });
        copyFileSync(model, join(options.dataDir, `matchmaker-${i}`, "model.json"));
        processes.start(matchmakerSpec(i, options, deployment, actorRpc, agent.privateKey, owner.address));
      }
      log(`provider ${i} ${owner.address}: tier ${profile.tier}, region ${profile.region}, host ${endpoint}`);
    }

    await Promise.all(minted);
    if (options.blockTime > 0) {
      await setBlockTime(rpcUrl, options.blockTime);
      log(`a block every ${options.blockTime} s from now on`);
    }

    const db = join(options.dataDir, "indexer.db");
    processes.start({
      name: "indexer", command: process.execPath, args: [...TSX, "services/indexer/main.ts"],
      env: { RPC_URL: actorRpc, DEPLOYMENT_FILE: deploymentFile, DB_PATH: db, POLL_MS: String(options.pollMs) },
    });
    processes.start({
      name: "explorer", command: process.execPath, args: [...TSX, "services/explorer/main.ts"],
      env: { DB_PATH: db, PORT: String(options.explorerPort), HOST: "127.0.0.1" },
    });
    const explorerUrl = `http://127.0.0.1:${options.explorerPort}`;
    await waitFor(async () => {
      const res = await fetch(`${explorerUrl}/graphql`, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "{ _meta { block { number } } }" }),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
    }, 60_000, `the explorer on ${explorerUrl}`);
    await Promise.all(providers.map((p) => waitFor(async () => {
      if (!(await fetch(`${p.endpoint}/health`)).ok) throw new Error("not healthy");
    }, 60_000, `the host at ${p.endpoint}`)));
    if (model) {
      await Promise.all(providers.map((_, i) => processes.waitForLog(`matchmaker-${i}`, /matchmaker bidding for/, 120_000)));
    }
    log(`explorer at ${explorerUrl}`);

    return {
      deployment, deploymentFile, rpcUrl, explorerUrl, provider, contracts, processes, providers, funded,
      async stop() {
        provider.destroy();
        await processes.stopAll();
      },
    };
  } catch (error) {
    await processes.stopAll();
    throw error;
  }
}

async function registerLocalProvider(
  contracts: MarketContracts,
  owner: ReturnType<typeof providerAccounts>["owner"],
  host: ReturnType<typeof providerAccounts>["host"],
  agent: string,
  profile: ProviderProfile,
  endpoint: string,
) {
  const stake = parseUnits("1000");
  const sender = senderFor(owner);
  const block = await owner.provider!.getBlock("latest");
  const { chainId } = await owner.provider!.getNetwork();
  const proof = await signHostKeyProof(host, chainId, await contracts.registry.getAddress(), owner.address);
  // Sent back to back, each with a fixed gas cap (an estimate would not see the ones before it).
  const sent = [
    await sender.send(await contracts.token.approve.populateTransaction(await contracts.registry.getAddress(), stake), { gasLimit: GAS_LIMITS.approve }),
    await sender.send(await contracts.registry.register.populateTransaction(host.address, profile.tier, profile.region, stake, endpointMetadata(endpoint), proof), { gasLimit: 500_000n }),
    await sender.send(await contracts.registry.authoriseAgent.populateTransaction(agent, true), { gasLimit: 120_000n }),
    await sender.send(await contracts.offers.publish.populateTransaction({
      provider: owner.address,
      pricePerMFuel: parseUnits(profile.price),
      fee: parseUnits(profile.fee),
      maxFuel: 100_000_000_000n,
      memoryMiB: profile.memoryMiB,
      meteringVersion: METERING_VERSION,
      concurrentJobs: profile.concurrentJobs,
      latencyClass: profile.latencyClass,
      expiresAt: block!.timestamp + 365 * 86_400,
    }), { gasLimit: 400_000n }),
  ];
  await Promise.all(sent.map((t) => t.wait()));
}

function hostSpec(i: number, o: LocalMarketOptions, d: DeploymentInfo, rpcUrl: string, key: string, owner: string): ProcessSpec {
  return {
    name: `host-${i}`, command: process.execPath, args: [...TSX, "runtime/host/main.ts"],
    env: {
      RPC_URL: rpcUrl, HOST_KEY: key, PROVIDER: owner, MARKET: d.addresses.market, MARKET_START_BLOCK: String(d.startBlock),
      DATA_DIR: join(o.dataDir, `host-${i}`), HOST_PORT: String(o.hostPortBase + i), POLL_INTERVAL_MS: String(o.pollMs),
      // As many jobs at once as the offer sells: the job process pool still runs at most one module per core,
      // and the rest of a job (fetching, storing, signing, recording) waits on the disk and the chain, not the CPU.
      COSIGN_WAIT_MS: "3000", MAX_CONCURRENT_JOBS: String(o.providers[i]?.concurrentJobs ?? 2), ...localFetchPolicy(o), ...(o.hostEnv?.(i) ?? {}),
    },
  };
}

/**
 * Where the local market's hosts and verifiers may fetch from (runtime/host/README.md): the
 * directories its consumers publish to, and content served from this machine.
 */
function localFetchPolicy(o: LocalMarketOptions): Record<string, string> {
  return { CONTENT_DIRS: [join(o.dataDir, "content"), resolve(".troupe/content"), ...(o.contentDirs ?? [])].join(delimiter), FETCH_ALLOW_ADDRESSES: "127.0.0.0/8,::1" };
}

function matchmakerSpec(i: number, o: LocalMarketOptions, d: DeploymentInfo, rpcUrl: string, key: string, owner: string): ProcessSpec {
  return {
    name: `matchmaker-${i}`, command: process.execPath, args: [...TSX, "services/matchmaker/main.ts"],
    env: {
      RPC_URL: rpcUrl, AGENT_KEY: key, PROVIDERS: owner, MARKET: d.addresses.market, REGISTRY: d.addresses.registry,
      OFFERS: d.addresses.offers, START_BLOCK: String(d.startBlock), DATA_DIR: join(o.dataDir, `matchmaker-${i}`),
      // A local block is mined as soon as a bid arrives: one second is margin enough.
      POLL_MS: String(o.pollMs), BID_MARGIN_SEC: "1", EXPLORER_URL: `http://127.0.0.1:${o.explorerPort}/graphql`,
      // it fetches and checks a request's content before bidding, under its host's rules
      ...localFetchPolicy(o),
    },
  };
}

/** The matchmakers' starting model, trained once from the continuum simulator (see model-cache.ts); `npm test` trains it before the tests. */
export async function bootstrapModel(log: (line: string) => void): Promise<string> {
  const { dir, file } = cachedModelPath();
  if (!existsSync(file)) {
    log("training the matchmakers' model from the continuum simulator (first start only, about 1-2 min)…");
    const t0 = Date.now();
    const ticker = setInterval(() => log(`  …still training (${Math.round((Date.now() - t0) / 1000)} s)`), 15_000);
    try {
      await run(process.execPath, [...TSX, "services/matchmaker/main.ts", "train"], { env: { ...process.env, MODEL_PATH: file } });
    } finally {
      clearInterval(ticker);
    }
    log(`model trained in ${Math.round((Date.now() - t0) / 1000)} s, kept in ${file}`);
    // Models of earlier sources are of no further use.
    for (const old of readdirSync(dir)) if (/^matchmaker.*\.json$/.test(old) && join(dir, old) !== file) rmSync(join(dir, old), { force: true });
  }
  return file;
}

/** Retries `attempt` until it succeeds (returns without throwing) or `timeoutMs` passes. */
export async function waitFor<T>(attempt: () => Promise<T>, timeoutMs: number, what: string): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      return await attempt();
    } catch (error) {
      last = error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what} (last: ${last instanceof Error ? last.message : String(last)})`);
}
