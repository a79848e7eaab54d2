import { expect } from "chai";
import { network } from "hardhat";
import TroupeModule from "../../ignition/modules/Troupe.js";
describe("Ignition module Troupe", () => {
  it("deploys the whole market with parameters and binds the market", async () => {
    const { ignition } = await network.create();
    const { market, registry } = await ignition.deploy(TroupeModule, { parameters: { Troupe: { disputeWindow: 60 } } });
    expect(await market.disputeWindow()).to.equal(60n);
    expect(await registry.market()).to.equal(await market.getAddress());
  });
});
