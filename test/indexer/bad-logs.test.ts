import { expect } from "chai";
import { Interface, type InterfaceAbi } from "ethers";
import { abiOf } from "../../contracts/client/artifacts.js";
import { loadSchemaModel } from "../../services/common/entity-model.js";
import { applyBlocks, type RawLog } from "../../services/indexer/apply-logs.js";
import { openIndexDb } from "../../services/indexer/database.js";
import { EntityStore } from "../../services/indexer/entity-store.js";
import { watchedContracts } from "../../services/indexer/events.js";

const addresses = {
  registry: "0x00000000000000000000000000000000000000a1",
  offers: "0x00000000000000000000000000000000000000a2",
  market: "0x00000000000000000000000000000000000000a3",
};
const registry = new Interface(abiOf("ProviderRegistry") as InterfaceAbi);
const market = new Interface(abiOf("TroupeMarket") as InterfaceAbi);
const provider = "0x00000000000000000000000000000000000000b1";

let index = 0;
function log(address: string, encoded: { topics: string[]; data: string }): RawLog {
  return { address, ...encoded, blockNumber: 5, blockHash: "0x" + "55".repeat(32), transactionHash: "0x" + "66".repeat(32), index: index++ };
}

describe("indexer: bad and unknown logs", () => {
  it("skips each with a warning naming it, keeps the rest, and leaves no partial change behind", () => {
    const schema = loadSchemaModel();
    const store = new EntityStore(openIndexDb(":memory:", schema), schema);
    const warnings: string[] = [];
    const registered = log(addresses.registry, registry.encodeEventLog("ProviderRegistered", [provider, provider, 1, 7, 500n, "ipfs://p"]));
    const unknownContract = log("0x00000000000000000000000000000000000000ff", { topics: registered.topics.slice(), data: registered.data });
    const unknownTopic = log(addresses.registry, { topics: ["0x" + "12".repeat(32)], data: "0x" });
    const truncated = log(addresses.registry, { ...registry.encodeEventLog("StakeAdded", [provider, 1n, 501n]), data: "0x1234" });
    // A bid on a request that does not exist: the handler fails after nothing, and must leave nothing.
    const orphanBid = log(
      addresses.market,
      market.encodeEventLog("BidPlaced", [42n, provider, 1n, provider, 10n, 1n, 1, "0x" + "00".repeat(32)]),
    );
    const stake = log(addresses.registry, registry.encodeEventLog("StakeAdded", [provider, 1n, 501n]));
    const applied = applyBlocks(
      store,
      watchedContracts(addresses),
      [{ block: { number: 5, hash: "0x" + "55".repeat(32), timestamp: 1000 }, logs: [registered, unknownContract, unknownTopic, truncated, orphanBid, stake] }],
      (m) => warnings.push(m),
    );
    store.flush({ number: 5, hash: "0x" + "55".repeat(32), timestamp: 1000 });
    expect(applied).to.equal(2);
    expect(warnings).to.have.length(4);
    expect(warnings[0]).to.match(/log 1 of tx 0x6666.* in block 5 from 0x0+ff: not a watched contract/);
    expect(warnings[1]).to.match(/log 2 .*topic 0x1212.* is no ProviderRegistry event/);
    expect(warnings[2]).to.match(/log 3 .*cannot decode it as ProviderRegistry.StakeAdded/);
    expect(warnings[3]).to.match(/log 4 .*TroupeMarket.BidPlaced.*DeploymentRequest 42 does not exist/);
    expect(store.get("Provider", provider)).to.include({ stake: 501n, region: 7, tierName: "edge" });
    expect(store.get("Bid", "42-1")).to.equal(undefined);
    expect(store.get("LiveBid", `42-${provider}`)).to.equal(undefined);
    expect(store.get("MarketSummary", "market")).to.include({ providers: 1, stake: 501n });
  });
});
