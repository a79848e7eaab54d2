import { expect } from "chai";
import { network } from "hardhat";
import TroupeModule from "../../ignition/modules/Troupe.js";
import type { ProviderRegistry, TroupeMarket, TroupeToken, VerifierCourt } from "../../types/ethers-contracts/index.js";

describe("Ignition module Troupe", () => {
  it("deploys the whole market with parameters and binds the market", async () => {
    const { ignition } = await network.create();
    const deployed = await ignition.deploy(TroupeModule, { parameters: { Troupe: { disputeWindow: 60, verifierPanel: 3 } } });
    const market = deployed.market as unknown as TroupeMarket;
    const registry = deployed.registry as unknown as ProviderRegistry;
    const court = deployed.court as unknown as VerifierCourt;
    const token = deployed.token as unknown as TroupeToken;
    expect(await market.disputeWindow()).to.equal(60n);
    expect(await court.panel()).to.equal(3n);
    expect(await registry.market()).to.equal(await market.getAddress());
    expect(await court.market()).to.equal(await market.getAddress());
    expect(await market.court()).to.equal(await court.getAddress());
    // a real network's token: its whole supply minted once, minting disabled
    expect(await token.mintable()).to.equal(false);
  });
});
