import { expect } from "chai";
import { Interface, type InterfaceAbi } from "ethers";
import { abiOf } from "../../contracts/client/artifacts.js";
import { loadSchemaModel } from "../../services/common/entity-model.js";
import { openIndexDb } from "../../services/indexer/database.js";
import { EntityStore } from "../../services/indexer/entity-store.js";
import { configureManifest } from "../../services/indexer/indexer.js";
import { loadSubgraphManifest } from "../../services/indexer/mapping/manifest.js";
import { SubgraphRunner, type RawLog } from "../../services/indexer/mapping/subgraph-runner.js";
import { startExplorer } from "../../services/explorer/server.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const addresses = {
  registry: "0x00000000000000000000000000000000000000a1",
  offers: "0x00000000000000000000000000000000000000a2",
  market: "0x00000000000000000000000000000000000000a3",
};
const registry = new Interface(abiOf("ProviderRegistry") as InterfaceAbi);
const market = new Interface(abiOf("TroupeMarket") as InterfaceAbi);
const provider = "0x00000000000000000000000000000000000000b1";
const BLOCK = { number: 5, hash: "0x" + "55".repeat(32), parentHash: "0x" + "44".repeat(32), timestamp: 1000 };

let index = 0;
function log(address: string, encoded: { topics: string[]; data: string }): RawLog {
  return { address, ...encoded, blockNumber: 5, blockHash: BLOCK.hash, transactionHash: "0x" + "66".repeat(32), index: index++ };
}

describe("indexer: the compiled mappings on bad and failing logs", () => {
  it("skips undecodable logs with a warning, ignores events without handlers, and records a handler that aborts as graph-node does", async () => {
    const schema = loadSchemaModel();
    const dir = mkdtempSync(join(tmpdir(), "troupe-mapping-errors-"));
    const dbPath = join(dir, "index.db");
    const db = openIndexDb(dbPath, schema);
    const store = new EntityStore(db, schema);
    const warnings: string[] = [];
    const runner = new SubgraphRunner(configureManifest(loadSubgraphManifest(), addresses, 0), store, schema, { warn: (m) => warnings.push(m) });
    const registered = log(addresses.registry, registry.encodeEventLog("ProviderRegistered", [provider, provider, 1, 7, 500n, "ipfs://p"]));
    const unknownContract = log("0x00000000000000000000000000000000000000ff", { topics: registered.topics.slice(), data: registered.data });
    const unknownTopic = log(addresses.registry, { topics: ["0x" + "12".repeat(32)], data: "0x" });
    const truncated = log(addresses.registry, { ...registry.encodeEventLog("StakeAdded", [provider, 1n, 501n]), data: "0x1234" });
    // A request whose uint8 `allowedTiers` word holds 2^40: the mapping's toI32() aborts (an ABI-invalid log).
    const request = market.encodeEventLog("RequestPosted", [
      1n, provider, "0x" + "11".repeat(32), "ipfs://w", "0x" + "00".repeat(32), "", 1000n, 10n, 1n, 64, 7, 1, 3, 2000, 600, 3000, 1, 0n, 5000n,
    ]);
    const words = request.data.slice(2).match(/.{64}/g)!;
    words[8] = (2n ** 40n).toString(16).padStart(64, "0"); // allowedTiers is the 9th non-indexed word
    const aborting = log(addresses.market, { topics: request.topics, data: "0x" + words.join("") });
    const stake = log(addresses.registry, registry.encodeEventLog("StakeAdded", [provider, 1n, 501n]));
    const BEFORE = { number: 4, hash: "0x" + "44".repeat(32), parentHash: "0x" + "33".repeat(32), timestamp: 990 };
    // The registry announces its parameters at deployment (failure rates are computed with them).
    const configured: RawLog = {
      address: addresses.registry, ...registry.encodeEventLog("RegistryConfigured", [provider, 100n, 3600, 10n, 1000]),
      blockNumber: 4, blockHash: BEFORE.hash, transactionHash: "0x" + "77".repeat(32), index: 0,
    };
    runner.processBlock({ block: BEFORE, logs: [configured] });
    store.flush(BEFORE, () => runner.persist(db));
    const applied = runner.processBlock({ block: BLOCK, logs: [registered, unknownContract, unknownTopic, truncated, aborting, stake] });
    store.flush(BLOCK, () => runner.persist(db));

    expect(applied, warnings.join("\n")).to.equal(2);
    expect(warnings).to.have.length(2);
    expect(warnings[0]).to.match(/skipping log 3 of tx 0x6666.* \(ProviderRegistry.StakeAdded\) in block 5: cannot decode it/);
    expect(warnings[1]).to.match(/^Handler skipped due to execution failure, handler: handleRequestPosted, error: Mapping aborted at .*overflow converting 0x0000000000010* to i32.*block: 5/);
    expect(store.get("Provider", provider)).to.include({ stake: 501n, region: 7, tierName: "edge" });
    expect(store.get("DeploymentRequest", "1")).to.equal(undefined);
    expect(store.get("MarketSummary", "market")).to.include({ providers: 1, stake: 501n, requests: 0 });
    const errors = db.prepare("SELECT block, handler, message FROM _errors").all() as { block: number; handler: string; message: string }[];
    expect(errors).to.have.length(1);
    expect(errors[0]).to.include({ block: 5, handler: "handleRequestPosted" });
    expect(errors[0]!.message).to.match(/overflow converting .* in handler `handleRequestPosted` at block #5/);
    db.close();

    // The explorer reports it as graph-node does: _meta.hasIndexingErrors, and `indexing_error` for
    // queries at or after the failed block unless they allow errors.
    const explorer = await startExplorer({ dbPath, schema });
    try {
      const post = async (query: string) =>
        (await (await fetch(`${explorer.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query }) })).json()) as {
          data?: Record<string, unknown>;
          errors?: { message: string }[];
        };
      expect((await post("{ _meta { hasIndexingErrors block { number } } }")).data).to.deep.equal({ _meta: { hasIndexingErrors: true, block: { number: 5 } } });
      expect((await post("{ _meta(block: { number: 4 }) { hasIndexingErrors } }")).data).to.deep.equal({ _meta: { hasIndexingErrors: false } });
      const denied = await post("{ providers { id } }");
      expect(denied.errors?.map((e) => e.message)).to.deep.equal(["indexing_error"]);
      const allowed = await post("{ providers(subgraphError: allow) { id } }");
      expect(allowed.data).to.deep.equal({ providers: [{ id: provider }] });
      expect(allowed.errors?.map((e) => e.message)).to.deep.equal(["indexing_error"]);
      expect((await post("{ providers(block: { number: 4 }) { id } }"))).to.deep.equal({ data: { providers: [] } });
    } finally {
      await explorer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
