import { expect } from "chai";
import { ZeroHash } from "ethers";
import {
  marketFixture, awardedAgreement, makeReport, registerProvider, requestParams, keccakText, TOKEN, type Fixture,
} from "../helpers/market.js";
import { Outcome, type UsageReport } from "../../contracts/client/typed-data.js";
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
    expect(p.completedValue).to.equal(payment);
    expect(p.openAgreements).to.equal(0n);
    expect(p.exposure).to.equal(0n);
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
      .to.be.revertedWithCustomError(market, "WrongSigner").withArgs(f.consumer.address, "0x0000000000000000000000000000000000000000");
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
    expect(p.failedValue).to.equal(penalty);
    expect(p.openAgreements).to.equal(0n);
    expect(p.exposure).to.equal(0n);
    await expect(market.claimBreach(id)).to.be.revertedWithCustomError(market, "InvalidStatus").withArgs(id, Status.Breached);
  });

  it("rejects a report under another metering version, a bad outcome, or fuel with 'unavailable'", async () => {
    const { market } = f.deployment;
    for (const [overrides, error, args] of [
      [{ meteringVersion: 2 }, "MeteringVersionMismatch", [1, 2]],
      [{ outcome: 7 }, "InvalidReport", ["outcome"]],
      [{ outcome: Outcome.Unavailable, fuelUsed: 5n }, "InvalidReport", ["fuelUsed"]],
    ] as const) {
      const report = makeReport(id, overrides as Partial<UsageReport>);
      await expect(market.submitReport(report, await signUsageReport(f.hostA, f.signing, report)))
        .to.be.revertedWithCustomError(market, error).withArgs(...args);
    }
  });

  it("pays only the fee when the consumer's content was unavailable, and records no failure", async () => {
    const { market, token, registry } = f.deployment;
    const report = makeReport(id, { outcome: Outcome.Unavailable, fuelUsed: 0n, outputHash: keccakText("tried: http 404") });
    await market.submitReport(report, await signUsageReport(f.hostA, f.signing, report));
    await f.networkHelpers.time.increase(3601);
    await expect(market.settle(id)).to.changeTokenBalances(f.ethers, token, [f.providerA, f.consumer], [FEE, escrow - FEE]);
    const p = await registry.providerOf(f.providerA.address);
    expect([p.completedValue, p.failedValue, p.completed, p.breached]).to.deep.equal([0n, 0n, 0n, 0n]);
  });

  it("accepts an ERC-1271 smart-contract wallet's co-signature", async () => {
    const g = await marketFixture();
    const wallet = await g.ethers.deployContract("MockWallet1271", [g.consumer.address]);
    const { market, token } = g.deployment;
    await token.mint(await wallet.getAddress(), 1000n * TOKEN);
    await wallet.getFunction("approve")(await token.getAddress(), await market.getAddress(), 2n ** 255n);
    const offerId = await registerProvider(g, g.providerA, g.hostA);
    const now = await g.networkHelpers.time.latest();
    await wallet.getFunction("post")(await market.getAddress(), requestParams({}, now));
    const walletId = await market.requestCount();
    await market.connect(g.providerA).bid(walletId, offerId, PRICE, FEE, ZeroHash);
    await g.networkHelpers.time.increase(61);
    await market.closeAuction(walletId);
    const report = makeReport(walletId);
    const hostSig = await signUsageReport(g.hostA, g.signing, report);
    // the wallet's owner signs; the wallet vouches for it through isValidSignature
    const ownerSig = await signUsageAcceptance(g.consumer, g.signing, report);
    await expect(market.reportAndSettle(report, hostSig, ownerSig)).to.emit(market, "AgreementSettled");
    const strangerSig = await signUsageAcceptance(g.outsider, g.signing, report);
    expect(strangerSig).to.not.equal(ownerSig);
  });
});
