import { BigInt, Bytes, crypto, ethereum, log } from "@graphprotocol/graph-ts";
import {
  Appealed,
  BallotClaimed,
  CaseClosed,
  CaseOpened,
  DrawRescheduled,
  PanelDrawn,
  RoundOpened,
  RoundTallied,
  VerdictCommitted,
  VerdictRevealed,
  VerifierDrawn,
  VerifierLeaving,
  VerifierStaked,
  VerifierWithdrew,
} from "../generated/VerifierCourt/VerifierCourt";
import { Appeal, Ballot, Dispute, DisputeRound, Provider, Verdict, Verifier } from "../generated/schema";
import { loadSummary } from "./summary";

// The verifier court (VerifierCourt: VerifierStaking + DisputeCourt): the pool of staked verifiers
// and each dispute's rounds. A case opens (CaseOpened) in the transaction of the market's
// DisputeOpened, before it; its ruling reaches the market (DisputeResolved) before CaseClosed.

const RULING_NAMES = ["None", "Upheld", "Overturned", "ContentWithheld", "Void"];
const RULING_UPHELD = 1;
const RULING_OVERTURNED = 2;
const RULING_CONTENT_WITHHELD = 3;
const RULING_VOID = 4;

/** ClaimKeys.keyOf: keccak256(abi.encode(uint64 fuelUsed, bytes32 outputHash)). */
export function claimKeyOf(fuelUsed: BigInt, outputHash: Bytes): Bytes {
  let buf = new Bytes(64);
  let fuel = fuelUsed.toU64();
  for (let i = 0; i < 8; i++) buf[31 - i] = u8((fuel >> (8 * i)) & 0xff);
  for (let i = 0; i < 32 && i < outputHash.length; i++) buf[32 + i] = outputHash[i];
  return Bytes.fromUint8Array(crypto.keccak256(buf));
}

function roundId(id: BigInt, round: i32): string {
  return id.toString() + "-" + round.toString();
}

function ballotId(id: BigInt, round: i32, verifier: Bytes): string {
  return roundId(id, round) + "-" + verifier.toHexString();
}

function loadDispute(id: BigInt): Dispute | null {
  let d = Dispute.load(id.toString());
  if (d == null) log.warning("skipping an event of unknown dispute {}", [id.toString()]);
  return d;
}

function loadRound(id: BigInt, round: i32): DisputeRound | null {
  let r = DisputeRound.load(roundId(id, round));
  if (r == null) log.warning("skipping an event of unknown round {} of dispute {}", [round.toString(), id.toString()]);
  return r;
}

function loadVerifier(address: Bytes, event: ethereum.Event): Verifier {
  let v = Verifier.load(address.toHexString());
  if (v == null) {
    v = new Verifier(address.toHexString());
    v.stake = BigInt.zero();
    v.leaving = BigInt.zero();
    v.leaveReadyAt = BigInt.zero();
    v.withdrawn = BigInt.zero();
    v.seats = 0;
    v.rewarded = BigInt.zero();
    v.slashed = BigInt.zero();
    v.coherentBallots = 0;
    v.incoherentBallots = 0;
    v.stakedAt = event.block.timestamp;
  }
  v.updatedAt = event.block.timestamp;
  return v;
}

/** Sets a verifier's pool stake, keeping the market totals and the provider's verifier flag in step. */
function setStake(v: Verifier, stake: BigInt): void {
  let s = loadSummary();
  let was = v.stake.gt(BigInt.zero());
  let is = stake.gt(BigInt.zero());
  if (!was && is) s.verifiers = s.verifiers + 1;
  if (was && !is) s.verifiers = s.verifiers - 1;
  s.verifierStake = s.verifierStake.plus(stake).minus(v.stake);
  s.save();
  v.stake = stake;
  if (was != is) {
    let p = Provider.load(v.id);
    if (p != null) {
      p.verifier = is;
      p.save();
    }
  }
}

export function handleVerifierStaked(event: VerifierStaked): void {
  let v = loadVerifier(event.params.verifier, event);
  setStake(v, event.params.stake);
  v.save();
}

export function handleVerifierLeaving(event: VerifierLeaving): void {
  let v = loadVerifier(event.params.verifier, event);
  setStake(v, event.params.stake);
  v.leaving = event.params.amount;
  v.leaveReadyAt = event.params.readyAt;
  v.save();
}

export function handleVerifierWithdrew(event: VerifierWithdrew): void {
  let v = loadVerifier(event.params.verifier, event);
  v.leaving = BigInt.zero();
  v.leaveReadyAt = BigInt.zero();
  v.withdrawn = v.withdrawn.plus(event.params.amount);
  v.save();
}

export function handleCaseOpened(event: CaseOpened): void {
  let p = event.params;
  let id = p.id.toString();
  let d = new Dispute(id);
  d.agreement = id;
  d.consumer = p.consumer;
  d.provider = p.provider.toHexString();
  d.bond = p.bond;
  d.reportKey = p.reportKey;
  d.openedAt = event.block.timestamp;
  d.round = 0;
  d.phase = "Drawing";
  d.resolved = false;
  d.save();
}

export function handleRoundOpened(event: RoundOpened): void {
  let p = event.params;
  let d = loadDispute(p.id);
  if (d == null) return;
  let r = new DisputeRound(roundId(p.id, p.round));
  r.dispute = d.id;
  r.round = p.round;
  r.panelSize = p.seats.toI32();
  r.fullCourt = p.seats.isZero();
  if (!r.fullCourt) r.drawBlock = p.drawBlock;
  r.reschedules = 0;
  r.seatsDrawn = 0;
  r.drawn = false;
  let appeal = Appeal.load(r.id);
  if (appeal != null) {
    r.appeal = appeal.id;
    r.appellant = appeal.appellant;
    r.bond = appeal.bond;
  } else if (p.round == 0) {
    r.appellant = d.consumer;
    r.bond = d.bond;
  } else {
    r.bond = BigInt.zero(); // escalated with no majority: nobody appealed
  }
  r.committedVotes = BigInt.zero();
  r.revealedVotes = BigInt.zero();
  r.tallied = false;
  r.openedAt = event.block.timestamp;
  r.openedBlock = event.block.number;
  r.save();
  d.round = p.round;
  d.phase = "Drawing";
  d.verdictDeadline = null;
  d.save();
}

export function handleDrawRescheduled(event: DrawRescheduled): void {
  let r = loadRound(event.params.id, event.params.round);
  if (r == null) return;
  r.drawBlock = event.params.drawBlock;
  r.reschedules = r.reschedules + 1;
  r.save();
}

function loadBallot(id: BigInt, round: DisputeRound, verifier: Bytes, event: ethereum.Event): Ballot {
  let key = ballotId(id, round.round, verifier);
  let b = Ballot.load(key);
  if (b == null) {
    b = new Ballot(key);
    b.dispute = round.dispute;
    b.round = round.id;
    b.roundNumber = round.round;
    let v = loadVerifier(verifier, event);
    v.save();
    b.verifier = v.id;
    b.seats = 0;
    b.votes = BigInt.zero();
    b.committed = false;
    b.revealed = false;
    b.claimed = false;
    b.reward = BigInt.zero();
    b.slashed = BigInt.zero();
  }
  return b;
}

export function handleVerifierDrawn(event: VerifierDrawn): void {
  let p = event.params;
  let r = loadRound(p.id, p.round);
  if (r == null) return;
  let b = loadBallot(p.id, r, p.verifier, event);
  b.seats = b.seats + 1;
  b.votes = b.votes.plus(BigInt.fromI32(1));
  b.save();
  let v = loadVerifier(p.verifier, event);
  v.seats = v.seats + 1;
  v.save();
}

export function handlePanelDrawn(event: PanelDrawn): void {
  let p = event.params;
  let r = loadRound(p.id, p.round);
  if (r == null) return;
  r.seatsDrawn = p.seats.toI32();
  r.drawn = true;
  r.drawBlock = null;
  r.commitDeadline = p.commitDeadline;
  r.revealDeadline = p.revealDeadline;
  if (!r.fullCourt) r.totalVotes = p.seats;
  r.save();
  let d = loadDispute(p.id);
  if (d == null) return;
  d.phase = "Committing";
  d.verdictDeadline = p.revealDeadline;
  d.save();
}

export function handleVerdictCommitted(event: VerdictCommitted): void {
  let p = event.params;
  let r = loadRound(p.id, p.round);
  if (r == null) return;
  let b = loadBallot(p.id, r, p.verifier, event);
  b.committed = true;
  b.committedAt = event.block.timestamp;
  b.votes = p.votes;
  b.save();
  r.committedVotes = r.committedVotes.plus(p.votes);
  r.save();
}

export function handleVerdictRevealed(event: VerdictRevealed): void {
  let p = event.params;
  let r = loadRound(p.id, p.round);
  let d = loadDispute(p.id);
  if (r == null || d == null) return;
  let key = claimKeyOf(p.fuelUsed, p.outputHash);
  let agrees = key.equals(d.reportKey);
  let b = loadBallot(p.id, r, p.verifier, event);
  b.revealed = true;
  b.revealedAt = event.block.timestamp;
  b.fuelUsed = p.fuelUsed;
  b.outputHash = p.outputHash;
  b.claimKey = key;
  b.agreesWithReport = agrees;
  b.save();
  let v = new Verdict(b.id);
  v.dispute = d.id;
  v.round = p.round;
  v.ballot = b.id;
  v.verifier = b.verifier;
  v.fuelUsed = p.fuelUsed;
  v.outputHash = p.outputHash;
  v.claimKey = key;
  v.agrees = agrees;
  v.votes = p.votes;
  v.submittedAt = event.block.timestamp;
  v.txHash = event.transaction.hash;
  v.save();
  r.revealedVotes = r.revealedVotes.plus(p.votes);
  r.save();
  d.phase = "Revealing";
  d.save();
}

export function handleRoundTallied(event: RoundTallied): void {
  let p = event.params;
  let r = loadRound(p.id, p.round);
  let d = loadDispute(p.id);
  if (r == null || d == null) return;
  let decided = !p.decidedKey.equals(Bytes.fromHexString("0x0000000000000000000000000000000000000000000000000000000000000000"));
  r.tallied = true;
  r.talliedAt = event.block.timestamp;
  r.decided = decided;
  if (decided) {
    r.decidedKey = p.decidedKey;
    r.decidedForReport = p.decidedKey.equals(d.reportKey);
  }
  r.leadingVotes = p.leadingVotes;
  r.revealedVotes = p.revealedVotes;
  r.totalVotes = p.totalVotes;
  if (!p.appealDeadline.isZero()) r.appealDeadline = p.appealDeadline;
  r.save();
  // A decided sampled round waits for an appeal; otherwise RoundOpened (escalation) or CaseClosed follows.
  if (!p.appealDeadline.isZero()) {
    d.phase = "Appealable";
    d.save();
  }
}

export function handleAppealed(event: Appealed): void {
  let p = event.params;
  if (loadDispute(p.id) == null) return;
  let a = new Appeal(roundId(p.id, p.round));
  a.dispute = p.id.toString();
  a.round = p.round;
  a.appellant = p.appellant;
  a.bond = p.bond;
  a.appealedAt = event.block.timestamp;
  a.txHash = event.transaction.hash;
  a.save();
}

export function handleCaseClosed(event: CaseClosed): void {
  let p = event.params;
  let d = loadDispute(p.id);
  if (d == null) return;
  let ruling = p.ruling;
  d.ruling = ruling < RULING_NAMES.length ? RULING_NAMES[ruling] : "Ruling" + ruling.toString();
  d.upheld = ruling == RULING_UPHELD || ruling == RULING_CONTENT_WITHHELD;
  d.quorum = ruling != RULING_VOID;
  d.finalKey = p.finalKey;
  d.forfeited = p.forfeited;
  d.slashedStake = p.slashedStake;
  d.rewardPool = p.rewardPool;
  d.winnerPayout = p.winnerPayout;
  d.winner = ruling == RULING_OVERTURNED || ruling == RULING_VOID ? d.consumer : Bytes.fromHexString(d.provider);
  d.resolved = true;
  d.phase = "Closed";
  d.resolvedAt = event.block.timestamp;
  d.save();
}

export function handleBallotClaimed(event: BallotClaimed): void {
  let p = event.params;
  let r = loadRound(p.id, p.round);
  if (r == null) return;
  let b = loadBallot(p.id, r, p.verifier, event);
  b.claimed = true;
  b.coherent = p.coherent;
  b.claimedAt = event.block.timestamp;
  let v = loadVerifier(p.verifier, event);
  if (p.coherent) {
    b.reward = p.amount;
    v.rewarded = v.rewarded.plus(p.amount);
    v.coherentBallots = v.coherentBallots + 1;
    setStake(v, v.stake.plus(p.amount));
  } else {
    b.slashed = p.amount;
    v.slashed = v.slashed.plus(p.amount);
    v.incoherentBallots = v.incoherentBallots + 1;
    setStake(v, v.stake.minus(p.amount));
  }
  b.save();
  v.save();
}
