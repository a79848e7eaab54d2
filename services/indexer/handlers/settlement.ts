import type { EntityRecord } from "../../common/sql-layout.js";
import type { EntityStore } from "../entity-store.js";
import { addressId, bigintArg, boolArg, numberArg, stringArg, type Handler, type LogPosition } from "./context.js";
import { recordJobEnded, type JobEnd } from "./market-stats.js";
import { updateSummary } from "./summary.js";

export const OUTCOME_NAMES = ["Exited", "OutOfFuel", "OutOfMemory", "StackLimit", "Trap", "InvalidModule"];

/** Sets the agreement's status and mirrors it on its request. */
function setStatus(store: EntityStore, agreement: EntityRecord, status: string, extra: EntityRecord = {}): void {
  store.set("Agreement", { ...agreement, ...extra, status });
  const request = store.require("DeploymentRequest", agreement.id as string);
  const closed = "closedAt" in extra ? { closedAt: extra.closedAt } : {};
  store.set("DeploymentRequest", { ...request, ...closed, status });
}

/** Closes an agreement: its Settlement, its final status, the provider's earnings, the stats. */
function close(
  store: EntityStore,
  at: LogPosition,
  agreement: EntityRecord,
  outcome: { kind: string; end: JobEnd; payment: bigint; refund: bigint; slashed: bigint },
): void {
  const id = agreement.id as string;
  const now = BigInt(at.timestamp);
  store.set("Settlement", {
    id,
    agreement: id,
    kind: outcome.kind,
    providerPayment: outcome.payment,
    consumerRefund: outcome.refund,
    slashed: outcome.slashed,
    settledAt: now,
    block: BigInt(at.blockNumber),
    txHash: at.txHash,
  });
  const status = outcome.end === "settled" ? "Settled" : outcome.end === "breached" ? "Breached" : "Overturned";
  setStatus(store, agreement, status, {
    closedAt: now,
    providerPayment: outcome.payment,
    consumerRefund: outcome.refund,
    settlement: id,
  });
  const providerId = agreement.provider as string;
  const provider = store.require("Provider", providerId);
  store.set("Provider", { ...provider, earnings: (provider.earnings as bigint) + outcome.payment });
  const report = outcome.end === "settled" ? store.get("UsageReport", id) : undefined;
  const fuel = report ? (report.fuelUsed as bigint) : 0n;
  recordJobEnded(store, providerId, at.timestamp, outcome.end, fuel, outcome.payment);
  updateSummary(store, { [outcome.end]: 1, fuel, volume: outcome.payment });
}

export const settlementHandlers: Record<string, Handler> = {
  UsageReported: ({ args, at, store }) => {
    const id = bigintArg(args, "agreementId").toString();
    const agreement = store.require("Agreement", id);
    const providerId = addressId(args.provider);
    const fuelUsed = bigintArg(args, "fuelUsed");
    const wallMs = numberArg(args, "wallMs");
    const outcome = numberArg(args, "outcome");
    const now = BigInt(at.timestamp);
    store.set("UsageReport", {
      id,
      agreement: id,
      provider: providerId,
      fuelUsed,
      peakMemoryPages: numberArg(args, "peakMemoryPages"),
      wallMs,
      outcome,
      outcomeName: OUTCOME_NAMES[outcome] ?? `Outcome${outcome}`,
      exitCode: bigintArg(args, "exitCode"),
      outputHash: stringArg(args, "outputHash"),
      meteringVersion: numberArg(args, "meteringVersion"),
      nonce: bigintArg(args, "nonce"),
      reportedAt: now,
      block: BigInt(at.blockNumber),
      txHash: at.txHash,
    });
    setStatus(store, agreement, "Reported", { reportedAt: now, usageReport: id });
    const provider = store.require("Provider", providerId);
    store.set("Provider", {
      ...provider,
      fuelReported: (provider.fuelReported as bigint) + fuelUsed,
      wallMsReported: (provider.wallMsReported as bigint) + BigInt(wallMs),
    });
  },

  AgreementSettled: ({ args, at, store }) => {
    const agreement = store.require("Agreement", bigintArg(args, "agreementId").toString());
    close(store, at, agreement, {
      kind: boolArg(args, "cosigned") ? "Cosigned" : "AfterWindow",
      end: "settled",
      payment: bigintArg(args, "providerPayment"),
      refund: bigintArg(args, "consumerRefund"),
      slashed: 0n,
    });
  },

  AgreementBreached: ({ args, at, store }) => {
    const agreement = store.require("Agreement", bigintArg(args, "agreementId").toString());
    const penalty = bigintArg(args, "penalty");
    close(store, at, agreement, {
      kind: "Breach",
      end: "breached",
      payment: 0n,
      refund: bigintArg(args, "refund") + penalty,
      slashed: penalty,
    });
  },

  DisputeOpened: ({ args, at, store }) => {
    const id = bigintArg(args, "agreementId").toString();
    const agreement = store.require("Agreement", id);
    const now = BigInt(at.timestamp);
    store.set("Dispute", {
      id,
      agreement: id,
      consumer: addressId(args.consumer),
      bond: bigintArg(args, "bond"),
      openedAt: now,
      verdictDeadline: bigintArg(args, "verdictDeadline"),
      resolved: false,
      upheld: null,
      quorum: null,
      slashed: null,
      verifierRewardEach: null,
      resolvedAt: null,
    });
    setStatus(store, agreement, "Disputed", { disputedAt: now, dispute: id });
    updateSummary(store, { disputes: 1 });
  },

  VerdictSubmitted: ({ args, at, store }) => {
    const id = bigintArg(args, "agreementId").toString();
    store.require("Dispute", id);
    const verifier = addressId(args.verifier);
    store.require("Provider", verifier);
    store.set("Verdict", {
      id: `${id}-${verifier}`,
      dispute: id,
      verifier,
      fuelUsed: bigintArg(args, "fuelUsed"),
      outputHash: stringArg(args, "outputHash"),
      agrees: boolArg(args, "agrees"),
      submittedAt: BigInt(at.timestamp),
      txHash: at.txHash,
    });
  },

  DisputeResolved: ({ args, at, store }) => {
    const id = bigintArg(args, "agreementId").toString();
    const agreement = store.require("Agreement", id);
    const dispute = store.require("Dispute", id);
    const upheld = boolArg(args, "upheld");
    const quorum = boolArg(args, "quorum");
    const slashed = bigintArg(args, "slashed");
    store.set("Dispute", {
      ...dispute,
      resolved: true,
      upheld,
      quorum,
      slashed,
      verifierRewardEach: bigintArg(args, "verifierRewardEach"),
      resolvedAt: BigInt(at.timestamp),
    });
    close(store, at, agreement, {
      kind: !upheld ? "Overturned" : quorum ? "DisputeUpheld" : "DisputeTimeout",
      end: upheld ? "settled" : "overturned",
      payment: bigintArg(args, "providerPayment"),
      refund: bigintArg(args, "consumerRefund"),
      slashed,
    });
  },
};
