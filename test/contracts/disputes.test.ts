import { expect } from "chai";
import {
  marketFixture, awardedAgreement, makeReport, stakeVerifiers, drawPanel, salt, keccakText, TOKEN,
  type Fixture,
} from "../helpers/market.js";
import { playDispute, claimAll, COURT, type Claim } from "../helpers/dispute.js";
import { signUsageReport, verdictCommitment, claimKey, UNAVAILABLE_KEY } from "../../contracts/client/signing.js";
import { Outcome, UNAVAILABLE_OUTPUT } from "../../contracts/client/typed-data.js";
import { Ruling, Status } from "../../contracts/client/status.js";

const M = 1_000_000n;
const PRICE = 2n * TOKEN / 100n;
const FEE = TOKEN / 1000n;
const BOND = 10n * TOKEN;
const SEAT = 20n * TOKEN;

describe("Disputes: the verifier court", () => {
  let f: Fixture;
  let id: bigint;
  let escrow: bigint;
  const truth: Claim = { fuelUsed: 400_000_000n, outputHash: keccakText("output") };
  const inflated: Claim = { fuelUsed: 900_000_000n, outputHash: keccakText("output") };

  async function reportAndDispute(claim: Claim, outcome: number = Outcome.Exited) {
    const { market } = f.deployment;
    const report = makeReport(id, { fuelUsed: claim.fuelUsed, outputHash: claim.outputHash, outcome: outcome as 0 });
    await market.submitReport(report, await signUsageReport(f.hostA, f.signing, report));
    await market.connect(f.consumer).openDispute(id);
  }

  function signersOf(...list: { address: string }[]) {
    return new Map(list.map((s) => [s.address, s as never]));
  }

  beforeEach(async () => {
    f = await marketFixture(COURT);
    ({ id } = await awardedAgreement(f, { price: PRICE, fee: FEE }));
    const r = await f.deployment.market.request(id);
    escrow = (r.maxFuel * r.maxPricePerMFuel) / M + r.maxFee;
    await stakeVerifiers(f, f.verifiers);
  });

  it("keeps a pool of staked verifiers that leave only after a delay, and freezes weights while a draw is pending", async () => {
    const { court, token } = f.deployment;
    await expect(court.connect(f.outsider).stake(99n * TOKEN)).to.be.revertedWithCustomError(court, "StakeTooLow");
    expect(await court.totalStake()).to.equal(300n * TOKEN);
    await reportAndDispute(inflated);
    // the draw's randomness is public once the opening block is mined: no weight may move until it is drawn
    expect(await court.pendingDraws()).to.equal(1n);
    await expect(court.connect(f.outsider).stake(100n * TOKEN)).to.be.revertedWithCustomError(court, "DrawPending").withArgs(1);
    await expect(court.connect(f.verifiers[0]!).requestLeave(10n * TOKEN)).to.be.revertedWithCustomError(court, "DrawPending");
    await drawPanel(f, id);
    expect(await court.pendingDraws()).to.equal(0n);
    // drawn stake is locked: only the rest may leave
    const v0 = await court.verifierOf(f.verifiers[0]!.address);
    const free = v0.stake - v0.locked;
    await expect(court.connect(f.verifiers[0]!).requestLeave(free + 1n)).to.be.revertedWithCustomError(court, "InvalidAmount");
    await court.connect(f.verifiers[0]!).requestLeave(free);
    await expect(court.connect(f.verifiers[0]!).withdraw()).to.be.revertedWithCustomError(court, "LeavePending");
    await f.networkHelpers.time.increase(7 * 24 * 3600);
    await expect(court.connect(f.verifiers[0]!).withdraw()).to.changeTokenBalance(f.ethers, token, f.verifiers[0]!, free);
  });

  it("overturns an inflated report: the consumer is refunded with the penalty, coherent verifiers are paid", async () => {
    const { market, court, token, registry } = f.deployment;
    await reportAndDispute(inflated);
    const consumerBefore = await token.balanceOf(f.consumer.address);
    const { ruling, rounds } = await playDispute(f, id, {
      verdictOf: () => truth, signers: signersOf(...f.verifiers), appeals: () => false,
    });
    expect(ruling).to.equal(Ruling.Overturned);
    expect(rounds).to.have.length(1);
    expect(rounds[0]!.seats).to.have.length(3);
    expect((await market.request(id)).status).to.equal(BigInt(Status.Overturned));
    const value = (1_000_000_000n * PRICE) / M + FEE;
    // escrow + penalty + the consumer's bond back + half the provider's verification fee
    expect(await token.balanceOf(f.consumer.address) - consumerBefore).to.equal(escrow + value + BOND + BOND / 2n);
    const p = await registry.providerOf(f.providerA.address);
    expect(p.disputesLost).to.equal(1n);
    expect(p.failedValue).to.equal(value);
    expect(p.exposure).to.equal(0n);
    // the three seats share half the verification fee by their locked stake
    const before = await Promise.all(f.verifiers.map((v) => court.verifierOf(v.address)));
    await claimAll(f, id, f.verifiers.map((v) => v.address));
    const after = await Promise.all(f.verifiers.map((v) => court.verifierOf(v.address)));
    const gained = after.reduce((sum, v, i) => sum + v.stake - before[i]!.stake, 0n);
    expect(gained).to.equal(BOND / 2n);
    expect(after.every((v) => v.locked === 0n)).to.equal(true);
  });

  it("upholds an honest report: the consumer's bond goes half to the provider, half to the verifiers", async () => {
    const { market, court, token } = f.deployment;
    await reportAndDispute(truth);
    const providerBefore = await token.balanceOf(f.providerA.address);
    const { ruling } = await playDispute(f, id, { verdictOf: () => truth, signers: signersOf(...f.verifiers), appeals: () => false });
    expect(ruling).to.equal(Ruling.Upheld);
    expect((await market.request(id)).status).to.equal(BigInt(Status.Settled));
    const payment = (truth.fuelUsed * PRICE) / M + FEE;
    expect(await token.balanceOf(f.providerA.address) - providerBefore).to.equal(payment + BOND / 2n);
    await claimAll(f, id, f.verifiers.map((v) => v.address));
    const total = (await Promise.all(f.verifiers.map((v) => court.verifierOf(v.address)))).reduce((s, v) => s + v.stake, 0n);
    expect(total).to.equal(300n * TOKEN + BOND / 2n);
  });

  it("slashes silent and incoherent seats into the coherent ones' reward", async () => {
    const { court } = f.deployment;
    await stakeVerifiers(f, [f.outsider], 100n * TOKEN);
    await reportAndDispute(truth);
    // verifier 0 lies, verifier 1 stays silent; the rest tell the truth
    const liar = f.verifiers[0]!.address;
    const silent = f.verifiers[1]!.address;
    const { ruling, rounds } = await playDispute(f, id, {
      verdictOf: (v) => (v === silent ? undefined : v === liar ? inflated : truth),
      signers: signersOf(...f.verifiers, f.outsider, f.consumer, f.providerA),
    });
    expect(ruling).to.equal(Ruling.Upheld);
    const all = [...f.verifiers, f.outsider].map((v) => v.address);
    const before = await Promise.all(all.map((v) => court.verifierOf(v)));
    await claimAll(f, id, all);
    const after = await Promise.all(all.map((v) => court.verifierOf(v)));
    const delta = new Map(all.map((v, i) => [v, after[i]!.stake - before[i]!.stake]));
    const seatsOf = (v: string) => rounds[0]!.seats.filter((s) => s === v).length;
    // in the sampled round each silent or lying seat lost its whole lock
    expect(delta.get(silent)! <= -BigInt(seatsOf(silent)) * SEAT).to.equal(true);
    if (seatsOf(liar) > 0) expect(delta.get(liar)! < 0n).to.equal(true);
    // nothing was created or destroyed: the pool gained exactly the verifiers' half of the forfeited bonds
    const net = [...delta.values()].reduce((a, b) => a + b, 0n);
    const [closed] = await court.queryFilter(court.filters.CaseClosed(id));
    expect(net).to.equal(closed!.args.forfeited / 2n);
  });

  it("commits name the verifier: a copied commitment cannot be revealed, nor a verdict before the commit window ends", async () => {
    const { court } = f.deployment;
    await reportAndDispute(inflated);
    const seats = await drawPanel(f, id);
    const [first] = [...new Set(seats)];
    const a = f.verifiers.find((v) => v.address === first)!;
    const s = salt();
    const commitment = verdictCommitment(f.chainId, f.deployment.addresses.court, {
      verifier: a.address, agreementId: id, round: 0, fuelUsed: truth.fuelUsed, outputHash: truth.outputHash, salt: s,
    });
    await court.connect(a).commitVerdict(id, commitment);
    if (new Set(seats).size > 1) {
      // others still have to commit: nobody may reveal yet (with one verifier on every seat, it may)
      await expect(court.connect(a).revealVerdict(id, truth.fuelUsed, truth.outputHash, s))
        .to.be.revertedWithCustomError(court, "WrongPhase").withArgs(id, "not revealing");
    }
    // someone who was not drawn cannot commit at all; a drawn one copying the commitment cannot reveal it
    await expect(court.connect(f.outsider).commitVerdict(id, commitment)).to.be.revertedWithCustomError(court, "NotOnPanel");
    const other = f.verifiers.find((v) => v.address !== a.address && seats.includes(v.address));
    const rd = await court.roundOf(id, 0);
    if (other) {
      await court.connect(other).commitVerdict(id, commitment);
      await f.networkHelpers.time.increaseTo(rd.commitDeadline + 1n);
      await expect(court.connect(other).revealVerdict(id, truth.fuelUsed, truth.outputHash, s))
        .to.be.revertedWithCustomError(court, "RevealMismatch").withArgs(id, other.address);
    } else {
      await f.networkHelpers.time.increaseTo(rd.commitDeadline + 1n);
    }
    await expect(court.connect(a).revealVerdict(id, truth.fuelUsed, truth.outputHash, salt()))
      .to.be.revertedWithCustomError(court, "RevealMismatch");
    await court.connect(a).revealVerdict(id, truth.fuelUsed, truth.outputHash, s);
  });

  it("never draws a party, its host key or its agents", async () => {
    const { court, registry } = f.deployment;
    // the consumer, the provider, its host key and its agent all stake heavily
    await registry.connect(f.providerA).authoriseAgent(f.agent.address, true);
    await stakeVerifiers(f, [f.consumer, f.providerA, f.hostA, f.agent], 10_000n * TOKEN);
    await reportAndDispute(truth);
    const seats = await drawPanel(f, id);
    const parties = [f.consumer, f.providerA, f.hostA, f.agent].map((s) => s.address);
    expect(seats.some((s) => parties.includes(s))).to.equal(false);
    // with 99% of the pool's stake theirs, most of the twelve attempts hit a party and the panel may be short
    expect((await court.roundOf(id, 0)).totalVotes).to.equal(BigInt(seats.length));
  });

  it("lets the loser appeal to the full court, where the stake majority decides", async () => {
    const { court, token } = f.deployment;
    // round 0: everyone lies; the provider appeals to the full court, where honest stake is the majority
    await stakeVerifiers(f, [f.outsider], 1000n * TOKEN);
    await reportAndDispute(truth);
    let round = 0;
    const providerBefore = await token.balanceOf(f.providerA.address);
    const { ruling, rounds } = await playDispute(f, id, {
      verdictOf: (v) => (round === 0 || v !== f.outsider.address ? inflated : truth),
      signers: signersOf(...f.verifiers, f.outsider, f.consumer, f.providerA),
      appeals: (loser) => { round += 1; return loser === "provider"; },
    });
    expect(rounds).to.have.length(2);
    expect(rounds[0]!.decidedKey).to.equal(claimKey(inflated.fuelUsed, inflated.outputHash));
    expect(ruling).to.equal(Ruling.Upheld);
    // the provider posted twice the bond to appeal and got it back, with its pay and half the consumer's bond
    const payment = (truth.fuelUsed * PRICE) / M + FEE;
    expect(await token.balanceOf(f.providerA.address) - providerBefore).to.equal(payment + BOND / 2n);
    // the first round's ballots were incoherent with the final ruling: each loses its whole lock
    for (const v of new Set(rounds[0]!.seats)) {
      const ballot = await court.ballotOf(id, 0, v);
      await expect(court.claimBallot(id, 0, v)).to.emit(court, "BallotClaimed").withArgs(id, 0, v, false, ballot.locked);
    }
  });

  it("escalates a round with no majority, and voids a case the full court cannot decide", async () => {
    const { market, token, registry } = f.deployment;
    await reportAndDispute(inflated);
    const consumerBefore = await token.balanceOf(f.consumer.address);
    // nobody ever answers
    const { ruling, rounds } = await playDispute(f, id, { verdictOf: () => undefined, signers: signersOf(...f.verifiers) });
    expect(rounds.map((r) => r.decidedKey)).to.deep.equal([0, 0].map(() => "0x" + "00".repeat(32)));
    expect(ruling).to.equal(Ruling.Void);
    expect((await market.request(id)).status).to.equal(BigInt(Status.Annulled));
    // nothing proven: escrow and bond back to the consumer, plus the silent seats' slashed stake
    const gained = await token.balanceOf(f.consumer.address) - consumerBefore;
    expect(gained).to.equal(escrow + BOND + 3n * SEAT);
    const p = await registry.providerOf(f.providerA.address);
    expect([p.completedValue, p.failedValue, p.exposure, p.openAgreements]).to.deep.equal([0n, 0n, 0n, 0n]);
  });

  it("rules ContentWithheld when verifiers cannot fetch the consumer's content, paying the report", async () => {
    const { market } = f.deployment;
    await reportAndDispute(truth);
    const unavailable = { fuelUsed: 0n, outputHash: UNAVAILABLE_OUTPUT };
    expect(claimKey(0n, UNAVAILABLE_OUTPUT)).to.equal(UNAVAILABLE_KEY);
    const { ruling } = await playDispute(f, id, { verdictOf: () => unavailable, signers: signersOf(...f.verifiers), appeals: () => false });
    expect(ruling).to.equal(Ruling.ContentWithheld);
    expect((await market.request(id)).status).to.equal(BigInt(Status.Settled));
  });

  it("overturns a false 'content unavailable' report without the penalty", async () => {
    const { market, token, registry } = f.deployment;
    await reportAndDispute({ fuelUsed: 0n, outputHash: keccakText("tried http://… : 404") }, Outcome.Unavailable);
    const consumerBefore = await token.balanceOf(f.consumer.address);
    const stakeBefore = (await registry.providerOf(f.providerA.address)).stake;
    const { ruling } = await playDispute(f, id, { verdictOf: () => truth, signers: signersOf(...f.verifiers), appeals: () => false });
    expect(ruling).to.equal(Ruling.Overturned);
    expect(await token.balanceOf(f.consumer.address) - consumerBefore).to.equal(escrow + BOND + BOND / 2n);
    expect((await registry.providerOf(f.providerA.address)).stake).to.equal(stakeBefore - BOND);
    expect(await market.reportOf(id).then((r) => r.unavailable)).to.equal(true);
  });

  it("draws from a later block when the opening block's hash is too old to read", async () => {
    const { court } = f.deployment;
    await reportAndDispute(inflated);
    await f.networkHelpers.mine(300);
    await expect(court.drawPanel(id)).to.emit(court, "DrawRescheduled");
    expect(await drawPanel(f, id)).to.have.length(3);
  });

  it("lets anyone appeal for twice the bond, returning it when the final ruling bears the appeal out", async () => {
    const { court, token } = f.deployment;
    await expect(court.openCase(1, f.consumer.address, f.providerA.address, f.hostA.address, truth.outputHash, false, 1n))
      .to.be.revertedWithCustomError(court, "NotMarket");
    await stakeVerifiers(f, [f.outsider], 1000n * TOKEN);
    await reportAndDispute(truth);
    // the drawn panel (all liars) overturns an honest report; a bystander appeals it, and wins
    const bystander = f.signers[15]!;
    let appealed = false;
    const before = await token.balanceOf(bystander.address);
    const { ruling } = await playDispute(f, id, {
      verdictOf: () => (appealed ? truth : inflated),
      signers: new Map([...f.verifiers, f.outsider, f.consumer, f.providerA].map((s) => [s.address, s])),
      appeals: () => false,
      appellant: () => { appealed = true; return bystander; },
    });
    expect(ruling).to.equal(Ruling.Upheld);
    expect(await token.balanceOf(bystander.address)).to.equal(before);
    const [appeal] = await court.queryFilter(court.filters.Appealed(id));
    expect(appeal!.args.bond).to.equal(2n * BOND);
    expect(appeal!.args.appellant).to.equal(bystander.address);
    expect(await court.appealBond(id, 1)).to.equal(2n * BOND);
  });
});
