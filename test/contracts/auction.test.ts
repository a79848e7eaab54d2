import { expect } from "chai";
import { Signature, ZeroHash } from "ethers";
import {
  marketFixture, registerProvider, postRequest, requestParams, TOKEN, keccakText, type Fixture,
} from "../helpers/market.js";
import { CloseReason, Status } from "../../contracts/client/status.js";
import { expectedCost, valueAtRiskBps } from "../../contracts/client/amounts.js";

const M = 1_000_000n;

describe("DeploymentAuction", () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await marketFixture();
  });

  it("escrows maxFuel * maxPrice / 1e6 + maxFee when a request is posted", async () => {
    const { market, token } = f.deployment;
    const now = await f.networkHelpers.time.latest();
    const p = requestParams({ maxFuel: 3_333_333n, maxPricePerMFuel: 7n, maxFee: 5n }, now);
    const escrow = (3_333_333n * 7n) / M + 5n;
    await expect(market.connect(f.consumer).postRequest(p)).to.changeTokenBalances(
      f.ethers, token, [f.consumer, market], [-escrow, escrow],
    );
    const r = await market.request(1);
    expect(r.consumer).to.equal(f.consumer.address);
    expect(r.status).to.equal(BigInt(Status.Open));
    await expect(market.connect(f.consumer).postRequest(p)).to.emit(market, "RequestPosted");
  });

  it("rejects unusable requests, naming the field", async () => {
    const { market } = f.deployment;
    const now = await f.networkHelpers.time.latest();
    const cases: [Partial<Parameters<typeof requestParams>[0]>, string][] = [
      [{ workloadHash: ZeroHash }, "workloadHash"],
      [{ maxFuel: 0 }, "maxFuel"],
      [{ allowedTiers: 0 }, "allowedTiers"],
      [{ allowedTiers: 8 }, "allowedTiers"],
      [{ bidWindow: 0 }, "bidWindow"],
      [{ execTime: 0 }, "execTime"],
      [{ deadline: now + 30 }, "deadline"],
      // more than 1677 × the escrow at risk does not fit the stored basis points
      [{ maxFuel: 1_000_000n, maxPricePerMFuel: 1n, maxFee: 0n, valueAtRisk: 10n ** 18n }, "valueAtRisk"],
      // the deadline must leave the whole execution time after the bid window
      [{ bidWindow: 60, execTime: 600, deadline: now + 600 }, "deadline"],
    ];
    for (const [override, reason] of cases) {
      await expect(market.connect(f.consumer).postRequest(requestParams(override, now)))
        .to.be.revertedWithCustomError(market, "InvalidRequest").withArgs(reason);
    }
  });

  it("posts with an ERC-2612 permit in the same transaction", async () => {
    const { market, token } = f.deployment;
    const consumer = f.outsider;
    await token.connect(consumer).approve(await market.getAddress(), 0);
    const now = await f.networkHelpers.time.latest();
    const deadline = now + 600;
    const { chainId } = await f.ethers.provider.getNetwork();
    const sig = await consumer.signTypedData(
      { name: "Troupe", version: "1", chainId, verifyingContract: await token.getAddress() },
      { Permit: [
        { name: "owner", type: "address" }, { name: "spender", type: "address" }, { name: "value", type: "uint256" },
        { name: "nonce", type: "uint256" }, { name: "deadline", type: "uint256" },
      ] },
      { owner: consumer.address, spender: await market.getAddress(), value: 2n ** 256n - 1n, nonce: 0n, deadline },
    );
    const { v, r, s } = Signature.from(sig);
    await expect(market.connect(consumer).postRequestWithPermit(requestParams({}, now), deadline, v, r, s))
      .to.emit(market, "RequestPosted");
  });

  it("accepts only bids that meet the request, from authorised keys, within the window", async () => {
    const { market, registry, offers } = f.deployment;
    const offerId = await registerProvider(f, f.providerA, f.hostA, { tier: 1, offer: { pricePerMFuel: 1000n, fee: 10n } });
    const id = await postRequest(f, { maxPricePerMFuel: 5000n, maxFee: 100n, allowedTiers: 0b011 });

    await expect(market.connect(f.agent).bid(id, offerId, 2000n, 20n, ZeroHash))
      .to.be.revertedWithCustomError(market, "UnauthorisedAgent").withArgs(f.providerA.address, f.agent.address);
    await registry.connect(f.providerA).authoriseAgent(f.agent.address, true);
    await expect(market.connect(f.agent).bid(id, offerId, 5001n, 20n, ZeroHash))
      .to.be.revertedWithCustomError(market, "BidOutOfRange").withArgs(5001n, 20n);
    await expect(market.connect(f.agent).bid(id, offerId, 2000n, 101n, ZeroHash))
      .to.be.revertedWithCustomError(market, "BidOutOfRange").withArgs(2000n, 101n);
    await expect(market.connect(f.agent).bid(id, offerId, 999n, 20n, ZeroHash))
      .to.be.revertedWithCustomError(market, "BidOutOfRange").withArgs(999n, 20n);
    await expect(market.connect(f.agent).bid(id, 99, 2000n, 20n, ZeroHash))
      .to.be.revertedWithCustomError(market, "OfferMismatch").withArgs(99, "unknown");

    const explanation = keccakText("because");
    await expect(market.connect(f.agent).bid(id, offerId, 2000n, 20n, explanation))
      .to.emit(market, "BidPlaced")
      .withArgs(id, f.providerA.address, offerId, f.agent.address, 2000n, 20n, 1000, 2_000_000n + 20n, explanation);
    await expect(market.connect(f.agent).bid(id, offerId, 2000n, 20n, ZeroHash))
      .to.be.revertedWithCustomError(market, "BidNotLower");
    await expect(market.connect(f.agent).bid(id, offerId, 1500n, 20n, ZeroHash)).to.emit(market, "BidPlaced");
    expect((await market.bidOf(id, f.providerA.address)).pricePerMFuel).to.equal(1500n);

    // requirement mismatches
    const now = await f.networkHelpers.time.latest();
    const tierless = await postRequest(f, { allowedTiers: 0b001 });
    await expect(market.connect(f.agent).bid(tierless, offerId, 2000n, 20n, ZeroHash))
      .to.be.revertedWithCustomError(market, "OfferMismatch").withArgs(offerId, "tier");
    const big = await postRequest(f, { minMemoryMiB: 4096 });
    await expect(market.connect(f.agent).bid(big, offerId, 2000n, 20n, ZeroHash))
      .to.be.revertedWithCustomError(market, "OfferMismatch").withArgs(offerId, "memory");
    const hungry = await postRequest(f, { maxFuel: 10n ** 15n, maxPricePerMFuel: 2000n });
    await expect(market.connect(f.agent).bid(hungry, offerId, 2000n, 20n, ZeroHash))
      .to.be.revertedWithCustomError(market, "OfferMismatch").withArgs(offerId, "maxFuel");
    const fast = await postRequest(f, { maxLatencyClass: 0 });
    await expect(market.connect(f.agent).bid(fast, offerId, 2000n, 20n, ZeroHash))
      .to.be.revertedWithCustomError(market, "OfferMismatch").withArgs(offerId, "latency");
    const o = await offers.offer(offerId);
    const otherMetering = await postRequest(f, { meteringVersion: 2 });
    await expect(market.connect(f.agent).bid(otherMetering, offerId, 2000n, 20n, ZeroHash))
      .to.be.revertedWithCustomError(market, "OfferMismatch").withArgs(offerId, "meteringVersion");
    await offers.connect(f.providerA).update(offerId, {
      provider: o.provider, pricePerMFuel: o.pricePerMFuel, fee: o.fee, maxFuel: o.maxFuel, memoryMiB: o.memoryMiB,
      meteringVersion: o.meteringVersion, concurrentJobs: o.concurrentJobs, latencyClass: o.latencyClass, expiresAt: now + 30,
    });
    await expect(market.connect(f.agent).bid(fast, offerId, 2000n, 20n, ZeroHash))
      .to.be.revertedWithCustomError(market, "OfferMismatch").withArgs(offerId, "expired");

    await f.networkHelpers.time.increase(61);
    const r = await market.request(id);
    await expect(market.connect(f.agent).bid(id, offerId, 1000n, 20n, ZeroHash))
      .to.be.revertedWithCustomError(market, "BidWindowClosed").withArgs(id, r.bidWindowEnd);
  });

  it("rejects bids from providers that are no longer bonded", async () => {
    const { market, registry } = f.deployment;
    const offerId = await registerProvider(f, f.providerA, f.hostA);
    const id = await postRequest(f);
    await registry.connect(f.providerA).requestUnbond(901n * TOKEN);
    expect(await registry.isBonded(f.providerA.address)).to.equal(false);
    await expect(market.connect(f.providerA).bid(id, offerId, TOKEN / 100n, TOKEN / 1000n, ZeroHash))
      .to.be.revertedWithCustomError(market, "OfferMismatch").withArgs(offerId, "bonded");
  });

  it("awards by lowest total when the consumer states no value at risk, then the earliest bid", async () => {
    const { market } = f.deployment;
    const offerA = await registerProvider(f, f.providerA, f.hostA);
    const offerB = await registerProvider(f, f.providerB, f.hostB);
    // lowest total wins even with a higher price, thanks to the lower fee
    let id = await postRequest(f, { maxFuel: 1_000_000n, maxFee: TOKEN / 10n });
    await market.connect(f.providerA).bid(id, offerA, 3n * TOKEN / 100n, TOKEN / 1000n, ZeroHash);
    await market.connect(f.providerB).bid(id, offerB, 1n * TOKEN / 100n, 3n * TOKEN / 100n, ZeroHash);
    await f.networkHelpers.time.increase(61);
    await expect(market.closeAuction(id)).to.emit(market, "AgreementCreated");
    expect((await market.request(id)).winner).to.equal(f.providerA.address);
    // full tie: the earlier bid wins
    id = await postRequest(f);
    await market.connect(f.providerB).bid(id, offerB, TOKEN / 50n, TOKEN / 1000n, ZeroHash);
    await market.connect(f.providerA).bid(id, offerA, TOKEN / 50n, TOKEN / 1000n, ZeroHash);
    await f.networkHelpers.time.increase(61);
    await market.closeAuction(id);
    expect((await market.request(id)).winner).to.equal(f.providerB.address);
  });

  it("prices unreliability: expected cost = total + valueAtRisk × failure rate", async () => {
    const { market, registry } = f.deployment;
    const offerA = await registerProvider(f, f.providerA, f.hostA);
    const offerB = await registerProvider(f, f.providerB, f.hostB);
    // providerB breaches an agreement worth 20.001 tokens: its failure rate rises from the 10% prior
    let id = await postRequest(f);
    await market.connect(f.providerB).bid(id, offerB, TOKEN / 50n, TOKEN / 1000n, ZeroHash);
    await f.networkHelpers.time.increase(61);
    await market.closeAuction(id);
    await f.networkHelpers.time.increase(3600);
    await market.claimBreach(id);
    const value = 1_000_000_000n * (TOKEN / 50n) / 1_000_000n + TOKEN / 1000n;
    const prior = 10n * TOKEN;
    const failB = ((value * 10_000n + prior * 1_000n) / (value + prior));
    expect(await registry.failureBpsOf(f.providerB.address)).to.equal(failB);
    expect(await registry.failureBpsOf(f.providerA.address)).to.equal(1_000n);

    // B bids 1 token cheaper, but with 100 tokens at risk A's reliability is worth more
    const valueAtRisk = 100n * TOKEN;
    id = await postRequest(f, { valueAtRisk });
    const escrow = (1_000_000_000n * (5n * TOKEN / 100n)) / 1_000_000n + TOKEN / 100n;
    const riskBps = valueAtRiskBps(valueAtRisk, escrow);
    expect((await market.request(id)).valueAtRiskBps).to.equal(riskBps);
    expect(await market.valueAtRiskOf(id)).to.equal((escrow * riskBps) / 10_000n);
    const totalA = 1_000_000_000n * (TOKEN / 50n) / 1_000_000n + TOKEN / 1000n;
    const totalB = totalA - TOKEN;
    const priceB = (totalB - TOKEN / 1000n) * 1_000_000n / 1_000_000_000n;
    await expect(market.connect(f.providerB).bid(id, offerB, priceB, TOKEN / 1000n, ZeroHash))
      .to.emit(market, "BidPlaced")
      .withArgs(id, f.providerB.address, offerB, f.providerB.address, priceB, TOKEN / 1000n, failB, expectedCost(totalB, escrow, riskBps, failB), ZeroHash);
    await market.connect(f.providerA).bid(id, offerA, TOKEN / 50n, TOKEN / 1000n, ZeroHash);
    expect(await market.expectedCostOf(id, f.providerA.address)).to.equal(expectedCost(totalA, escrow, riskBps, 1_000n));
    await f.networkHelpers.time.increase(61);
    await market.closeAuction(id);
    expect((await market.request(id)).winner).to.equal(f.providerA.address);

    // with nothing at risk, the cheaper bid wins again
    id = await postRequest(f);
    await market.connect(f.providerB).bid(id, offerB, priceB, TOKEN / 1000n, ZeroHash);
    await market.connect(f.providerA).bid(id, offerA, TOKEN / 50n, TOKEN / 1000n, ZeroHash);
    await f.networkHelpers.time.increase(61);
    await market.closeAuction(id);
    expect((await market.request(id)).winner).to.equal(f.providerB.address);
  });

  it("lets the consumer accept a bid early, and only the consumer, only a live bid", async () => {
    const { market } = f.deployment;
    const offerA = await registerProvider(f, f.providerA, f.hostA);
    const offerB = await registerProvider(f, f.providerB, f.hostB);
    const id = await postRequest(f);
    await market.connect(f.providerA).bid(id, offerA, TOKEN / 100n, TOKEN / 1000n, ZeroHash);
    await market.connect(f.providerB).bid(id, offerB, TOKEN / 50n, TOKEN / 1000n, ZeroHash);
    await expect(market.connect(f.outsider).acceptBid(id, f.providerB.address))
      .to.be.revertedWithCustomError(market, "NotConsumer").withArgs(id, f.outsider.address);
    await expect(market.connect(f.consumer).acceptBid(id, f.outsider.address))
      .to.be.revertedWithCustomError(market, "NoSuchBid").withArgs(id, f.outsider.address);
    const r = await market.request(id);
    await expect(market.closeAuction(id)).to.be.revertedWithCustomError(market, "BidWindowOpen").withArgs(id, r.bidWindowEnd);
    await expect(market.connect(f.consumer).acceptBid(id, f.providerB.address))
      .to.emit(market, "AgreementCreated");
    const after = await market.request(id);
    expect(after.winner).to.equal(f.providerB.address);
    expect(after.status).to.equal(BigInt(Status.Awarded));
    await expect(market.closeAuction(id)).to.be.revertedWithCustomError(market, "InvalidStatus").withArgs(id, Status.Awarded);
  });

  it("refunds requests that are cancelled, get no bid, or close too late", async () => {
    const { market, token } = f.deployment;
    const offerA = await registerProvider(f, f.providerA, f.hostA);
    const escrowOf = async (id: bigint) => {
      const r = await market.request(id);
      return (r.maxFuel * r.maxPricePerMFuel) / M + r.maxFee;
    };
    // cancelled by the consumer
    let id = await postRequest(f);
    await expect(market.connect(f.outsider).cancelRequest(id)).to.be.revertedWithCustomError(market, "NotConsumer");
    let escrow = await escrowOf(id);
    await expect(market.connect(f.consumer).cancelRequest(id)).to.changeTokenBalances(
      f.ethers, token, [f.consumer, market], [escrow, -escrow],
    );
    expect((await market.request(id)).status).to.equal(BigInt(Status.Cancelled));
    // a request with a bid cannot be cancelled
    id = await postRequest(f);
    await market.connect(f.providerA).bid(id, offerA, TOKEN / 100n, TOKEN / 1000n, ZeroHash);
    await expect(market.connect(f.consumer).cancelRequest(id)).to.be.revertedWithCustomError(market, "HasBids").withArgs(id);
    // ...but if nobody closes it in time for the execution time, it expires with a refund
    await f.networkHelpers.time.increase(3600);
    escrow = await escrowOf(id);
    await expect(market.connect(f.outsider).closeAuction(id)).to.changeTokenBalances(
      f.ethers, token, [f.consumer, market], [escrow, -escrow],
    );
    expect((await market.request(id)).status).to.equal(BigInt(Status.Expired));
    // no bid at all: expires when closed
    id = await postRequest(f);
    await f.networkHelpers.time.increase(61);
    await expect(market.closeAuction(id)).to.emit(market, "RequestClosed").withArgs(id, Status.Expired, CloseReason.NoBid, await escrowOf(id));
  });
});
