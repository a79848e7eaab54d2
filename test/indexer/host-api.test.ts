import { expect } from "chai";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AbiCoder, encodeBase58, JsonRpcProvider, keccak256, toUtf8Bytes, type JsonRpcSigner } from "ethers";
import { deployMarket, type MarketDeployment } from "../../contracts/client/deploy.js";
import { signHostKeyProof } from "../../contracts/client/signing.js";
import { loadSchemaModel } from "../../services/common/entity-model.js";
import { Indexer } from "../../services/indexer/indexer.js";
import { loadSubgraphManifest } from "../../services/indexer/mapping/manifest.js";
import { SyncRpcChain } from "../../services/indexer/mapping/sync-rpc.js";

// Outside test/: Hardhat loads every .ts file under test/ as a test, and the probe is AssemblyScript.
const FIXTURE = fileURLToPath(new URL("../../subgraph/probe/", import.meta.url));
const TOKEN = 10n ** 18n;

/**
 * A Hardhat node in its own process: a mapping's contract call blocks this thread until the node
 * answers, so the node cannot run on it (as the in-process test chain does).
 */
async function startChildNode(): Promise<{ url: string; provider: JsonRpcProvider; child: ChildProcess }> {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
  const child = spawn("npx", ["hardhat", "node", "--hostname", "127.0.0.1", "--port", String(port)], { stdio: "ignore", detached: true });
  const url = `http://127.0.0.1:${port}`;
  const provider = new JsonRpcProvider(url, 31337, { staticNetwork: true, pollingInterval: 100 });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      await provider.send("eth_chainId", []);
      return { url, provider, child };
    } catch {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the Hardhat node on ${url} did not start`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

function graph(args: string[]): void {
  const r = spawnSync("npx", ["graph", ...args], { cwd: FIXTURE, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`graph ${args.join(" ")} failed:\n${r.stdout}${r.stderr}`);
}

/**
 * The graph-ts host API as a mapping sees it, through a fixture subgraph compiled by graph-cli
 * (subgraph/probe): BigInt and BigDecimal arithmetic, conversions, crypto, JSON, YAML,
 * Int8 / Timestamp / list fields, dataSource, templates, contract calls and ABI coding,
 * get_in_block, derived loading, removal, immutability, a handler that aborts and one that never returns.
 */
describe("indexer: the graph-ts host API through a compiled fixture subgraph", function () {
  this.timeout(240_000);
  let node: { url: string; provider: JsonRpcProvider; child: ChildProcess };
  let deployment: MarketDeployment;
  let indexer: Indexer;
  let chain: SyncRpcChain;
  let dir: string;
  let a: JsonRpcSigner;
  let b: JsonRpcSigner;
  let host: JsonRpcSigner;
  const warnings: string[] = [];
  const blocks: Record<string, { number: number; hash: string; timestamp: number }> = {};
  const metadataA = '{"name":"alpha","n":12345678901234567890}';

  before(async () => {
    graph(["codegen", "subgraph.yaml", "-o", "generated"]);
    graph(["build", "subgraph.yaml", "-o", "build"]);
    node = await startChildNode();
    const signers = await Promise.all([0, 1, 2, 3].map((i) => node.provider.getSigner(i)));
    [, a, b, host] = signers as [JsonRpcSigner, JsonRpcSigner, JsonRpcSigner, JsonRpcSigner];
    deployment = await deployMarket(signers[0]!);
    const { token, registry } = deployment;
    for (const who of [a, b]) {
      await (await token.transfer(who.address, 10_000n * TOKEN)).wait();
      await (await token.connect(who).approve(deployment.addresses.registry, 2n ** 255n)).wait();
    }
    const step = async (name: string, tx: Promise<{ wait(): Promise<{ blockNumber: number } | null> }>) => {
      const receipt = (await (await tx).wait())!;
      const block = (await node.provider.getBlock(receipt.blockNumber))!;
      blocks[name] = { number: block.number, hash: block.hash!, timestamp: block.timestamp };
    };
    const { chainId } = await node.provider.getNetwork();
    const proof = (owner: JsonRpcSigner) => signHostKeyProof(host, chainId, deployment.addresses.registry, owner.address);
    await step("registerA", registry.connect(a).register(host.address, 1, 3, 1000n * TOKEN, metadataA, await proof(a)));
    await step("registerB", registry.connect(b).register(host.address, 2, 4, 777n * TOKEN, "plain", await proof(b)));
    await step("stakeA", registry.connect(a).addStake(5n));
    await step("abortB", registry.connect(b).setMetadata("abort"));
    await step("loopB", registry.connect(b).setMetadata("loop"));
    await step("helloB", registry.connect(b).setMetadata("hello"));
    await step("immutableB", registry.connect(b).setMetadata("immutable"));
    await step("removeA", registry.connect(a).authoriseAgent(b.address, true));
    dir = mkdtempSync(join(tmpdir(), "troupe-host-api-"));
    chain = new SyncRpcChain(node.url);
    indexer = new Indexer({
      provider: node.provider,
      addresses: { Registry: deployment.addresses.registry },
      startBlock: deployment.startBlock,
      dbPath: join(dir, "index.db"),
      schema: loadSchemaModel(join(FIXTURE, "build", "schema.graphql")),
      manifest: loadSubgraphManifest(join(FIXTURE, "build", "subgraph.yaml")),
      chain,
      maxBlockRange: 3,
      warn: (m) => warnings.push(m),
    });
    await indexer.syncOnce();
  });

  after(async () => {
    indexer?.close();
    chain?.close();
    node?.provider.destroy();
    if (node?.child.pid) process.kill(-node.child.pid, "SIGTERM");
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const probeOf = (who: JsonRpcSigner) => indexer.store.get("Probe", who.address.toLowerCase());

  it("computes BigInt, BigDecimal, conversion, crypto and JSON values as graph-node does", () => {
    const p = probeOf(b)!;
    const stake = 777n * TOKEN;
    expect(p).to.include({
      stake,
      stakeSquared: stake * stake,
      stakeHalf: "388500000000000000000",
      ratio: "0." + "3".repeat(34),
      shifted: (stake << 3n) >> 1n,
      masked: (stake & 0xffffn) | 1n,
      power: 7n ** 20n,
      remainder: stake % 97n,
      parsed: -123456789012345678901234567890n,
      keccak: keccak256(toUtf8Bytes("plain")),
      hexString: host.address.toLowerCase(),
      base58: encodeBase58(host.address),
      h160: "0x00000000000000000000000000000000000000aa",
      big8: 9007199254740993n,
      seenAt: BigInt(blocks.registerB!.timestamp) * 1_000_000n,
      flag: true,
      jsonOk: false,
      jsonName: null,
      yamlKind: 3, // "plain" is a YAML string
      yamlFirstKey: null,
      decimalText: "3",
      bigIntHex: "0xff",
    });
    expect(p.tags).to.deep.equal(["a", "plain"]);
    const q = indexer.db.prepare("SELECT jsonOk, jsonName, jsonNumber, yamlKind, yamlFirstKey FROM Probe__history WHERE id = ?").get(a.address.toLowerCase()) as Record<string, unknown>;
    // A's metadata is JSON, and JSON is YAML: an object whose first key is "name".
    expect(q).to.deep.include({ jsonOk: 1, jsonName: "alpha", jsonNumber: "2012345678901234567890", yamlKind: 5, yamlFirstKey: "name" });
  });

  it("gives the mapping its event's block, transaction and data source, contract calls and ABI coding", () => {
    const p = probeOf(b)!;
    expect(p).to.include({
      owner: host.address.toLowerCase(),
      txFrom: b.address.toLowerCase(),
      blockHash: blocks.registerB!.hash,
      network: "hardhat",
      dsAddress: deployment.addresses.registry.toLowerCase(),
      onChainStake: 777n * TOKEN,
      hasCode: true,
      encoded: AbiCoder.defaultAbiCoder().encode(["uint256"], [777n * TOKEN]),
      decodedTier: 2,
    });
  });

  it("sees entities written in the block, loads derived lists with pending changes, removes and versions them", () => {
    expect(probeOf(b)).to.include({ sawItselfInBlock: true, relatedAtSave: 2 });
    expect(indexer.store.get("Owner", host.address.toLowerCase())).to.include({ probeCount: 2 });
    // A was removed by handleAgent; its versions stay in the history.
    expect(probeOf(a)).to.equal(undefined);
    const history = indexer.db.prepare("SELECT stake, sawItselfInBlock, __block_start, __block_end FROM Probe__history WHERE id = ? ORDER BY __block_end").all(a.address.toLowerCase()) as Record<string, unknown>[];
    expect(history.map((h) => [h.__block_start, h.__block_end])).to.deep.equal([
      [blocks.registerA!.number, blocks.stakeA!.number],
      [blocks.stakeA!.number, blocks.removeA!.number],
    ]);
    expect(history[1]).to.include({ sawItselfInBlock: 0 }); // loaded from the store in handleStake: not written in that block
    const sources = indexer.db.prepare("SELECT template, address, block FROM _data_sources").all();
    expect(sources).to.deep.equal([
      { template: "Hosted", address: host.address.toLowerCase(), block: blocks.registerA!.number },
      { template: "Hosted", address: host.address.toLowerCase(), block: blocks.registerB!.number },
    ]);
  });

  it("records handlers that abort, never return or write an immutable entity twice as indexing errors, and keeps their changes out", () => {
    const errors = indexer.db.prepare("SELECT block, handler, message FROM _errors ORDER BY block").all() as { block: number; handler: string; message: string }[];
    expect(errors.map((e) => [e.block, e.handler])).to.deep.equal([
      [blocks.abortB!.number, "handleMetadata"],
      [blocks.loopB!.number, "handleMetadata"],
      [blocks.immutableB!.number, "handleMetadata"],
    ]);
    expect(errors[0]!.message).to.match(/Mapping aborted at .*told to abort/);
    expect(errors[1]!.message).to.match(/^handleMetadata ran out of its execution budget of 1,000,000,000 steps .* in handler `handleMetadata` at block #\d+/);
    expect(errors[2]!.message).to.match(/Note\[.*\] is immutable and was written at block \d+: it can not be updated/);
    expect(warnings.filter((w) => w.startsWith("Handler skipped due to execution failure"))).to.have.length(3);
    expect(probeOf(b)).to.include({ flag: true }); // the aborted and the stopped handlers' saves are discarded
    // The blocks after the endless handler's are indexed.
    expect(indexer.store.get("Note", b.address.toLowerCase())).to.include({ text: "hello" });
    expect(indexer.checkpoint()!.number).to.equal(blocks.removeA!.number);
  });
});
