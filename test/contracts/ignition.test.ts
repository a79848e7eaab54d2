import { expect } from "chai";
import { network } from "hardhat";
import TroupeModule from "../../ignition/modules/Troupe.js";
import type { ProviderRegistry, TroupeMarket } from "../../types/ethers-contracts/index.js";

describe("Ignition module Troupe", () => {
  it("deploys the whole market with parameters and binds the market", async () => {
    const { ignition } = await network.create();
    const deployed = await ignition.deploy(TroupeModule, { parameters: { Troupe: { disputeWindow: 60 } } });
    const market = deployed.market as unknown as TroupeMarket;
    const registry = deployed.registry as unknown as ProviderRegistry;
    expect(await market.disputeWindow()).to.equal(60n);
    expect(await registry.market()).to.equal(await market.getAddress());
  });
});
