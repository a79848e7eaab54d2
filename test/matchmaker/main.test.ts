/**
 * The entry point as a process against a chain served over RPC: `npm run matchmaker`'s script
 * bids on a posted request and serves the explanation, and `why-no-bid` reports on it.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HDNodeWallet, keccak256, toUtf8Bytes, type Signer } from "ethers";
import { startRpcNode, type RpcNode } from "../helpers/rpc-node.js";
import { deployMarket, type MarketDeployment } from "../../contracts/client/deploy.js";
import { offerTerms, requestParams, TOKEN } from "../helpers/market.js";
import { smallModel } from "./small-model.js";
import { signHostKeyProof } from "../../contracts/client/signing.js";
import { contentFields } from "./content.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";

function entry(args: string[], env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "services/matchmaker/main.ts"), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  return { child, output: () => output };
}

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("matchmaker entry point (npm run matchmaker)", function () {
  this.timeout(120_000);
  let node: RpcNode;
  let d: MarketDeployment;
  let env: Record<string, string>;
  let agent: ReturnType<typeof entry> | undefined;
  const dir = mkdtempSync(join(tmpdir(), "matchmaker-main-"));

  before(async () => {
    node = await startRpcNode();
    const [deployer, consumer, owner, host] = (await Promise.all([0, 1, 2, 3].map((i) => node.provider.getSigner(i)))) as Signer[];
    const agentWallet = HDNodeWallet.fromPhrase(HARDHAT_MNEMONIC, undefined, "m/44'/60'/0'/0/6");
    d = await deployMarket(deployer!, { tokenMintable: true });
    for (const who of [consumer!, owner!]) {
      await (await d.token.mint(await who.getAddress(), 10_000n * TOKEN)).wait();
      await (await d.token.connect(who).approve(d.addresses.market, 2n ** 255n)).wait();
      await (await d.token.connect(who).approve(d.addresses.registry, 2n ** 255n)).wait();
    }
    const now = async () => (await node.provider.getBlock("latest"))!.timestamp;
    const proof = await signHostKeyProof(host!, (await node.provider.getNetwork()).chainId, d.addresses.registry, await owner!.getAddress());
    await (await d.registry.connect(owner!).register(await host!.getAddress(), 1, 1, 1000n * TOKEN, "ipfs://a", proof)).wait();
    await (await d.registry.connect(owner!).authoriseAgent(agentWallet.address, true)).wait();
    await (await d.offers.connect(owner!).publish(offerTerms({}, await now()))).wait();
    await (await d.market.connect(consumer!).postRequest(requestParams({ bidWindow: 600, ...contentFields(join(dir, "published"), "job") }, await now()))).wait();
    const modelPath = join(dir, "model.json");
    smallModel().save(modelPath);
    env = {
      RPC_URL: node.url,
      AGENT_KEY: agentWallet.privateKey,
      PROVIDERS: await owner!.getAddress(),
      MARKET: d.addresses.market,
      REGISTRY: d.addresses.registry,
      OFFERS: d.addresses.offers,
      DATA_DIR: join(dir, "data"),
      MODEL_PATH: modelPath,
      START_BLOCK: String(d.startBlock),
      POLL_MS: "200",
      EXPLANATIONS_PORT: "0",
      CONTENT_DIRS: join(dir, "published"), // the agent reads file: content only where it was published
    };
  });

  after(async () => {
    agent?.child.kill("SIGKILL");
    await node?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("bids, serves the bid's explanation, answers why-no-bid, and stops on SIGTERM", async () => {
    agent = entry([], env);
    const url = await until("the explanation server", () => /explanations served at (\S+)\/explanations/.exec(agent!.output())?.[1], 30_000);
    const bid = await until("a bid", async () => (await d.market.queryFilter(d.market.filters.BidPlaced(1n)))[0], 30_000);
    const hash = bid.args.explanationHash;
    const res = await fetch(`${url}/explanations/${hash}`);
    expect(res.status).to.equal(200);
    const text = await res.text();
    expect(keccak256(toUtf8Bytes(text))).to.equal(hash);
    expect(JSON.parse(text)).to.include({ format: "troupe-bid-explanation/1", requestId: "1" });
    expect((await fetch(`${url}/explanations/0x${"0".repeat(64)}`)).status).to.equal(404);

    const why = entry(["why-no-bid", "1"], { ...env, AGENT_KEY: "", EXPLANATIONS_PORT: "" });
    const code = await new Promise((resolve) => why.child.on("exit", resolve));
    expect(code, why.output()).to.equal(0);
    expect(why.output()).to.match(/request 1: Open/);
    expect(why.output()).to.match(/already bid from offer 1/);

    agent.child.kill("SIGTERM");
    const exit = await new Promise((resolve) => agent!.child.on("exit", resolve));
    expect(exit, agent.output()).to.equal(0);
  });

  it("rejects a bad request id and bad configuration with a clear message", async () => {
    const bad = entry(["why-no-bid", "abc"], env);
    await new Promise((resolve) => bad.child.on("exit", resolve));
    expect(bad.output()).to.match(/usage: why-no-bid <requestId>/);
    const noMarket = entry(["why-no-bid", "1"], { ...env, MARKET: "nope" });
    await new Promise((resolve) => noMarket.child.on("exit", resolve));
    expect(noMarket.output()).to.match(/MARKET is not an address: nope/);
  });
});
