import { BigInt, ethereum, log } from "@graphprotocol/graph-ts";
import {
  AgreementBreached,
  AgreementCreated,
  AgreementSettled,
  BidPlaced,
  DisputeOpened,
  DisputeResolved,
  RequestClosed,
  RequestPosted,
  UsageReported,
} from "../generated/TroupeMarket/TroupeMarket";
import {
  Agreement,
  Bid,
  DeploymentRequest,
  Dispute,
  LiveBid,
  Provider,
  Settlement,
  UsageReport,
} from "../generated/schema";
import { recordAgreementCreated, recordJobEnded } from "./stats";
import { loadSummary } from "./summary";

const STATUS_NAMES = ["None", "Open", "Awarded", "Reported", "Disputed", "Settled", "Breached", "Overturned", "Cancelled", "Expired", "Annulled"];
const CLOSE_REASONS = ["NoBid", "Cancelled", "TooLate", "StakeShort"];
const OUTCOME_NAMES = ["Exited", "OutOfFuel", "OutOfMemory", "StackLimit", "Trap", "InvalidModule", "ContentUnavailable"];
const RULING_NAMES = ["None", "Upheld", "Overturned", "ContentWithheld", "Void"];
const RULING_UPHELD = 1;
const RULING_OVERTURNED = 2;
const RULING_CONTENT_WITHHELD = 3;
const FUEL_UNIT = BigInt.fromI32(1000000);
const BPS = BigInt.fromI32(10000);
const END_SETTLED = 0;
const END_BREACHED = 1;
const END_OVERTURNED = 2;
const END_ANNULLED = 3;

function nameOf(names: string[], code: i32, prefix: string): string {
  return code < names.length ? names[code] : prefix + code.toString();
}

/** The value at risk in basis points of the escrow, rounded to the nearest (as DeploymentAuction._post). */
export function valueAtRiskBps(valueAtRisk: BigInt, escrow: BigInt): BigInt {
  return valueAtRisk.times(BPS).plus(escrow.div(BigInt.fromI32(2))).div(escrow);
}

export function handleRequestPosted(event: RequestPosted): void {
  let p = event.params;
  let r = new DeploymentRequest(p.requestId.toString());
  r.consumer = p.consumer;
  r.workloadHash = p.workloadHash;
  r.workloadURI = p.workloadURI;
  r.inputHash = p.inputHash;
  r.inputURI = p.inputURI;
  r.maxFuel = p.maxFuel;
  r.maxPricePerMFuel = p.maxPricePerMFuel;
  r.maxFee = p.maxFee;
  r.minMemoryMiB = p.minMemoryMiB;
  r.allowedTiers = p.allowedTiers;
  r.region = p.region;
  r.maxLatencyClass = p.maxLatencyClass;
  r.bidWindowEnd = p.bidWindowEnd;
  r.execTime = p.execTime;
  r.deadline = p.deadline;
  r.meteringVersion = p.meteringVersion;
  r.valueAtRisk = p.valueAtRisk;
  r.valueAtRiskBps = p.escrow.isZero() ? 0 : valueAtRiskBps(p.valueAtRisk, p.escrow).toI32();
  r.escrow = p.escrow;
  r.status = "Open";
  r.bidCount = 0;
  r.createdAt = event.block.timestamp;
  r.createdBlock = event.block.number;
  r.txHash = event.transaction.hash;
  r.save();
  let s = loadSummary();
  s.requests = s.requests + 1;
  s.save();
}

export function handleBidPlaced(event: BidPlaced): void {
  let p = event.params;
  let requestId = p.requestId.toString();
  let r = DeploymentRequest.load(requestId);
  if (r == null) {
    log.warning("skipping a bid on unknown request {}", [requestId]);
    return;
  }
  let provider = p.provider.toHexString();
  let seq = r.bidCount + 1;
  let id = requestId + "-" + seq.toString();
  let b = new Bid(id);
  b.request = requestId;
  b.provider = provider;
  b.offer = p.offerId.toString();
  b.agent = p.agent;
  b.pricePerMFuel = p.pricePerMFuel;
  b.fee = p.fee;
  b.total = r.maxFuel.times(p.pricePerMFuel).div(FUEL_UNIT).plus(p.fee);
  b.failureBps = p.failureBps;
  // what the award rule ranks the bid by, as the contract computed it
  b.expectedCost = p.expectedCost;
  b.seq = seq;
  b.explanationHash = p.explanationHash;
  b.createdAt = event.block.timestamp;
  b.createdBlock = event.block.number;
  b.txHash = event.transaction.hash;
  b.save();
  let live = new LiveBid(requestId + "-" + provider);
  live.request = requestId;
  live.provider = provider;
  live.bid = id;
  live.save();
  r.bidCount = seq;
  r.save();
}

export function handleRequestClosed(event: RequestClosed): void {
  let r = DeploymentRequest.load(event.params.requestId.toString());
  if (r == null) return;
  r.status = nameOf(STATUS_NAMES, event.params.status, "Status");
  r.closeReason = nameOf(CLOSE_REASONS, event.params.reason, "Reason");
  r.refund = event.params.refund;
  r.closedAt = event.block.timestamp;
  r.save();
}

export function handleAgreementCreated(event: AgreementCreated): void {
  let p = event.params;
  let id = p.agreementId.toString();
  let r = DeploymentRequest.load(id);
  let provider = Provider.load(p.provider.toHexString());
  if (r == null || provider == null) {
    log.warning("skipping agreement {}: unknown request or provider", [id]);
    return;
  }
  let a = new Agreement(id);
  a.request = id;
  a.provider = provider.id;
  a.consumer = p.consumer;
  a.offer = p.offerId.toString();
  let live = LiveBid.load(id + "-" + provider.id);
  if (live != null) a.winningBid = live.bid;
  a.pricePerMFuel = p.pricePerMFuel;
  a.fee = p.fee;
  a.maxFuel = p.maxFuel;
  a.deadline = p.deadline;
  a.penalty = p.penalty;
  a.disputeWindow = p.disputeWindow;
  a.acceptedEarly = p.acceptedEarly;
  a.status = "Awarded";
  a.requestedAt = r.createdAt;
  a.awardedAt = event.block.timestamp;
  a.createdBlock = event.block.number;
  a.txHash = event.transaction.hash;
  a.save();
  r.status = "Awarded";
  r.agreement = id;
  r.save();
  recordAgreementCreated(provider, event.block.timestamp, p.pricePerMFuel);
  let s = loadSummary();
  s.agreements = s.agreements + 1;
  s.save();
}

/** Sets the agreement's status and mirrors it on its request. */
function setStatus(a: Agreement, status: string, closedAt: BigInt | null): void {
  a.status = status;
  a.save();
  let r = DeploymentRequest.load(a.id);
  if (r == null) return;
  r.status = status;
  if (closedAt !== null) r.closedAt = closedAt;
  r.save();
}

/** Closes an agreement: its Settlement, final status, the provider's earnings, the stats. */
function close(event: ethereum.Event, a: Agreement, kind: string, end: i32, payment: BigInt, refund: BigInt, slashed: BigInt): void {
  let s = new Settlement(a.id);
  s.agreement = a.id;
  s.kind = kind;
  s.providerPayment = payment;
  s.consumerRefund = refund;
  s.slashed = slashed;
  s.settledAt = event.block.timestamp;
  s.block = event.block.number;
  s.txHash = event.transaction.hash;
  s.save();
  a.closedAt = event.block.timestamp;
  a.providerPayment = payment;
  a.consumerRefund = refund;
  a.settlement = a.id;
  setStatus(a, end == END_SETTLED ? "Settled" : end == END_BREACHED ? "Breached" : end == END_OVERTURNED ? "Overturned" : "Annulled", event.block.timestamp);
  let provider = Provider.load(a.provider);
  if (provider == null) return;
  provider.earnings = provider.earnings.plus(payment);
  provider.save();
  let fuel = BigInt.zero();
  if (end == END_SETTLED) {
    let report = UsageReport.load(a.id);
    if (report != null) fuel = report.fuelUsed;
  }
  recordJobEnded(provider, event.block.timestamp, end, fuel, payment);
  let summary = loadSummary();
  if (end == END_SETTLED) summary.settled = summary.settled + 1;
  else if (end == END_BREACHED) summary.breached = summary.breached + 1;
  else if (end == END_OVERTURNED) summary.overturned = summary.overturned + 1;
  else summary.annulled = summary.annulled + 1;
  summary.fuel = summary.fuel.plus(fuel);
  summary.volume = summary.volume.plus(payment);
  summary.save();
}

export function handleUsageReported(event: UsageReported): void {
  let p = event.params;
  let id = p.agreementId.toString();
  let a = Agreement.load(id);
  if (a == null) return;
  let u = new UsageReport(id);
  u.agreement = id;
  u.provider = p.provider.toHexString();
  u.fuelUsed = p.fuelUsed;
  u.peakMemoryPages = p.peakMemoryPages.toI32();
  u.wallMs = p.wallMs.toI32();
  u.outcome = p.outcome;
  u.outcomeName = nameOf(OUTCOME_NAMES, p.outcome, "Outcome");
  u.exitCode = p.exitCode;
  u.outputHash = p.outputHash;
  u.meteringVersion = p.meteringVersion;
  u.nonce = p.nonce;
  u.reportedAt = event.block.timestamp;
  u.block = event.block.number;
  u.txHash = event.transaction.hash;
  u.save();
  a.reportedAt = event.block.timestamp;
  a.usageReport = id;
  setStatus(a, "Reported", null);
  let provider = Provider.load(u.provider);
  if (provider == null) return;
  provider.fuelReported = provider.fuelReported.plus(p.fuelUsed);
  provider.wallMsReported = provider.wallMsReported.plus(p.wallMs);
  provider.save();
}

export function handleAgreementSettled(event: AgreementSettled): void {
  let a = Agreement.load(event.params.agreementId.toString());
  if (a == null) return;
  let kind = event.params.cosigned ? "Cosigned" : "AfterWindow";
  close(event, a, kind, END_SETTLED, event.params.providerPayment, event.params.consumerRefund, BigInt.zero());
}

export function handleAgreementBreached(event: AgreementBreached): void {
  let a = Agreement.load(event.params.agreementId.toString());
  if (a == null) return;
  let penalty = event.params.penalty;
  close(event, a, "Breach", END_BREACHED, BigInt.zero(), event.params.refund.plus(penalty), penalty);
}

/** The court's CaseOpened (earlier in the same transaction) created the Dispute; this marks the agreement. */
export function handleDisputeOpened(event: DisputeOpened): void {
  let id = event.params.agreementId.toString();
  let a = Agreement.load(id);
  if (a == null) return;
  a.disputedAt = event.block.timestamp;
  if (Dispute.load(id) != null) a.dispute = id;
  else log.warning("dispute {} opened without a court case: is the VerifierCourt data source indexed?", [id]);
  setStatus(a, "Disputed", null);
  let s = loadSummary();
  s.disputes = s.disputes + 1;
  s.save();
}

/** The market carries out the court's ruling (the court's CaseClosed follows in the same transaction). */
export function handleDisputeResolved(event: DisputeResolved): void {
  let p = event.params;
  let id = p.agreementId.toString();
  let a = Agreement.load(id);
  if (a == null) return;
  let ruling = p.ruling;
  let d = Dispute.load(id);
  if (d != null) {
    d.ruling = nameOf(RULING_NAMES, ruling, "Ruling");
    d.upheld = ruling == RULING_UPHELD || ruling == RULING_CONTENT_WITHHELD;
    d.quorum = ruling == RULING_UPHELD || ruling == RULING_CONTENT_WITHHELD || ruling == RULING_OVERTURNED;
    d.providerPayment = p.providerPayment;
    d.consumerRefund = p.consumerRefund;
    d.penalty = p.penalty;
    d.slashed = p.slashed;
    d.resolved = true;
    d.phase = "Closed";
    d.resolvedAt = event.block.timestamp;
    d.save();
  }
  if (ruling == RULING_UPHELD || ruling == RULING_CONTENT_WITHHELD) {
    let kind = ruling == RULING_UPHELD ? "DisputeUpheld" : "ContentWithheld";
    close(event, a, kind, END_SETTLED, p.providerPayment, p.consumerRefund, BigInt.zero());
  } else if (ruling == RULING_OVERTURNED) {
    close(event, a, "Overturned", END_OVERTURNED, p.providerPayment, p.consumerRefund, p.slashed);
  } else {
    close(event, a, "Void", END_ANNULLED, p.providerPayment, p.consumerRefund, p.slashed);
  }
}
