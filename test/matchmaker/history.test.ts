/**
 * The history loader against the real explorer: a chain served over RPC, a small market history
 * (one settled agreement, one breached), the indexer and the explorer run as their own processes
 * through their entry points, and the matchmaker's GraphQL client reads them back.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ZeroHash, keccak256, type Signer } from "ethers";
import { startRpcNode, type RpcNode } from "../helpers/rpc-node.js";
import { deployMarket, type MarketDeployment } from "../../contracts/client/deploy.js";
import { signHostKeyProof, signUsageAcceptance, signUsageReport } from "../../contracts/client/signing.js";
import { Outcome } from "../../contracts/client/typed-data.js";
import { offerTerms, requestParams, TOKEN } from "../helpers/market.js";
import { ExplorerClient, GraphQLError } from "../../services/matchmaker/history.js";

const ROOT = new URL("../../", import.meta.url).pathname;

function runEntry(file: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", join(ROOT, file)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function finished(child: ChildProcess): Promise<{ code: number | null; output: string }> {
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, output })));
}

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms; output: ${output}`)), timeoutMs);
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = pattern.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("exit", (code) => reject(new Error(`exited with ${code} before ${pattern}; output: ${output}`)));
  });
}

describe("matchmaker history from the explorer's GraphQL API", function () {
  this.timeout(120_000);
  let node: RpcNode;
  let d: MarketDeployment;
  let explorer: ChildProcess | undefined;
  let url: string;
  let providerA: string;
  let providerB: string;
  const dir = mkdtempSync(join(tmpdir(), "matchmaker-history-"));

  before(async () => {
    node = await startRpcNode();
    const s = (i: number) => node.provider.getSigner(i) as Promise<Signer>;
    const [deployer, consumer, ownerA, ownerB, hostA, hostB] = await Promise.all([0, 1, 2, 3, 4, 5].map(s));
    d = await deployMarket(deployer!, { tokenMintable: true });
    const market = await d.market.getAddress();
    const registry = await d.registry.getAddress();
    for (const who of [consumer!, ownerA!, ownerB!]) {
      await (await d.token.mint(await who.getAddress(), 10_000n * TOKEN)).wait();
      await (await d.token.connect(who).approve(market, 2n ** 255n)).wait();
      await (await d.token.connect(who).approve(registry, 2n ** 255n)).wait();
    }
    providerA = (await ownerA!.getAddress()).toLowerCase();
    providerB = (await ownerB!.getAddress()).toLowerCase();
    const now = async () => (await node.provider.getBlock("latest"))!.timestamp;
    const advance = async (sec: number) => {
      await node.provider.send("evm_increaseTime", [sec]);
      await node.provider.send("evm_mine", []);
    };
    const chainId = (await node.provider.getNetwork()).chainId;
    const proof = async (owner: Signer, host: Signer) => signHostKeyProof(host, chainId, registry, await owner.getAddress());
    await (await d.registry.connect(ownerA!).register(await hostA!.getAddress(), 1, 2, 1000n * TOKEN, "ipfs://a", await proof(ownerA!, hostA!))).wait();
    await (await d.registry.connect(ownerB!).register(await hostB!.getAddress(), 2, 4, 1000n * TOKEN, "ipfs://b", await proof(ownerB!, hostB!))).wait();
    await (await d.offers.connect(ownerA!).publish(offerTerms({}, await now()))).wait();
    await (await d.offers.connect(ownerB!).publish(offerTerms({ concurrentJobs: 1 }, await now()))).wait();
    // Request 1: A wins and settles with a cosigned report.
    await (await d.market.connect(consumer!).postRequest(requestParams({ region: 2 }, await now()))).wait();
    await (await d.market.connect(ownerA!).bid(1n, 1n, TOKEN / 100n, TOKEN / 1000n, ZeroHash)).wait();
    // Request 2: B wins and never reports: a breach.
    await (await d.market.connect(consumer!).postRequest(requestParams({ region: 4, execTime: 200, deadline: (await now()) + 300 }, await now()))).wait();
    await (await d.market.connect(ownerB!).bid(2n, 2n, TOKEN / 100n, TOKEN / 1000n, ZeroHash)).wait();
    await advance(61);
    await (await d.market.closeAuction(1n)).wait();
    await (await d.market.closeAuction(2n)).wait();
    const report = {
      agreementId: 1n, fuelUsed: 600_000_000n, peakMemoryPages: 4, wallMs: 3_000, outcome: Outcome.Exited,
      exitCode: 0, outputHash: keccak256("0x01"), meteringVersion: 1, nonce: 1n,
    };
    const ctx = { chainId, market };
    await (await d.market.reportAndSettle(report, await signUsageReport(hostA!, ctx, report), await signUsageAcceptance(consumer!, ctx, report))).wait();
    await advance(400);
    await (await d.market.claimBreach(2n)).wait();

    const dbPath = join(dir, "indexer.db");
    const indexer = finished(
      runEntry("services/indexer/main.ts", {
        RPC_URL: node.url,
        DB_PATH: dbPath,
        MARKET_ADDRESS: market,
        REGISTRY_ADDRESS: registry,
        OFFERS_ADDRESS: await d.offers.getAddress(),
        START_BLOCK: String(d.startBlock),
        ONCE: "1",
      }),
    );
    const { code, output } = await indexer;
    expect(code, output).to.equal(0);
    explorer = runEntry("services/explorer/main.ts", { DB_PATH: dbPath, PORT: "0" });
    const m = await waitForLine(explorer, /explorer: (http:\/\/\S+?)\/? /, 30_000);
    url = `${m[1]}/graphql`;
  });

  after(async () => {
    explorer?.kill("SIGTERM");
    await node?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads provider statistics for features", async () => {
    const stats = await new ExplorerClient(url).providerStats([providerA, providerB.toUpperCase().replace("0X", "0x")]);
    expect(stats.get(providerA)).to.deep.equal({
      completed: 1, breached: 0, disputesWon: 0, disputesLost: 0, fuelReported: 600_000_000, wallMsReported: 3_000,
      // Not in the explorer's schema (yet): the agent reads the value-weighted record from the registry.
      completedValue: 0, failedValue: 0,
    });
    expect(stats.get(providerB)).to.include({ completed: 0, breached: 1, fuelReported: 0 });
  });

  it("turns finished agreements into labelled training samples", async () => {
    const samples = await new ExplorerClient(url).outcomeSamples(100, 1);
    expect(samples).to.have.length(2);
    const [settled, breached] = samples;
    expect(settled!.met).to.equal(true);
    expect(settled!.runtimeSec).to.equal(3);
    expect(settled!.candidate.offer).to.include({ tier: 1, region: 2, pricePerMFuel: 0.01, memoryMiB: 256 });
    expect(settled!.candidate.request).to.include({ region: 2, maxFuel: 1e9, maxPricePerMFuel: 0.05 });
    expect(breached!.met).to.equal(false);
    expect(breached!.candidate.offer).to.include({ tier: 2, concurrentJobs: 1 });
    expect(breached!.runtimeSec).to.be.greaterThan(breached!.candidate.request.deadline - breached!.candidate.request.bidWindowEnd);
  });

  it("names the problem when the explorer is unreachable or answers with an error", async () => {
    const failure = async (client: ExplorerClient) => {
      try {
        await client.providerStats([providerA]);
      } catch (error) {
        expect(error).to.be.instanceOf(GraphQLError);
        return (error as Error).message;
      }
      throw new Error("expected the query to fail");
    };
    expect(await failure(new ExplorerClient("http://127.0.0.1:9/graphql", 2_000))).to.match(/unreachable/);
    expect(await failure(new ExplorerClient(url.replace(/\/graphql$/, "/no-such-endpoint")))).to.match(/answered HTTP 404/);
  });
});
