/**
 * `npm run bench:disputes`: what a dispute costs and what an attacker can get from one.
 *
 * 1. Gas of every step of a dispute with the default court (a 5-seat first round, an 11-seat
 *    appeal round, then the full court), measured on the in-process chain.
 * 2. The contract's own draw, run on chain: for an attacker holding 10%, 20%, 33% and 45% of the
 *    verifier stake, DRAWS disputes per share are opened and their first panel drawn; the
 *    attacker's seats are compared with Binomial(5, share) (the distribution the model assumes).
 * 3. From that distribution, exactly (bench/disputes/game-model.ts): the probability that an
 *    honest report is overturned after appeals (`flipProbability`) and the attacker's expected
 *    profit per dispute under its best strategy (`attackerExpectedProfit`), for the attacker as a
 *    consumer disputing an honest report and as a provider inflating its report (the worse of the
 *    two is recorded), with honest verifiers all taking part, and with 90% of them.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { network } from "hardhat";
import { ZeroHash, id as keccakText, type ContractTransactionResponse } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { DEFAULT_MARKET_PARAMS, deployMarket, type MarketParams } from "../contracts/client/deploy.js";
import { signHostKeyProof, signUsageReport, verdictCommitment } from "../contracts/client/signing.js";
import { Outcome } from "../contracts/client/typed-data.js";
import { attackOutcome, binomial, roundFlipProbability, type GameParams } from "./disputes/game-model.js";

const TOKEN = 10n ** 18n;
const SHARES = [0.1, 0.2, 0.33, 0.45];
const DRAWS = Number(process.env.DRAWS ?? 2000);

async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<number> {
  const receipt = await (await tx).wait();
  return Number(receipt!.gasUsed);
}

/** A fresh chain with the market and `verifiers` staked as given; one provider, one consumer. */
async function setUp(params: Partial<MarketParams>, stakes: bigint[]) {
  const { ethers, networkHelpers } = await network.create();
  const signers = await ethers.getSigners();
  const [deployer, consumer, provider, host] = signers as HardhatEthersSigner[];
  const verifiers = signers.slice(4, 4 + stakes.length);
  const d = await deployMarket(deployer!, { tokenMintable: true, minEscrow: 1n, ...params });
  const chainId = (await ethers.provider.getNetwork()).chainId;
  for (const s of [consumer!, provider!, ...verifiers]) {
    await (await d.token.mint(s.address, 10n ** 8n * TOKEN)).wait();
    for (const spender of [d.addresses.market, d.addresses.registry, d.addresses.court]) {
      await (await d.token.connect(s).approve(spender, 2n ** 255n)).wait();
    }
  }
  const proof = await signHostKeyProof(host!, chainId, d.addresses.registry, provider!.address);
  await (await d.registry.connect(provider!).register(host!.address, 0, 1, 10n ** 7n * TOKEN, "", proof)).wait();
  const now = await networkHelpers.time.latest();
  await (await d.offers.connect(provider!).publish({
    provider: provider!.address, pricePerMFuel: 1n, fee: 0n, maxFuel: 10n ** 12n, memoryMiB: 512, meteringVersion: 1,
    concurrentJobs: 64, latencyClass: 0, expiresAt: now + 10 * 365 * 86_400,
  })).wait();
  for (const [i, v] of verifiers.entries()) await (await d.court.connect(v).stake(stakes[i]!)).wait();
  await networkHelpers.mine();
  return { d, ethers, networkHelpers, chainId, consumer: consumer!, provider: provider!, host: host!, verifiers };
}

type World = Awaited<ReturnType<typeof setUp>>;

/** Posts, awards and reports one agreement (worth `value`), and has its consumer dispute it. */
async function disputed(w: World, fuelUsed = 400_000_000n): Promise<bigint> {
  const { d, networkHelpers } = w;
  const now = await networkHelpers.time.latest();
  await (await d.market.connect(w.consumer).postRequest({
    workloadHash: keccakText("workload"), workloadURI: "", inputHash: ZeroHash, inputURI: "", maxFuel: 1_000_000_000n,
    maxPricePerMFuel: TOKEN / 20n, maxFee: 0n, minMemoryMiB: 1, allowedTiers: 7, region: 0, maxLatencyClass: 9,
    bidWindow: 600, execTime: 600, deadline: now + 86_400, meteringVersion: 1, valueAtRisk: 0n,
  })).wait();
  const id = await d.market.requestCount();
  await (await d.market.connect(w.provider).bid(id, 1, TOKEN / 20n, 0n, ZeroHash)).wait();
  await (await d.market.connect(w.consumer).acceptBid(id, w.provider.address)).wait();
  const report = {
    agreementId: id, fuelUsed, peakMemoryPages: 1, wallMs: 1, outcome: Outcome.Exited, exitCode: 0,
    outputHash: keccakText("output"), meteringVersion: 1, nonce: id,
  };
  await (await d.market.submitReport(report, await signUsageReport(w.host, { chainId: w.chainId, market: d.addresses.market }, report))).wait();
  return id;
}

/** Mines a block and draws the current panel of case `id`; returns the gas and the seats. */
async function draw(w: World, id: bigint): Promise<{ gas: number; seats: string[] }> {
  await w.networkHelpers.mine();
  const receipt = await (await w.d.court.drawPanel(id)).wait();
  const seats = receipt!.logs
    .map((log) => { try { return w.d.court.interface.parseLog(log); } catch { return null; } })
    .filter((e) => e?.name === "VerifierDrawn")
    .map((e) => e!.args.verifier as string);
  return { gas: Number(receipt!.gasUsed), seats };
}

/** Every `voter` commits then reveals `claim` in the current round; returns the gas of each step (averaged). */
async function vote(w: World, id: bigint, voters: HardhatEthersSigner[], claim: { fuelUsed: bigint; outputHash: string }) {
  const { court } = w.d;
  const round = Number((await court.caseOf(id)).round);
  let commit = 0;
  let reveal = 0;
  for (const [i, v] of voters.entries()) {
    const salt = keccakText(`salt-${i}`);
    const commitment = verdictCommitment(w.chainId, w.d.addresses.court, { verifier: v.address, agreementId: id, round, ...claim, salt });
    commit += await gasOf(court.connect(v).commitVerdict(id, commitment));
  }
  const rd = await court.roundOf(id, round);
  if (rd.committedVotes !== rd.totalVotes || round === Number(await court.sampledRounds())) await w.networkHelpers.time.increaseTo(rd.commitDeadline + 1n);
  for (const [i, v] of voters.entries()) {
    reveal += await gasOf(court.connect(v).revealVerdict(id, claim.fuelUsed, claim.outputHash, keccakText(`salt-${i}`)));
  }
  const after = await court.roundOf(id, round);
  if (after.revealedVotes !== after.totalVotes || round === Number(await court.sampledRounds())) await w.networkHelpers.time.increaseTo(after.revealDeadline + 1n);
  return { commit: commit / voters.length, reveal: reveal / voters.length, commitTotal: commit, revealTotal: reveal };
}

/** Gas of each step of a dispute and of an appeal round, with the default court. */
async function measureGas() {
  const w = await setUp({}, Array.from({ length: 12 }, () => 1000n * TOKEN));
  const { court, market } = w.d;
  const truth = { fuelUsed: 400_000_000n, outputHash: keccakText("output") };
  const bySigner = (addresses: string[]) => [...new Set(addresses)].map((a) => w.verifiers.find((v) => v.address === a)!);
  const steps: Record<string, number> = {};

  // the default path: dispute, a 5-seat panel, commit, reveal, tally, close after the appeal window, claims
  let id = await disputed(w, 900_000_000n);
  await (await market.connect(w.consumer).openDispute(id)).wait();
  const openTx = (await market.queryFilter(market.filters.DisputeOpened(id)))[0]!;
  steps.openDispute = Number((await openTx.getTransactionReceipt()).gasUsed);
  const first = await draw(w, id);
  steps.drawPanel5 = first.gas;
  const v0 = await vote(w, id, bySigner(first.seats), truth);
  steps.commitVerdict = Math.round(v0.commit);
  steps.revealVerdict = Math.round(v0.reveal);
  steps.tallyRound = await gasOf(court.tallyRound(id));
  await w.networkHelpers.time.increase(Number(DEFAULT_MARKET_PARAMS.appealWindow) + 1);
  steps.closeCase = await gasOf(court.closeCase(id));
  let claims = 0;
  for (const v of new Set(first.seats)) claims += await gasOf(court.claimBallot(id, 0, v));
  steps.claimBallot = Math.round(claims / new Set(first.seats).size);
  steps.wholeDispute = steps.openDispute + steps.drawPanel5 + v0.commitTotal + v0.revealTotal + steps.tallyRound + steps.closeCase + claims;

  // an appeal round: the 5-seat panel upholds the report, the consumer appeals to 11 seats
  id = await disputed(w);
  await (await market.connect(w.consumer).openDispute(id)).wait();
  const r0 = await draw(w, id);
  await vote(w, id, bySigner(r0.seats), truth);
  await (await court.tallyRound(id)).wait();
  steps.appeal = await gasOf(court.connect(w.consumer).appeal(id));
  const r1 = await draw(w, id);
  steps.drawPanel11 = r1.gas;
  const v1 = await vote(w, id, bySigner(r1.seats), truth);
  const tally1 = await gasOf(court.tallyRound(id));
  steps.wholeAppealRound = steps.appeal + r1.gas + v1.commitTotal + v1.revealTotal + tally1;
  // and on to the full court, where every verifier votes with its stake
  await (await court.connect(w.consumer).appeal(id)).wait();
  const v2 = await vote(w, id, w.verifiers, truth);
  steps.fullCourtCommit = Math.round(v2.commit);
  steps.fullCourtReveal = Math.round(v2.reveal);
  steps.fullCourtTallyAndClose = await gasOf(court.tallyRound(id));
  return steps;
}

/** Draws the first panel of DRAWS disputes with an attacker holding `share` of the stake. */
async function drawCheck(share: number) {
  // 4 attacker and 8 honest verifiers; a seat locks 1 wei so no draw is ever skipped for want of free stake
  const total = 12_000n * TOKEN;
  const attacker = (total * BigInt(Math.round(share * 10_000))) / 10_000n;
  const stakes = [...Array(4).fill(attacker / 4n), ...Array(8).fill((total - attacker) / 8n)] as bigint[];
  const w = await setUp({ seatStake: 1n, minVerifierStake: 1n }, stakes);
  const attackers = new Set(w.verifiers.slice(0, 4).map((v) => v.address));
  const histogram = Array(6).fill(0) as number[];
  for (let i = 0; i < DRAWS; i++) {
    const id = await disputed(w);
    await (await w.d.market.connect(w.consumer).openDispute(id)).wait();
    const { seats } = await draw(w, id);
    histogram[seats.filter((s) => attackers.has(s)).length]! += 1;
  }
  const exact = binomial(5, share);
  const { chiSquare, degreesOfFreedom } = pearson(histogram, exact.map((q) => q * DRAWS));
  return {
    disputes: DRAWS,
    attackerSeatsHistogram: histogram,
    binomialExpected: exact.map((q) => Number((q * DRAWS).toFixed(1))),
    chiSquare: Number(chiSquare.toFixed(2)),
    degreesOfFreedom,
    attackerSeatShare: histogram.reduce((sum, count, k) => sum + count * k, 0) / (5 * DRAWS),
    roundFlipEmpirical: (histogram[3]! + histogram[4]! + histogram[5]!) / DRAWS,
    roundFlipExact: Number(roundFlipProbability(5, share).toFixed(5)),
  };
}

/**
 * Pearson's chi² of `seen` against `expected`, with the upper bins whose expected count is under 5
 * pooled into one (the usual condition for the statistic to follow the chi² distribution).
 */
function pearson(seen: number[], expected: number[]): { chiSquare: number; degreesOfFreedom: number } {
  const bins: { seen: number; expected: number }[] = [];
  for (let k = 0; k < seen.length; k++) {
    const last = bins.at(-1);
    if (last && last.expected < 5) {
      last.seen += seen[k]!;
      last.expected += expected[k]!;
    } else bins.push({ seen: seen[k]!, expected: expected[k]! });
  }
  while (bins.length > 1 && bins.at(-1)!.expected < 5) {
    const tail = bins.pop()!;
    bins.at(-1)!.seen += tail.seen;
    bins.at(-1)!.expected += tail.expected;
  }
  const chiSquare = bins.reduce((sum, b) => sum + (b.seen - b.expected) ** 2 / b.expected, 0);
  return { chiSquare, degreesOfFreedom: bins.length - 1 };
}

const started = Date.now();
const disputeGas = await measureGas();
const game: GameParams = {
  panels: [DEFAULT_MARKET_PARAMS.verifierPanel, 2 * DEFAULT_MARKET_PARAMS.verifierPanel + 1],
  bond: Number(DEFAULT_MARKET_PARAMS.disputeBond / TOKEN),
  seatStake: Number(DEFAULT_MARKET_PARAMS.seatStake / TOKEN),
  courtLock: DEFAULT_MARKET_PARAMS.courtLockBps / 10_000,
  poolStake: 12_000,
  value: 50,
  penalty: 50 * (DEFAULT_MARKET_PARAMS.penaltyBps / 10_000),
  payment: 20,
  participation: 1,
};
const flipProbability: Record<string, number> = {};
const attackerExpectedProfit: Record<string, number> = {};
const detail: Record<string, unknown> = {};
for (const share of SHARES) {
  const key = String(share);
  const check = await drawCheck(share);
  const asConsumer = attackOutcome(game, share, "consumer");
  const asProvider = attackOutcome(game, share, "provider");
  const worse = asConsumer.attackerExpectedProfit >= asProvider.attackerExpectedProfit ? asConsumer : asProvider;
  flipProbability[key] = Math.max(asConsumer.flipProbability, asProvider.flipProbability);
  attackerExpectedProfit[key] = Number(worse.attackerExpectedProfit.toFixed(3));
  const partial = { ...game, participation: 0.9 };
  detail[key] = {
    drawCheck: check,
    asConsumer,
    asProvider,
    withNinetyPercentHonestParticipation: {
      flipProbability: Math.max(attackOutcome(partial, share, "consumer").flipProbability, attackOutcome(partial, share, "provider").flipProbability),
      attackerExpectedProfit: Math.max(attackOutcome(partial, share, "consumer").attackerExpectedProfit, attackOutcome(partial, share, "provider").attackerExpectedProfit),
    },
    flipProbabilityWithoutAppeal: check.roundFlipExact,
  };
}

console.log("\nGas of a dispute (default court: 5 seats, an 11-seat appeal round, then the full court)\n");
for (const [step, gas] of Object.entries(disputeGas)) console.log(`${step.padEnd(24)} ${String(gas).padStart(9)}`);
console.log(`\nThe contract's draw (${DRAWS} first panels per share) and the attack, computed exactly from it\n`);
console.log("share   seats 0..5 (on chain)              chi² (df)  seat share  P(win 5 seats)     flip after appeals  attacker profit/dispute");
for (const share of SHARES) {
  const d = detail[String(share)] as { drawCheck: Awaited<ReturnType<typeof drawCheck>> };
  console.log(
    `${String(share).padEnd(6)}  ${d.drawCheck.attackerSeatsHistogram.join(" ").padEnd(33)}  ${String(d.drawCheck.chiSquare).padStart(5)} (${d.drawCheck.degreesOfFreedom})` +
      `  ${d.drawCheck.attackerSeatShare.toFixed(4)}  ` +
      `${d.drawCheck.roundFlipEmpirical.toFixed(4)} (${d.drawCheck.roundFlipExact.toFixed(4)})  ${flipProbability[String(share)]!.toFixed(4).padStart(18)}  ${attackerExpectedProfit[String(share)]!.toFixed(2).padStart(10)} tokens`,
  );
}
console.log(`\n(${((Date.now() - started) / 1000).toFixed(0)} s; the 5% critical chi² is 11.07 with 5 degrees of freedom, 9.49 with 4, 7.81 with 3)`);

mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(new URL("./results/disputes.json", import.meta.url), JSON.stringify({
  disputeGas, flipProbability, attackerExpectedProfit, game, drawsPerShare: DRAWS, detail,
}, null, 2) + "\n");
