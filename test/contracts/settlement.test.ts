import { expect } from "chai";
import { marketFixture, awardedAgreement, makeReport, TOKEN, type Fixture } from "../helpers/market.js";
import { signUsageAcceptance, signUsageReport } from "../../contracts/client/signing.js";
import { Status } from "../../contracts/client/status.js";

const M = 1_000_000n;
const PRICE = 2n * TOKEN / 100n;
const FEE = TOKEN / 1000n;

describe("AgreementSettlement", () => {
  let f: Fixture;
  let id: bigint;
  let escrow: bigint;
  beforeEach(async () => {
    f = await marketFixture();
    ({ id } = await awardedAgreement(f, { price: PRICE, fee: FEE }));
    const r = await f.deployment.market.request(id);
    escrow = (r.maxFuel * r.maxPricePerMFuel) / M + r.maxFee;
  });

  it("settles a co-signed report at once, paying exactly fuel * price + fee", async () => {
    const { market, token, registry } = f.deployment;
    const report = makeReport(id, { fuelUsed: 123_456_789n });
    const hostSig = await signUsageReport(f.hostA, f.signing, report);
    const consumerSig = await signUsageAcceptance(f.consumer, f.signing, report);
    const payment = (123_456_789n * PRICE) / M + FEE;
    const tx = market.connect(f.outsider).reportAndSettle(report, hostSig, consumerSig);
    await expect(tx).to.changeTokenBalances(
      f.ethers, token, [f.providerA, f.consumer, market], [payment, escrow - payment, -escrow],
    );
    await expect(tx).to.emit(market, "AgreementSettled").withArgs(id, payment, escrow - payment, true);
    expect((await market.request(id)).status).to.equal(BigInt(Status.Settled));
    const p = await registry.providerOf(f.providerA.address);
    expect(p.completed).to.equal(1n);
    expect(p.openAgreements).to.equal(0n);
    // double settlement
    await expect(market.reportAndSettle(report, hostSig, consumerSig))
      .to.be.revertedWithCustomError(market, "InvalidStatus").withArgs(id, Status.Settled);
    await expect(market.settle(id)).to.be.revertedWithCustomError(market, "InvalidStatus").withArgs(id, Status.Settled);
  });

  it("matches the EIP-712 struct hash the client computes", async () => {
    const { market } = f.deployment;
    const { usageReportHash } = await import("../../contracts/client/signing.js");
    const report = makeReport(id);
    expect(await market.hashReport(report)).to.equal(usageReportHash(report));
  });

  it("settles a plain report after the dispute window, by anyone, and not before", async () => {
    const { market, token } = f.deployment;
    const report = makeReport(id, { fuelUsed: 10n ** 12n }); // above the cap: paid at the cap
    await expect(market.submitReport(report, await signUsageReport(f.hostA, f.signing, report)))
      .to.emit(market, "UsageReported");
    const stored = await market.reportOf(id);
    const windowEnd = stored.reportedAt + 3600n;
    await expect(market.settle(id)).to.be.revertedWithCustomError(market, "DisputeWindow").withArgs(id, windowEnd);
    await f.networkHelpers.time.increaseTo(windowEnd + 1n);
    const r = await market.request(id);
    const payment = (r.maxFuel * PRICE) / M + FEE;
    await expect(market.connect(f.outsider).settle(id)).to.changeTokenBalances(
      f.ethers, token, [f.providerA, f.consumer], [payment, escrow - payment],
    );
  });

  it("lets the consumer accept a plain report early", async () => {
    const { market } = f.deployment;
    const report = makeReport(id);
    await market.submitReport(report, await signUsageReport(f.hostA, f.signing, report));
    await expect(market.connect(f.outsider).acceptReport(id)).to.be.revertedWithCustomError(market, "NotConsumer");
    await expect(market.connect(f.consumer).acceptReport(id)).to.emit(market, "AgreementSettled");
  });

  it("rejects a report from the wrong signer, for another chain or another contract, or replayed", async () => {
    const { market } = f.deployment;
    const report = makeReport(id);
    const badSig = await signUsageReport(f.hostB, f.signing, report);
    await expect(market.submitReport(report, badSig))
      .to.be.revertedWithCustomError(market, "WrongSigner").withArgs(f.hostA.address, f.hostB.address);
    const otherChain = await signUsageReport(f.hostA, { ...f.signing, chainId: f.signing.chainId + 1n }, report);
    await expect(market.submitReport(report, otherChain)).to.be.revertedWithCustomError(market, "WrongSigner");
    const otherContract = await signUsageReport(f.hostA, { ...f.signing, market: f.deployment.addresses.offers }, report);
    await expect(market.submitReport(report, otherContract)).to.be.revertedWithCustomError(market, "WrongSigner");
    // the consumer's co-signature must be the consumer's, over this very report
    const hostSig = await signUsageReport(f.hostA, f.signing, report);
    const wrongConsumer = await signUsageAcceptance(f.outsider, f.signing, report);
    await expect(market.reportAndSettle(report, hostSig, wrongConsumer))
      .to.be.revertedWithCustomError(market, "WrongSigner").withArgs(f.consumer.address, f.outsider.address);
    const otherReport = await signUsageAcceptance(f.consumer, f.signing, { ...report, fuelUsed: 1n });
    await expect(market.reportAndSettle(report, hostSig, otherReport)).to.be.revertedWithCustomError(market, "WrongSigner");
    // a signature over another agreement's id
    const forged = { ...report, agreementId: id + 1n };
    await expect(market.submitReport(forged, hostSig)).to.be.revertedWithCustomError(market, "InvalidStatus");

    await market.submitReport(report, hostSig);
    await expect(market.submitReport(report, hostSig))
      .to.be.revertedWithCustomError(market, "InvalidStatus").withArgs(id, Status.Reported);
  });

  it("refuses reports after the deadline; then anyone can claim the breach", async () => {
    const { market, token, registry } = f.deployment;
    const r = await market.request(id);
    await expect(market.claimBreach(id)).to.be.revertedWithCustomError(market, "DeadlineNotPassed").withArgs(id, r.deadline);
    await f.networkHelpers.time.increaseTo(r.deadline + 1n);
    const report = makeReport(id);
    await expect(market.submitReport(report, await signUsageReport(f.hostA, f.signing, report)))
      .to.be.revertedWithCustomError(market, "DeadlinePassed").withArgs(id, r.deadline);
    const penalty = (r.maxFuel * PRICE) / M + FEE; // penaltyBps = 10000: the agreement's value
    const stakeBefore = (await registry.providerOf(f.providerA.address)).stake;
    const tx = market.connect(f.outsider).claimBreach(id);
    await expect(tx).to.changeTokenBalances(
      f.ethers, token, [f.consumer, market, registry], [escrow + penalty, -escrow, -penalty],
    );
    await expect(tx).to.emit(market, "AgreementBreached").withArgs(id, escrow, penalty);
    const p = await registry.providerOf(f.providerA.address);
    expect(p.stake).to.equal(stakeBefore - penalty);
    expect(p.breached).to.equal(1n);
    expect(p.openAgreements).to.equal(0n);
    await expect(market.claimBreach(id)).to.be.revertedWithCustomError(market, "InvalidStatus").withArgs(id, Status.Breached);
  });

  it("caps a breach penalty at the provider's remaining stake", async () => {
    const g = await marketFixture({ penaltyBps: 65_000, minStake: 1n });
    const { registry, market, token } = g.deployment;
    await registry.connect(g.providerA).register(g.hostA.address, 0, 1, 1n, "");
    const now = await g.networkHelpers.time.latest();
    await g.deployment.offers.connect(g.providerA).publish({
      provider: g.providerA.address, pricePerMFuel: 1n, fee: 0n, maxFuel: 10n ** 12n, memoryMiB: 512,
      concurrentJobs: 1, latencyClass: 0, expiresAt: now + 86_400,
    });
    const p = { workloadHash: "0x" + "11".repeat(32), workloadURI: "", inputHash: "0x" + "00".repeat(32), inputURI: "",
      maxFuel: 10n ** 9n, maxPricePerMFuel: TOKEN, maxFee: 0n, minMemoryMiB: 1, allowedTiers: 1, region: 0,
      maxLatencyClass: 9, bidWindow: 10, deadline: now + 100 };
    await market.connect(g.consumer).postRequest(p);
    await market.connect(g.providerA).bid(1, 1, TOKEN, 0n, "0x" + "00".repeat(32));
    await g.networkHelpers.time.increase(11);
    await market.closeAuction(1);
    await g.networkHelpers.time.increase(200);
    await expect(market.claimBreach(1)).to.changeTokenBalance(g.ethers, token, registry, -1n);
  });
});
