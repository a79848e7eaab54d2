import { expect } from "chai";
import { Signature } from "ethers";
import { marketFixture, TOKEN } from "../helpers/market.js";

describe("TroupeToken", () => {
  it("mints only by its owner and supports ERC-2612 permit", async () => {
    const f = await marketFixture();
    const { token } = f.deployment;
    await expect(token.connect(f.outsider).mint(f.outsider.address, 1n))
      .to.be.revertedWithCustomError(token, "OwnableUnauthorizedAccount").withArgs(f.outsider.address);
    // never above the cap
    const cap = await token.cap();
    await expect(token.mint(f.outsider.address, cap))
      .to.be.revertedWithCustomError(token, "ERC20ExceededCap");

    const owner = f.consumer;
    const spender = f.outsider.address;
    const deadline = (await f.networkHelpers.time.latest()) + 3600;
    const { chainId } = await f.ethers.provider.getNetwork();
    const signature = await owner.signTypedData(
      { name: "Troupe", version: "1", chainId, verifyingContract: await token.getAddress() },
      { Permit: [
        { name: "owner", type: "address" }, { name: "spender", type: "address" }, { name: "value", type: "uint256" },
        { name: "nonce", type: "uint256" }, { name: "deadline", type: "uint256" },
      ] },
      { owner: owner.address, spender, value: 5n * TOKEN, nonce: 0n, deadline },
    );
    const { v, r, s } = Signature.from(signature);
    await token.permit(owner.address, spender, 5n * TOKEN, deadline, v, r, s);
    expect(await token.allowance(owner.address, spender)).to.equal(5n * TOKEN);
  });

  it("cannot be minted when deployed for a real network, and changes owner in two steps", async () => {
    const f = await marketFixture({ tokenMintable: false });
    const { token } = f.deployment;
    await expect(token.mint(f.outsider.address, 1n)).to.be.revertedWithCustomError(token, "MintingDisabled");
    await token.transferOwnership(f.outsider.address);
    expect(await token.owner()).to.equal(f.deployer.address);
    await expect(token.connect(f.consumer).acceptOwnership())
      .to.be.revertedWithCustomError(token, "OwnableUnauthorizedAccount").withArgs(f.consumer.address);
    await token.connect(f.outsider).acceptOwnership();
    expect(await token.owner()).to.equal(f.outsider.address);
  });
});
