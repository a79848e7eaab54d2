import { expect } from "chai";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { marketFixture, awardedAgreement, makeReport, TOKEN, keccakText, type Fixture } from "../helpers/market.js";
import { signUsageReport, signVerdict } from "../../contracts/client/signing.js";
import { Status } from "../../contracts/client/status.js";

const M = 1_000_000n;
const PRICE = 2n * TOKEN / 100n;
const FEE = TOKEN / 1000n;
const BOND = 10n * TOKEN;

describe("DisputeResolution", () => {
  let f: Fixture;
  let id: bigint;
  let escrow: bigint;
  const report = () => makeReport(id, { fuelUsed: 300_000_000n });

  beforeEach(async () => {
    f = await marketFixture();
    ({ id } = await awardedAgreement(f, { price: PRICE, fee: FEE }));
    const r = await f.deployment.market.request(id);
    escrow = (r.maxFuel * r.maxPricePerMFuel) / M + r.maxFee;
    // three verifiers: each a registered provider (its own key as host key) flagged as verifier
    for (const v of f.verifiers) {
      await f.deployment.registry.connect(v).register(v.address, 0, 2, 200n * TOKEN, "");
      await f.deployment.registry.connect(v).setVerifier(true);
    }
    await f.deployment.market.submitReport(report(), await signUsageReport(f.hostA, f.signing, report()));
  });

  async function verdict(v: HardhatEthersSigner, fuelUsed: bigint, outputHash: string, meteringVersion = 1) {
    const sig = await signVerdict(v, f.signing, { agreementId: id, fuelUsed, outputHash, meteringVersion });
    return f.deployment.market.connect(f.outsider).submitVerdict(id, v.address, fuelUsed, outputHash, meteringVersion, sig);
  }

  it("opens only by the consumer inside the window, taking the bond", async () => {
    const { market, token } = f.deployment;
    await expect(market.connect(f.outsider).openDispute(id)).to.be.revertedWithCustomError(market, "NotConsumer");
    await expect(market.connect(f.consumer).openDispute(id)).to.changeTokenBalances(
      f.ethers, token, [f.consumer, market], [-BOND, BOND],
    );
    expect((await market.request(id)).status).to.equal(BigInt(Status.Disputed));
    await expect(market.settle(id)).to.be.revertedWithCustomError(market, "InvalidStatus").withArgs(id, Status.Disputed);
  });

  it("refuses a dispute after the window", async () => {
    const { market } = f.deployment;
    const windowEnd = (await market.reportOf(id)).reportedAt + 3600n;
    await f.networkHelpers.time.increaseTo(windowEnd + 1n);
    await expect(market.connect(f.consumer).openDispute(id))
      .to.be.revertedWithCustomError(market, "DisputeWindow").withArgs(id, windowEnd);
  });

  it("upholds the report when a quorum of verifiers matches it: the bond goes to provider and verifiers", async () => {
    const { market, token, registry } = f.deployment;
    await market.connect(f.consumer).openDispute(id);
    const rep = report();
    const [v1, v2] = f.verifiers as [HardhatEthersSigner, HardhatEthersSigner];
    await expect(verdict(v1, rep.fuelUsed, rep.outputHash)).to.emit(market, "VerdictSubmitted").withArgs(id, v1.address, rep.fuelUsed, rep.outputHash, true);
    const payment = (rep.fuelUsed * PRICE) / M + FEE;
    const each = BOND / 2n / 2n;
    const tx = verdict(v2, rep.fuelUsed, rep.outputHash);
    await expect(tx).to.changeTokenBalances(
      f.ethers, token,
      [f.providerA, f.consumer, v1, v2, market],
      [payment + BOND - 2n * each, escrow - payment, each, each, -(escrow + BOND)],
    );
    await expect(tx).to.emit(market, "DisputeResolved");
    expect((await market.request(id)).status).to.equal(BigInt(Status.Settled));
    const p = await registry.providerOf(f.providerA.address);
    expect(p.disputesWon).to.equal(1n);
    expect(p.completed).to.equal(1n);
  });

  it("overturns the report when a quorum disagrees: the provider is slashed, the consumer refunded", async () => {
    const { market, token, registry } = f.deployment;
    await market.connect(f.consumer).openDispute(id);
    const [v1, v2, v3] = f.verifiers as [HardhatEthersSigner, HardhatEthersSigner, HardhatEthersSigner];
    const truth = { fuel: 111n, hash: keccakText("the real output") };
    await verdict(v1, truth.fuel, truth.hash);
    await verdict(v3, report().fuelUsed, report().outputHash); // one dissenting verifier
    const r = await market.request(id);
    const penalty = (r.maxFuel * PRICE) / M + FEE;
    const pool = BOND / 2n;
    const each = pool / 2n;
    const tx = verdict(v2, truth.fuel, truth.hash);
    await expect(tx).to.changeTokenBalances(
      f.ethers, token,
      [f.consumer, v1, v2, v3, f.providerA, registry, market],
      [escrow + BOND + penalty + pool - 2n * each, each, each, 0n, 0n, -(penalty + pool), -(escrow + BOND)],
    );
    expect((await market.request(id)).status).to.equal(BigInt(Status.Overturned));
    const p = await registry.providerOf(f.providerA.address);
    expect(p.disputesLost).to.equal(1n);
    expect(p.openAgreements).to.equal(0n);
  });

  it("pays the report and returns the bond when no quorum forms in time", async () => {
    const { market, token } = f.deployment;
    await market.connect(f.consumer).openDispute(id);
    const d = await market.disputeOf(id);
    await expect(market.resolveDispute(id)).to.be.revertedWithCustomError(market, "VerdictWindow").withArgs(id, d.verdictDeadline);
    await f.networkHelpers.time.increaseTo(d.verdictDeadline + 1n);
    const [v1] = f.verifiers as [HardhatEthersSigner];
    await expect(verdict(v1, 1n, keccakText("late"))).to.be.revertedWithCustomError(market, "VerdictWindow");
    const payment = (report().fuelUsed * PRICE) / M + FEE;
    await expect(market.connect(f.outsider).resolveDispute(id)).to.changeTokenBalances(
      f.ethers, token, [f.providerA, f.consumer, market], [payment, escrow - payment + BOND, -(escrow + BOND)],
    );
  });

  it("accepts verdicts only from eligible verifiers, signed by their host key, for the report's metering version", async () => {
    const { market, registry } = f.deployment;
    await market.connect(f.consumer).openDispute(id);
    const [v1, v2] = f.verifiers as [HardhatEthersSigner, HardhatEthersSigner];
    const rep = report();
    await expect(verdict(v1, rep.fuelUsed, rep.outputHash, 2))
      .to.be.revertedWithCustomError(market, "MeteringVersionMismatch").withArgs(1, 2);
    // a party to the agreement
    await registry.connect(f.providerA).setVerifier(true);
    const partySig = await signVerdict(f.hostA, f.signing, { agreementId: id, fuelUsed: 1n, outputHash: rep.outputHash, meteringVersion: 1 });
    await expect(market.submitVerdict(id, f.providerA.address, 1n, rep.outputHash, 1, partySig))
      .to.be.revertedWithCustomError(market, "NotEligibleVerifier").withArgs(id, f.providerA.address);
    // not a verifier
    await registry.connect(v2).setVerifier(false);
    await expect(verdict(v2, rep.fuelUsed, rep.outputHash)).to.be.revertedWithCustomError(market, "NotEligibleVerifier");
    // wrong signer
    const forged = await signVerdict(f.outsider, f.signing, { agreementId: id, fuelUsed: 1n, outputHash: rep.outputHash, meteringVersion: 1 });
    await expect(market.submitVerdict(id, v1.address, 1n, rep.outputHash, 1, forged))
      .to.be.revertedWithCustomError(market, "WrongSigner").withArgs(v1.address, f.outsider.address);
    // voting twice
    await verdict(v1, 1n, rep.outputHash);
    await expect(verdict(v1, 1n, rep.outputHash)).to.be.revertedWithCustomError(market, "NotEligibleVerifier");
  });
});
