import { expect } from "chai";
import { hostEndpoint } from "../../scripts/lib/host-endpoint.js";
import type { MarketContracts } from "../../scripts/lib/deployment.js";
import { hostKeyProof, marketFixture, TOKEN, type Fixture } from "../helpers/market.js";
import { expectReject } from "../helpers/expect-reject.js";

const meta = (endpoint: string) => `data:application/json,${encodeURIComponent(JSON.stringify({ endpoint }))}`;

describe("consumer: a provider's host endpoint, from the registry's logs read since the last look", function () {
  this.timeout(60_000);
  let f: Fixture;
  let contracts: MarketContracts;
  before(async () => {
    f = await marketFixture();
    contracts = { registry: f.deployment.registry } as unknown as MarketContracts;
  });

  it("follows the latest metadata, reading only the blocks since the last look, and names an unregistered provider", async () => {
    const { registry } = f.deployment;
    const startBlock = await f.ethers.provider.getBlockNumber();
    await expectReject(hostEndpoint(contracts, f.providerA.address, startBlock), /is not a registered provider/);
    const proof = await hostKeyProof(f, f.providerA, f.hostA);
    await (await registry.connect(f.providerA).register(f.hostA.address, 0, 1, 1000n * TOKEN, meta("http://a.example:8080/"), proof)).wait();
    expect(await hostEndpoint(contracts, f.providerA.address, startBlock)).to.equal("http://a.example:8080");
    // Blocks with nothing of the provider's, then a change of metadata: the next look sees it.
    for (let i = 0; i < 5; i++) await f.networkHelpers.mine();
    expect(await hostEndpoint(contracts, f.providerA.address, startBlock)).to.equal("http://a.example:8080");
    await (await registry.connect(f.providerA).setMetadata(meta("http://b.example:9090"))).wait();
    expect(await hostEndpoint(contracts, f.providerA.address, startBlock)).to.equal("http://b.example:9090");
    // Metadata that names no endpoint is refused with the URI.
    await (await registry.connect(f.providerA).setMetadata("data:application/json,{}")).wait();
    await expectReject(hostEndpoint(contracts, f.providerA.address, startBlock), /names no host endpoint/);
  });

  it("reads again from the start when the chain no longer holds the block it last read (a reorganisation, a reset node)", async () => {
    const { registry } = f.deployment;
    const startBlock = await f.ethers.provider.getBlockNumber();
    const snapshot = await f.networkHelpers.takeSnapshot();
    const proof = await hostKeyProof(f, f.providerB, f.hostB);
    await (await registry.connect(f.providerB).register(f.hostB.address, 0, 1, 1000n * TOKEN, meta("http://old.example"), proof)).wait();
    for (let i = 0; i < 3; i++) await f.networkHelpers.mine();
    expect(await hostEndpoint(contracts, f.providerB.address, startBlock)).to.equal("http://old.example");
    // Another history from the same block on: the provider registered elsewhere, and more blocks than before.
    await snapshot.restore();
    await (await registry.connect(f.providerB).register(f.hostB.address, 0, 1, 1000n * TOKEN, meta("http://new.example"), proof)).wait();
    for (let i = 0; i < 6; i++) await f.networkHelpers.mine();
    expect(await hostEndpoint(contracts, f.providerB.address, startBlock)).to.equal("http://new.example");
  });
});
