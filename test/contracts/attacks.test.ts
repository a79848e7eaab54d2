import { expect } from "chai";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { ZeroHash } from "ethers";
import {
  marketFixture, awardedAgreement, registerProvider, postRequest, makeReport, stakeVerifiers, hostKeyProof, keccakText,
  TOKEN, type Fixture,
} from "../helpers/market.js";
import { playDispute, claimAll, type Claim } from "../helpers/dispute.js";
import { signUsageReport } from "../../contracts/client/signing.js";
import { Outcome } from "../../contracts/client/typed-data.js";
import { CloseReason, Ruling, Status } from "../../contracts/client/status.js";
import { deployMarket } from "../../contracts/client/deploy.js";
import { COURT } from "../helpers/dispute.js";

const PRICE = 2n * TOKEN / 100n;
const FEE = TOKEN / 1000n;

/** The attacks of issue #10, each tried against the market and shown to fail or to cost the attacker. */
describe("Attacks on the market", () => {
  let f: Fixture;
  const truth: Claim = { fuelUsed: 400_000_000n, outputHash: keccakText("output") };

  /** Net token change of `accounts`, wallets plus verifier stakes, across `action`. */
  async function netOf(accounts: string[], action: () => Promise<void>): Promise<bigint> {
    const { token, court } = f.deployment;
    const worth = async () => {
      let sum = 0n;
      for (const a of accounts) {
        const v = await court.verifierOf(a);
        sum += (await token.balanceOf(a)) + v.stake + v.leaving;
      }
      return sum;
    };
    const before = await worth();
    await action();
    return (await worth()) - before;
  }

  async function report(id: bigint, claim: Claim) {
    const r = makeReport(id, { fuelUsed: claim.fuelUsed, outputHash: claim.outputHash });
    await f.deployment.market.submitReport(r, await signUsageReport(f.hostA, f.signing, r));
  }

  const signersOf = (...list: HardhatEthersSigner[]) => new Map(list.map((s) => [s.address, s]));

  beforeEach(async () => {
    f = await marketFixture(COURT);
  });

  it("1. a consumer with Sybil verifiers cannot buy the verdict against an honest report", async () => {
    const sybils = f.signers.slice(12, 14);
    const honest = [...f.verifiers, f.outsider];
    await stakeVerifiers(f, honest);
    await stakeVerifiers(f, sybils); // two of six equal stakes: a third of the pool
    const { id } = await awardedAgreement(f, { price: PRICE, fee: FEE });
    await report(id, truth);
    const made: Claim = { fuelUsed: 1n, outputHash: keccakText("made up") };
    const attacker = [f.consumer, ...sybils].map((s) => s.address);
    const all = [...honest, ...sybils].map((s) => s.address);
    const providerBefore = await f.deployment.token.balanceOf(f.providerA.address);
    const net = await netOf(attacker, async () => {
      await f.deployment.market.connect(f.consumer).openDispute(id);
      const { ruling } = await playDispute(f, id, {
        verdictOf: (v) => (sybils.some((s) => s.address === v) ? made : truth),
        signers: signersOf(...honest, ...sybils, f.consumer, f.providerA),
      });
      expect(ruling).to.equal(Ruling.Upheld);
      await claimAll(f, id, all);
    });
    // without the attack the consumer would have got the rest of its escrow back and lost nothing else
    const payment = (truth.fuelUsed * PRICE) / 1_000_000n + FEE;
    const escrow = (1_000_000_000n * 5n * TOKEN / 100n) / 1_000_000n + TOKEN / 100n;
    expect(net < escrow - payment - 10n * TOKEN).to.equal(true); // it lost at least its first bond on top
    expect(await f.deployment.token.balanceOf(f.providerA.address) - providerBefore >= payment).to.equal(true);
  });

  it("2. a provider with Sybil verifiers cannot uphold a report of fuelUsed = maxFuel", async () => {
    const sybils = f.signers.slice(12, 14);
    const honest = [...f.verifiers, f.outsider];
    await stakeVerifiers(f, [...honest, ...sybils]);
    const { id } = await awardedAgreement(f, { price: PRICE, fee: FEE });
    const greedy: Claim = { fuelUsed: 1_000_000_000n, outputHash: truth.outputHash };
    await report(id, greedy);
    const attacker = [f.providerA, ...sybils].map((s) => s.address);
    const stakeBefore = (await f.deployment.registry.providerOf(f.providerA.address)).stake;
    const net = await netOf(attacker, async () => {
      await f.deployment.market.connect(f.consumer).openDispute(id);
      const { ruling } = await playDispute(f, id, {
        verdictOf: (v) => (sybils.some((s) => s.address === v) ? greedy : truth),
        signers: signersOf(...honest, ...sybils, f.consumer, f.providerA),
      });
      expect(ruling).to.equal(Ruling.Overturned);
      await claimAll(f, id, [...honest, ...sybils].map((s) => s.address));
    });
    expect(net < 0n).to.equal(true);
    const value = (1_000_000_000n * PRICE) / 1_000_000n + FEE;
    expect((await f.deployment.registry.providerOf(f.providerA.address)).stake).to.equal(stakeBefore - value - 10n * TOKEN);
  });

  it("3. a report under a metering version no verifier runs is refused, and nothing unconfirmed is paid", async () => {
    const { id } = await awardedAgreement(f);
    const r = makeReport(id, { meteringVersion: 99 });
    await expect(f.deployment.market.submitReport(r, await signUsageReport(f.hostA, f.signing, r)))
      .to.be.revertedWithCustomError(f.deployment.market, "MeteringVersionMismatch").withArgs(1, 99);
  });

  it("4. a provider cannot unbond the stake that backs an agreement, before or after the award", async () => {
    const { market, registry, token } = f.deployment;
    const offerId = await registerProvider(f, f.providerA, f.hostA, { stake: 1000n * TOKEN });
    const id = await postRequest(f);
    await market.connect(f.providerA).bid(id, offerId, PRICE, FEE, ZeroHash);
    // before the award nothing is reserved, so it may start unbonding everything...
    await registry.connect(f.providerA).requestUnbond(1000n * TOKEN);
    await f.networkHelpers.time.increase(61);
    // ...but then the award finds no stake to reserve, and the consumer gets its escrow back
    const escrowBack = await market.request(id).then((r) => (r.maxFuel * r.maxPricePerMFuel) / 1_000_000n + r.maxFee);
    await expect(market.closeAuction(id)).to.emit(market, "RequestClosed").withArgs(id, Status.Expired, CloseReason.StakeShort, escrowBack);
    // an awarded provider cannot take the reserve out, so the breach penalty is always there
    const offerB = await registerProvider(f, f.providerB, f.hostB);
    const id2 = await postRequest(f);
    await market.connect(f.providerB).bid(id2, offerB, PRICE, FEE, ZeroHash);
    await f.networkHelpers.time.increase(61);
    await market.closeAuction(id2);
    const p = await registry.providerOf(f.providerB.address);
    await expect(registry.connect(f.providerB).requestUnbond(p.stake))
      .to.be.revertedWithCustomError(registry, "InvalidAmount").withArgs(p.stake, p.stake - p.exposure);
    await registry.connect(f.providerB).requestUnbond(p.stake - p.exposure);
    await f.networkHelpers.time.increase(3600);
    const value = (1_000_000_000n * PRICE) / 1_000_000n + FEE;
    await expect(market.claimBreach(id2)).to.changeTokenBalance(f.ethers, token, registry, -value);
  });

  it("5. whoever closes the auction cannot shorten the provider's time: a late close refunds instead", async () => {
    const { market, token } = f.deployment;
    const offerId = await registerProvider(f, f.providerA, f.hostA);
    const id = await postRequest(f, { bidWindow: 60, execTime: 600 });
    await market.connect(f.providerA).bid(id, offerId, PRICE, FEE, ZeroHash);
    const r = await market.request(id);
    await f.networkHelpers.time.increaseTo(r.deadline - 1n);
    const escrow = (r.maxFuel * r.maxPricePerMFuel) / 1_000_000n + r.maxFee;
    await expect(market.connect(f.consumer).closeAuction(id))
      .to.emit(market, "RequestClosed").withArgs(id, Status.Expired, CloseReason.TooLate, escrow);
    expect(await token.balanceOf(await market.getAddress())).to.equal(0n);
    // an award in time gives the provider its whole execution time
    const id2 = await postRequest(f, { bidWindow: 60, execTime: 600 });
    await market.connect(f.providerA).bid(id2, offerId, PRICE, FEE, ZeroHash);
    await f.networkHelpers.time.increase(1000);
    await market.closeAuction(id2);
    const now = await f.networkHelpers.time.latest();
    expect((await market.request(id2)).deadline).to.equal(BigInt(now + 600));
  });

  it("6. nobody can take an honest verifier's key or replay its sealed verdict", async () => {
    const { registry } = f.deployment;
    // the proof names the provider it binds to, so an honest key cannot be re-registered by a copier
    const honestProof = await hostKeyProof(f, f.providerA, f.hostA);
    await expect(registry.connect(f.outsider).register(f.hostA.address, 0, 1, 500n * TOKEN, "", honestProof))
      .to.be.revertedWithCustomError(registry, "InvalidHostKey").withArgs(f.hostA.address);
    // (a copied commitment cannot be revealed by its copier: see the court's own tests)
  });

  it("7. one provider cannot close an auction to others by lowering its bid 1 wei at a time", async () => {
    const { market } = f.deployment;
    const offerA = await registerProvider(f, f.providerA, f.hostA, { offer: { pricePerMFuel: 1n, fee: 0n } });
    const offerB = await registerProvider(f, f.providerB, f.hostB, { offer: { pricePerMFuel: 1n, fee: 0n } });
    const id = await postRequest(f);
    let price = PRICE;
    await market.connect(f.providerA).bid(id, offerA, price, FEE, ZeroHash);
    await expect(market.connect(f.providerA).bid(id, offerA, price - 1n, FEE, ZeroHash))
      .to.be.revertedWithCustomError(market, "BidNotLower");
    // a 1% step at a time, many times over: there is no counter to exhaust
    for (let i = 0; i < 30; i++) {
      price = (price * 98n) / 100n;
      await market.connect(f.providerA).bid(id, offerA, price, FEE, ZeroHash);
    }
    await expect(market.connect(f.providerB).bid(id, offerB, price / 2n, FEE, ZeroHash)).to.emit(market, "BidPlaced");
  });

  it("8. reputation cannot be farmed: no self-dealing, no empty escrow, and records weigh value, not jobs", async () => {
    const g = await marketFixture({ ...COURT, minEscrow: TOKEN / 1000n });
    const { market, registry } = g.deployment;
    const offerId = await registerProvider(g, g.providerA, g.hostA, { offer: { pricePerMFuel: 0n, fee: 0n } });
    // the provider as its own consumer
    const own = await postRequest(g, {}, g.providerA);
    await expect(market.connect(g.providerA).bid(own, offerId, 0n, 0n, ZeroHash))
      .to.be.revertedWithCustomError(market, "SelfDealing").withArgs(own, g.providerA.address);
    // an empty escrow
    const now = await g.networkHelpers.time.latest();
    const { requestParams } = await import("../helpers/market.js");
    await expect(market.connect(g.consumer).postRequest(requestParams({ maxPricePerMFuel: 0n, maxFee: 0n }, now)))
      .to.be.revertedWithCustomError(market, "InvalidRequest").withArgs("escrow");
    // eight minimum-escrow jobs through a second address barely move the failure rate off the prior
    const sybil = g.outsider;
    for (let i = 0; i < 8; i++) {
      const id = await postRequest(g, { maxFuel: 1_000_000n, maxPricePerMFuel: 0n, maxFee: TOKEN / 1000n }, sybil);
      await market.connect(g.providerA).bid(id, offerId, 0n, TOKEN / 1000n, ZeroHash);
      await market.connect(sybil).acceptBid(id, g.providerA.address);
      const r = makeReport(id, { fuelUsed: 1n });
      await market.submitReport(r, await signUsageReport(g.hostA, g.signing, r));
      await market.connect(sybil).acceptReport(id);
    }
    expect(await registry.failureBpsOf(g.providerA.address)).to.equal(999n); // from 1000: 8 × 0.001 tokens against a 10-token prior
  });

  it("9. a fee-on-transfer token is refused at the first intake instead of eating escrows", async () => {
    const { ethers } = f;
    const leaky = await ethers.deployContract("FeeOnTransferToken");
    const d = await deployMarket(f.deployer, { ...COURT, tokenAddress: await leaky.getAddress(), minEscrow: 1n });
    const approve = leaky.getFunction("approve");
    await approve(d.addresses.registry, 2n ** 255n);
    await expect(d.registry.register(f.hostA.address, 0, 1, 500n * TOKEN, "", await hostKeyProofFor(d.addresses.registry, f.deployer, f.hostA)))
      .to.be.revertedWithCustomError(d.registry, "NonStandardToken").withArgs(500n * TOKEN, 495n * TOKEN);
    await approve(d.addresses.market, 2n ** 255n);
    const { requestParams } = await import("../helpers/market.js");
    const now = await f.networkHelpers.time.latest();
    await expect(d.market.postRequest(requestParams({}, now))).to.be.revertedWithCustomError(d.market, "NonStandardToken");
  });

  it("10. a consumer gains nothing from content nobody can fetch: the host reports it and keeps its stake", async () => {
    const { market, registry, token } = f.deployment;
    const { id } = await awardedAgreement(f, { price: PRICE, fee: FEE });
    const stakeBefore = (await registry.providerOf(f.providerA.address)).stake;
    const r = makeReport(id, { outcome: Outcome.Unavailable, fuelUsed: 0n, outputHash: keccakText("GET http://c.example/w.wasm: 404") });
    await market.submitReport(r, await signUsageReport(f.hostA, f.signing, r));
    await expect(market.claimBreach(id)).to.be.revertedWithCustomError(market, "InvalidStatus");
    await f.networkHelpers.time.increase(3601);
    await expect(market.settle(id)).to.changeTokenBalance(f.ethers, token, f.providerA, FEE);
    expect((await registry.providerOf(f.providerA.address)).stake).to.equal(stakeBefore);
  });

  it("12. one stake cannot back more agreements than it covers", async () => {
    const { market, registry } = f.deployment;
    // 100 tokens of stake cover one agreement worth 50.001 (penalty 50.001 + bond 10), not two
    const price = 5n * TOKEN / 100n;
    const offerId = await registerProvider(f, f.providerA, f.hostA, { stake: 100n * TOKEN });
    const a = await postRequest(f);
    const b = await postRequest(f);
    await market.connect(f.providerA).bid(a, offerId, price, FEE, ZeroHash);
    await market.connect(f.providerA).bid(b, offerId, price, FEE, ZeroHash);
    await f.networkHelpers.time.increase(61);
    await market.closeAuction(a);
    const p = await registry.providerOf(f.providerA.address);
    expect(p.exposure).to.equal((1_000_000_000n * price) / 1_000_000n + FEE + 10n * TOKEN);
    // the second award finds the free stake short: refunded, not left uncovered
    await expect(market.closeAuction(b)).to.emit(market, "RequestClosed").withArgs(b, Status.Expired, CloseReason.StakeShort, await market.request(b).then((r) => (r.maxFuel * r.maxPricePerMFuel) / 1_000_000n + r.maxFee));
    // and a new bid is refused up front
    const c = await postRequest(f);
    await expect(market.connect(f.providerA).bid(c, offerId, price, FEE, ZeroHash)).to.be.revertedWithCustomError(market, "StakeShort");
  });
});

async function hostKeyProofFor(registry: string, owner: HardhatEthersSigner, host: HardhatEthersSigner): Promise<string> {
  const { signHostKeyProof } = await import("../../contracts/client/signing.js");
  const { chainId } = await owner.provider!.getNetwork();
  return signHostKeyProof(host, chainId, registry, owner.address);
}
