import { expect } from "chai";
import { ZeroAddress } from "ethers";
import { marketFixture, TOKEN, awardedAgreement, type Fixture } from "../helpers/market.js";

describe("ProviderRegistry", () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await marketFixture();
  });

  it("registers a provider with stake, host key, tier, region and metadata", async () => {
    const { registry, token } = f.deployment;
    const stake = 500n * TOKEN;
    await expect(registry.connect(f.providerA).register(f.hostA.address, 1, 42, stake, "ipfs://meta"))
      .to.emit(registry, "ProviderRegistered")
      .withArgs(f.providerA.address, f.hostA.address, 1, 42, stake, "ipfs://meta");
    const p = await registry.providerOf(f.providerA.address);
    expect(p.hostKey).to.equal(f.hostA.address);
    expect(p.stake).to.equal(stake);
    expect(p.tier).to.equal(1n);
    expect(p.region).to.equal(42n);
    expect(await token.balanceOf(await registry.getAddress())).to.equal(stake);
    expect(await registry.isBonded(f.providerA.address)).to.equal(true);
    expect(await registry.reputationOf(f.providerA.address)).to.equal(5000n);
  });

  it("rejects bad registrations with named errors", async () => {
    const { registry } = f.deployment;
    await expect(registry.connect(f.providerA).register(ZeroAddress, 0, 1, 500n * TOKEN, ""))
      .to.be.revertedWithCustomError(registry, "ZeroHostKey");
    await expect(registry.connect(f.providerA).register(f.hostA.address, 3, 1, 500n * TOKEN, ""))
      .to.be.revertedWithCustomError(registry, "InvalidTier").withArgs(3);
    await expect(registry.connect(f.providerA).register(f.hostA.address, 0, 1, 99n * TOKEN, ""))
      .to.be.revertedWithCustomError(registry, "StakeTooLow").withArgs(99n * TOKEN, 100n * TOKEN);
    await registry.connect(f.providerA).register(f.hostA.address, 0, 1, 500n * TOKEN, "");
    await expect(registry.connect(f.providerA).register(f.hostA.address, 0, 1, 500n * TOKEN, ""))
      .to.be.revertedWithCustomError(registry, "AlreadyRegistered").withArgs(f.providerA.address);
  });

  it("updates host key and metadata, adds stake, authorises agents and verifiers", async () => {
    const { registry } = f.deployment;
    await expect(registry.connect(f.providerA).setHostKey(f.hostB.address))
      .to.be.revertedWithCustomError(registry, "NotRegistered").withArgs(f.providerA.address);
    await registry.connect(f.providerA).register(f.hostA.address, 0, 1, 500n * TOKEN, "");
    await expect(registry.connect(f.providerA).setHostKey(f.hostB.address))
      .to.emit(registry, "HostKeyChanged").withArgs(f.providerA.address, f.hostB.address);
    expect(await registry.hostKeyOf(f.providerA.address)).to.equal(f.hostB.address);
    await expect(registry.connect(f.providerA).setHostKey(ZeroAddress)).to.be.revertedWithCustomError(registry, "ZeroHostKey");
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

    expect(await registry.isVerifier(f.providerA.address)).to.equal(false);
    await expect(registry.connect(f.providerA).setVerifier(true))
      .to.emit(registry, "VerifierChanged").withArgs(f.providerA.address, true);
    expect(await registry.isVerifier(f.providerA.address)).to.equal(true);
  });

  it("unbonds only after the delay, and not while an agreement is open", async () => {
    const { registry, token } = f.deployment;
    const { id } = await awardedAgreement(f);
    await expect(registry.connect(f.providerA).requestUnbond(10n * TOKEN))
      .to.be.revertedWithCustomError(registry, "AgreementsOpen").withArgs(f.providerA.address, 1);
    await f.networkHelpers.time.increase(3600);
    await f.deployment.market.claimBreach(id); // closes the agreement (and slashes the penalty)

    const stake = (await registry.providerOf(f.providerA.address)).stake;
    await expect(registry.connect(f.providerA).requestUnbond(stake + 1n))
      .to.be.revertedWithCustomError(registry, "InvalidAmount").withArgs(stake + 1n, stake);
    await expect(registry.connect(f.providerA).withdrawUnbonded()).to.be.revertedWithCustomError(registry, "NothingUnbonding");
    await expect(registry.connect(f.providerA).requestUnbond(stake)).to.emit(registry, "UnbondRequested");
    expect(await registry.isBonded(f.providerA.address)).to.equal(false);
    const readyAt = (await registry.providerOf(f.providerA.address)).unbondReadyAt;
    await expect(registry.connect(f.providerA).requestUnbond(1n))
      .to.be.revertedWithCustomError(registry, "UnbondingPending").withArgs(readyAt);
    await expect(registry.connect(f.providerA).withdrawUnbonded())
      .to.be.revertedWithCustomError(registry, "UnbondingPending").withArgs(readyAt);
    await f.networkHelpers.time.increaseTo(readyAt);
    await expect(registry.connect(f.providerA).withdrawUnbonded()).to.changeTokenBalances(
      f.ethers, token, [f.providerA, registry], [stake, -stake],
    );
  });

  it("lets only the bound market record outcomes and slash", async () => {
    const { registry } = f.deployment;
    await registry.connect(f.providerA).register(f.hostA.address, 0, 1, 500n * TOKEN, "");
    await expect(registry.connect(f.outsider).slash(f.providerA.address, 1n))
      .to.be.revertedWithCustomError(registry, "NotMarket").withArgs(f.outsider.address);
    await expect(registry.connect(f.outsider).openAgreement(f.providerA.address))
      .to.be.revertedWithCustomError(registry, "NotMarket");
    await expect(registry.connect(f.outsider).closeAgreement(f.providerA.address, 0))
      .to.be.revertedWithCustomError(registry, "NotMarket");
    await expect(registry.connect(f.deployer).bindMarket(f.outsider.address))
      .to.be.revertedWithCustomError(registry, "MarketAlreadyBound");
  });
});
