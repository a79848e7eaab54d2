import { expect } from "chai";
import { marketFixture, offerTerms, hostKeyProof, TOKEN, type Fixture } from "../helpers/market.js";

describe("OfferBook", () => {
  let f: Fixture;
  let now: number;
  beforeEach(async () => {
    f = await marketFixture();
    now = await f.networkHelpers.time.latest();
  });

  it("lets only a bonded provider publish", async () => {
    const { offers, registry } = f.deployment;
    await expect(offers.connect(f.providerA).publish(offerTerms({}, now)))
      .to.be.revertedWithCustomError(offers, "NotBonded").withArgs(f.providerA.address);
    await registry.connect(f.providerA).register(f.hostA.address, 0, 1, 500n * TOKEN, "", await hostKeyProof(f, f.providerA, f.hostA));
    const terms = offerTerms({ pricePerMFuel: 7n, fee: 3n, maxFuel: 10n ** 9n, memoryMiB: 128, concurrentJobs: 2, latencyClass: 2 }, now);
    await expect(offers.connect(f.providerA).publish(terms))
      .to.emit(offers, "OfferPublished")
      .withArgs(1, f.providerA.address, 7, 3, 10n ** 9n, 128, 1, 2, 2, terms.expiresAt);
    const o = await offers.offer(1);
    expect(o.provider).to.equal(f.providerA.address);
    expect(o.memoryMiB).to.equal(128n);
    expect(await offers.isLive(1)).to.equal(true);
  });

  it("updates and withdraws only the owner's offers, and validates terms", async () => {
    const { offers, registry } = f.deployment;
    await registry.connect(f.providerA).register(f.hostA.address, 0, 1, 500n * TOKEN, "", await hostKeyProof(f, f.providerA, f.hostA));
    await registry.connect(f.providerB).register(f.hostB.address, 0, 1, 500n * TOKEN, "", await hostKeyProof(f, f.providerB, f.hostB));
    await offers.connect(f.providerA).publish(offerTerms({}, now));
    await expect(offers.connect(f.providerA).publish(offerTerms({ maxFuel: 0 }, now)))
      .to.be.revertedWithCustomError(offers, "InvalidOffer").withArgs("maxFuel");
    await expect(offers.connect(f.providerA).publish(offerTerms({ memoryMiB: 0 }, now)))
      .to.be.revertedWithCustomError(offers, "InvalidOffer").withArgs("memoryMiB");
    await expect(offers.connect(f.providerA).publish(offerTerms({ concurrentJobs: 0 }, now)))
      .to.be.revertedWithCustomError(offers, "InvalidOffer").withArgs("concurrentJobs");
    await expect(offers.connect(f.providerA).publish(offerTerms({ expiresAt: now }, now)))
      .to.be.revertedWithCustomError(offers, "InvalidOffer").withArgs("expiresAt");
    await expect(offers.connect(f.providerB).update(1, offerTerms({}, now)))
      .to.be.revertedWithCustomError(offers, "NotOfferOwner").withArgs(1, f.providerB.address);
    await expect(offers.connect(f.providerA).update(1, offerTerms({ pricePerMFuel: 99n }, now)))
      .to.emit(offers, "OfferUpdated");
    expect((await offers.offer(1)).pricePerMFuel).to.equal(99n);
    await expect(offers.connect(f.providerB).withdraw(1)).to.be.revertedWithCustomError(offers, "NotOfferOwner");
    await expect(offers.connect(f.providerA).withdraw(1)).to.emit(offers, "OfferWithdrawn").withArgs(1, f.providerA.address);
    expect(await offers.isLive(1)).to.equal(false);
  });
});
