import { expect } from "chai";
import { ZeroAddress } from "ethers";
import { marketFixture, TOKEN, awardedAgreement, hostKeyProof, type Fixture } from "../helpers/market.js";

describe("ProviderRegistry", () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await marketFixture();
  });

  it("registers a provider with stake, a proven host key, tier, region and metadata", async () => {
    const { registry, token } = f.deployment;
    const stake = 500n * TOKEN;
    await expect(registry.connect(f.providerA).register(f.hostA.address, 1, 42, stake, "ipfs://meta", await hostKeyProof(f, f.providerA, f.hostA)))
      .to.emit(registry, "ProviderRegistered")
      .withArgs(f.providerA.address, f.hostA.address, 1, 42, stake, "ipfs://meta");
    const p = await registry.providerOf(f.providerA.address);
    expect(p.hostKey).to.equal(f.hostA.address);
    expect(p.stake).to.equal(stake);
    expect(p.tier).to.equal(1n);
    expect(p.region).to.equal(42n);
    expect(await token.balanceOf(await registry.getAddress())).to.equal(stake);
    expect(await registry.isBonded(f.providerA.address)).to.equal(true);
    // a newcomer starts at the prior: 10% failure, 90% reputation
    expect(await registry.failureBpsOf(f.providerA.address)).to.equal(1000n);
    expect(await registry.reputationOf(f.providerA.address)).to.equal(9000n);
  });

  it("rejects bad registrations with named errors", async () => {
    const { registry } = f.deployment;
    const proof = await hostKeyProof(f, f.providerA, f.hostA);
    await expect(registry.connect(f.providerA).register(ZeroAddress, 0, 1, 500n * TOKEN, "", proof))
      .to.be.revertedWithCustomError(registry, "InvalidHostKey").withArgs(ZeroAddress);
    await expect(registry.connect(f.providerA).register(f.hostA.address, 3, 1, 500n * TOKEN, "", proof))
      .to.be.revertedWithCustomError(registry, "InvalidTier").withArgs(3);
    await expect(registry.connect(f.providerA).register(f.hostA.address, 0, 1, 99n * TOKEN, "", proof))
      .to.be.revertedWithCustomError(registry, "StakeTooLow").withArgs(99n * TOKEN, 100n * TOKEN);
    await registry.connect(f.providerA).register(f.hostA.address, 0, 1, 500n * TOKEN, "", proof);
    await expect(registry.connect(f.providerA).register(f.hostA.address, 0, 1, 500n * TOKEN, "", proof))
      .to.be.revertedWithCustomError(registry, "AlreadyRegistered").withArgs(f.providerA.address);
  });

  it("takes a host key only with the key's own proof, bound to this provider", async () => {
    const { registry } = f.deployment;
    // someone else's key, with a proof made for its real owner, cannot be claimed
    const proofForA = await hostKeyProof(f, f.providerA, f.hostA);
    await expect(registry.connect(f.providerB).register(f.hostA.address, 0, 1, 500n * TOKEN, "", proofForA))
      .to.be.revertedWithCustomError(registry, "InvalidHostKey").withArgs(f.hostA.address);
    // nor with a proof signed by the claimant itself
    const selfSigned = await hostKeyProof(f, f.providerB, f.providerB);
    await expect(registry.connect(f.providerB).register(f.hostA.address, 0, 1, 500n * TOKEN, "", selfSigned))
      .to.be.revertedWithCustomError(registry, "InvalidHostKey").withArgs(f.hostA.address);
    await expect(registry.connect(f.providerB).register(f.hostA.address, 0, 1, 500n * TOKEN, "", "0x1234"))
      .to.be.revertedWithCustomError(registry, "InvalidHostKey");
  });

  it("updates host key and metadata, adds stake, authorises agents", async () => {
    const { registry } = f.deployment;
    const proofB = await hostKeyProof(f, f.providerA, f.hostB);
    await expect(registry.connect(f.providerA).setHostKey(f.hostB.address, proofB))
      .to.be.revertedWithCustomError(registry, "NotRegistered").withArgs(f.providerA.address);
    await registry.connect(f.providerA).register(f.hostA.address, 0, 1, 500n * TOKEN, "", await hostKeyProof(f, f.providerA, f.hostA));
    await expect(registry.connect(f.providerA).setHostKey(f.hostB.address, proofB))
      .to.emit(registry, "HostKeyChanged").withArgs(f.providerA.address, f.hostB.address);
    expect(await registry.hostKeyOf(f.providerA.address)).to.equal(f.hostB.address);
    await expect(registry.connect(f.providerA).setHostKey(f.outsider.address, proofB))
      .to.be.revertedWithCustomError(registry, "InvalidHostKey").withArgs(f.outsider.address);
    await expect(registry.connect(f.providerA).setMetadata("https://a.example/meta"))
      .to.emit(registry, "MetadataChanged").withArgs(f.providerA.address, "https://a.example/meta");
    await expect(registry.connect(f.providerA).addStake(10n * TOKEN))
      .to.emit(registry, "StakeAdded").withArgs(f.providerA.address, 10n * TOKEN, 510n * TOKEN);
    await expect(registry.connect(f.providerA).addStake(0)).to.be.revertedWithCustomError(registry, "InvalidAmount");

    expect(await registry.isAgent(f.providerA.address, f.agent.address)).to.equal(false);
    expect(await registry.isAgent(f.providerA.address, f.providerA.address)).to.equal(true);
    await expect(registry.connect(f.providerA).authoriseAgent(f.agent.address, true))
      .to.emit(registry, "AgentAuthorised").withArgs(f.providerA.address, f.agent.address, true);
    expect(await registry.isAgent(f.providerA.address, f.agent.address)).to.equal(true);
    await registry.connect(f.providerA).authoriseAgent(f.agent.address, false);
    expect(await registry.isAgent(f.providerA.address, f.agent.address)).to.equal(false);
  });

  it("unbonds only stake no open agreement reserves, after the delay, slashable until withdrawn", async () => {
    const { registry, token, market } = f.deployment;
    const { id } = await awardedAgreement(f);
    const p = await registry.providerOf(f.providerA.address);
    // the agreement reserves its penalty (its whole value) plus the dispute bond
    const r = await market.request(id);
    const b = await market.bidOf(id, f.providerA.address);
    const value = (r.maxFuel * b.pricePerMFuel) / 1_000_000n + b.fee;
    expect(p.exposure).to.equal(value + 10n * TOKEN);
    const free = p.stake - p.exposure;
    await expect(registry.connect(f.providerA).requestUnbond(free + 1n))
      .to.be.revertedWithCustomError(registry, "InvalidAmount").withArgs(free + 1n, free);
    await expect(registry.connect(f.providerA).withdrawUnbonded()).to.be.revertedWithCustomError(registry, "NothingUnbonding");
    await expect(registry.connect(f.providerA).requestUnbond(free)).to.emit(registry, "UnbondRequested");
    const readyAt = (await registry.providerOf(f.providerA.address)).unbondReadyAt;
    await expect(registry.connect(f.providerA).requestUnbond(1n))
      .to.be.revertedWithCustomError(registry, "UnbondingPending").withArgs(readyAt);
    await expect(registry.connect(f.providerA).withdrawUnbonded())
      .to.be.revertedWithCustomError(registry, "UnbondingPending").withArgs(readyAt);

    // the breach penalty is covered by the reserved stake
    await f.networkHelpers.time.increase(3600);
    await expect(market.claimBreach(id)).to.changeTokenBalance(f.ethers, token, f.consumer, (r.maxFuel * r.maxPricePerMFuel) / 1_000_000n + r.maxFee + value);
    const after = await registry.providerOf(f.providerA.address);
    expect(after.exposure).to.equal(0n);
    expect(after.stake).to.equal(p.stake - free - value);

    await f.networkHelpers.time.increaseTo(readyAt);
    await expect(registry.connect(f.providerA).withdrawUnbonded()).to.changeTokenBalances(
      f.ethers, token, [f.providerA, registry], [free, -free],
    );
  });

  it("lets only the bound market reserve stake, record outcomes and slash", async () => {
    const { registry } = f.deployment;
    await registry.connect(f.providerA).register(f.hostA.address, 0, 1, 500n * TOKEN, "", await hostKeyProof(f, f.providerA, f.hostA));
    await expect(registry.connect(f.outsider).slash(f.providerA.address, 1n, f.outsider.address))
      .to.be.revertedWithCustomError(registry, "NotMarket").withArgs(f.outsider.address);
    await expect(registry.connect(f.outsider).openAgreement(f.providerA.address, 1n))
      .to.be.revertedWithCustomError(registry, "NotMarket");
    await expect(registry.connect(f.outsider).closeAgreement(f.providerA.address, 0, 0n, 0n))
      .to.be.revertedWithCustomError(registry, "NotMarket");
    await expect(registry.connect(f.deployer).bindMarket(f.outsider.address))
      .to.be.revertedWithCustomError(registry, "MarketAlreadyBound");
  });
});
