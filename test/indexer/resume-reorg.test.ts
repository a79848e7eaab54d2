import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { startRpcNode, type RpcNode } from "../helpers/rpc-node.js";
import { loadSchemaModel } from "../../services/common/entity-model.js";
import { Indexer, type IndexerOptions } from "../../services/indexer/indexer.js";
import { runMarketScenario, type Scenario } from "./market-scenario.js";
import { dumpIndex } from "./db-dump.js";

const schema = loadSchemaModel();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Mines `n` empty blocks one by one (hardhat_mine's reserved blocks are no ordinary chain). */
async function mineBlocks(node: RpcNode, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await node.provider.send("evm_mine", []);
}

function checkpointOf(path: string): number {
  if (!existsSync(path)) return -1;
  try {
    const db = new Database(path, { readonly: true, timeout: 1000 });
    try {
      const row = db.prepare("SELECT value FROM _meta WHERE key = 'checkpoint'").get() as { value: string } | undefined;
      return row ? (JSON.parse(row.value) as { number: number }).number : -1;
    } finally {
      db.close();
    }
  } catch {
    return -1; // the tables may not exist yet
  }
}

describe("indexer: resume after a kill, roll back after a reorg", function () {
  this.timeout(180_000);
  let node: RpcNode;
  let scenario: Scenario;
  let dir: string;
  const children: ChildProcess[] = [];
  /** Waits until `done()` holds, failing after `ms` instead of hanging the suite. */
  const waitFor = async (what: string, done: () => boolean, ms = 60_000) => {
    const deadline = Date.now() + ms;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(5);
    }
  };
  const options = (dbPath: string, extra: Partial<IndexerOptions> = {}): IndexerOptions => ({
    provider: node.provider,
    addresses: scenario.deployment.addresses,
    startBlock: scenario.deployment.startBlock,
    dbPath,
    schema,
    maxBlockRange: 1,
    warn: (m) => {
      throw new Error(`unexpected warning: ${m}`);
    },
    ...extra,
  });
  const indexOnce = async (dbPath: string) => {
    const indexer = new Indexer(options(dbPath, { maxBlockRange: 500 }));
    await indexer.syncOnce();
    indexer.close();
    return dumpIndex(dbPath, schema);
  };

  before(async () => {
    node = await startRpcNode();
    scenario = await runMarketScenario(node.provider);
    dir = mkdtempSync(join(tmpdir(), "troupe-resume-"));
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await node?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("a child indexer killed with SIGKILL mid-way and restarted ends with exactly the data of an uninterrupted run", async () => {
    // Empty blocks after the market stretch the run, so the kills land mid-way.
    await mineBlocks(node, 200);
    const head = (await node.provider.getBlock("latest"))!.number;
    const reference = await indexOnce(join(dir, "reference.db"));

    const dbPath = join(dir, "killed.db");
    const env = {
      ...process.env,
      RPC_URL: node.url,
      REGISTRY_ADDRESS: scenario.deployment.addresses.registry,
      OFFERS_ADDRESS: scenario.deployment.addresses.offers,
      MARKET_ADDRESS: scenario.deployment.addresses.market,
      COURT_ADDRESS: scenario.deployment.addresses.court,
      MODELS_ADDRESS: scenario.deployment.addresses.models,
      START_BLOCK: String(scenario.deployment.startBlock),
      DB_PATH: dbPath,
      MAX_BLOCK_RANGE: "1",
      POLL_MS: "50",
    };
    const spawnIndexer = (): ChildProcess => {
      const child = spawn(process.execPath, ["--import", "tsx", "services/indexer/main.ts"], { env, stdio: ["ignore", "ignore", "pipe"] });
      children.push(child);
      return child;
    };
    const kills: number[] = [];
    for (const killAt of [scenario.deployment.startBlock + 20, Math.floor(head / 2), head - 60]) {
      const child = spawnIndexer();
      let stderr = "";
      child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise((resolve) => child.once("exit", resolve));
      await waitFor(`block ${killAt}`, () => {
        if (child.exitCode !== null) throw new Error(`the indexer exited: ${stderr}`);
        return checkpointOf(dbPath) >= killAt;
      });
      child.kill("SIGKILL");
      await exited;
      kills.push(checkpointOf(dbPath));
    }
    expect(kills.every((k) => k < head), `killed at ${kills} before the head ${head}`).to.equal(true);
    // The last restart runs to the head.
    const child = spawnIndexer();
    await waitFor("the head", () => checkpointOf(dbPath) >= head);
    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
    expect(dumpIndex(dbPath, schema)).to.equal(reference);
  });

  it("stays CONFIRMATIONS blocks behind the head", async () => {
    const dbPath = join(dir, "confirmed.db");
    const indexer = new Indexer(options(dbPath, { maxBlockRange: 500, confirmations: 5 }));
    await indexer.syncOnce();
    const head = (await node.provider.getBlock("latest"))!.number;
    expect(indexer.checkpoint()?.number).to.equal(head - 5);
    await mineBlocks(node, 2);
    await indexer.syncOnce();
    expect(indexer.checkpoint()?.number).to.equal(head - 3);
    indexer.close();
  });

  it("rolls back the blocks a reorg replaced and ends like a fresh index of the new chain", async () => {
    const { market, registry } = scenario.deployment;
    const { consumer, providerA } = scenario.signers;
    const dbPath = join(dir, "reorg.db");
    const warnings: string[] = [];
    const indexer = new Indexer(options(dbPath, { maxBlockRange: 50, warn: (m) => warnings.push(m) }));
    await indexer.syncOnce();

    const snapshot = (await node.provider.send("evm_snapshot", [])) as string;
    const before = dumpIndex(dbPath, schema);
    const now = (await node.provider.getBlock("latest"))!.timestamp;
    const params = {
      workloadHash: "0x" + "11".repeat(32), workloadURI: "ipfs://doomed", inputHash: "0x" + "00".repeat(32), inputURI: "",
      maxFuel: 1000n, maxPricePerMFuel: 1000n, maxFee: 10n ** 16n, minMemoryMiB: 1, allowedTiers: 1, region: 9,
      maxLatencyClass: 3, bidWindow: 60, execTime: 600, deadline: now + 3600, meteringVersion: 1, valueAtRisk: 0n,
    };
    await (await market.connect(consumer).postRequest(params)).wait();
    await (await registry.connect(providerA).addStake(5n)).wait();
    await indexer.syncOnce();
    expect(indexer.store.get("DeploymentRequest", "7")).to.include({ workloadURI: "ipfs://doomed" });

    // The chain drops those blocks: the indexer undoes them even before new blocks arrive.
    await node.provider.send("evm_revert", [snapshot]);
    const shorter = await indexer.syncOnce();
    expect(shorter.rolledBack).to.be.greaterThan(0);
    expect(dumpIndex(dbPath, schema)).to.equal(before);

    // A different history at the same heights and beyond.
    await (await market.connect(consumer).postRequest({ ...params, workloadURI: "ipfs://survivor", region: 4 })).wait();
    await mineBlocks(node, 3);
    await indexer.syncOnce();
    const snapshot2 = (await node.provider.send("evm_snapshot", [])) as string;
    await (await market.connect(consumer).postRequest({ ...params, workloadURI: "ipfs://orphan" })).wait();
    await indexer.syncOnce();
    await node.provider.send("evm_revert", [snapshot2]);
    await mineBlocks(node, 2);
    const replaced = await indexer.syncOnce();
    expect(replaced.rolledBack).to.be.greaterThan(0);
    indexer.close();

    expect(warnings.filter((w) => w.startsWith("reorg:"))).to.have.length(2);
    expect(dumpIndex(dbPath, schema)).to.equal(await indexOnce(join(dir, "fresh.db")));
    const check = new Indexer(options(dbPath));
    expect(check.store.get("DeploymentRequest", "7")).to.include({ workloadURI: "ipfs://survivor", region: 4 });
    expect(check.store.get("DeploymentRequest", "8")).to.equal(undefined);
    check.close();
  });
});
