import type { Provider } from "ethers";
import type { TroupeMarket } from "../../types/ethers-contracts/index.js";
import { Status, STATUS_NAMES } from "../../contracts/client/status.js";
import type { MarketReader } from "./market-reader.js";
import type { Outbox, OutboxEntry } from "./outbox.js";
import { GAS_LIMITS, type Sender } from "../../contracts/client/sender.js";

/** Statuses in which the chain already holds the agreement's report. */
const REPORTED: ReadonlySet<number> = new Set([Status.Reported, Status.Disputed, Status.Settled, Status.Overturned]);

/** What one pass over the outbox shares between its entries. */
export interface SubmissionPass {
  /** the chain's time, read at most once per pass */
  chainTime(): Promise<number>;
}

/** A pass whose chain time is read on first use and then reused. */
export function submissionPass(reader: MarketReader): SubmissionPass {
  let now: Promise<number> | undefined;
  return { chainTime: () => (now ??= reader.chainTime()) };
}

export interface SubmitterOptions {
  /** The market, connected to the host key's wallet (it pays the gas). */
  market: TroupeMarket;
  provider: Provider;
  reader: MarketReader;
  outbox: Outbox;
  /** The host key's sender (it pays the gas): reports of a pass go out back to back. */
  sender: Sender;
  /** How long a fresh report waits for the consumer's co-signature before it is submitted alone. */
  cosignWaitMs: number;
  /** Called when a sent report's transaction is mined or fails (the daemon looks again at once). */
  onSettled?: () => void;
  /** Called right after a transaction is sent (test hook for crash points). */
  afterSend?: (entry: OutboxEntry) => Promise<void>;
}

/**
 * Moves outbox entries onto the chain exactly once. Before sending, it asks the chain whether
 * the report is already there (a receipt of our transaction, or the agreement past Awarded), so
 * re-running after a crash, or after a transaction whose receipt was lost, never reports twice.
 */
export class Submitter {
  /** Agreements whose report transaction is out and not yet mined. */
  private readonly inFlight = new Set<bigint>();

  constructor(private readonly opts: SubmitterOptions) {}

  /**
   * Reconciles or sends one entry; returns it as it now stands. `pass` carries what a pass over
   * the outbox shares: the chain time read once. A sent report's receipt is not awaited here:
   * the next pass finds it (or the agreement's new status), so a pass never waits for a block.
   */
  async submit(entry: OutboxEntry, deadline: number, pass: SubmissionPass): Promise<OutboxEntry> {
    const { outbox, reader, provider } = this.opts;
    const id = entry.report.agreementId;
    if (this.inFlight.has(id)) return entry;
    if (entry.txHash) {
      const receipt = await provider.getTransactionReceipt(entry.txHash);
      if (receipt?.status === 1) return outbox.update(id, { state: "confirmed", detail: `confirmed in block ${receipt.blockNumber}` });
    }
    const now = await pass.chainTime();
    // A report still waiting for its co-signature has nothing to reconcile yet.
    if (!entry.consumerSignature && this.waitsForCosignature(entry, deadline - now)) return entry;
    const status = await reader.status(id);
    if (REPORTED.has(status)) return outbox.update(id, { state: "confirmed", detail: `on chain as ${STATUS_NAMES[status]}` });
    if (status !== Status.Awarded) return outbox.update(id, { state: "missed", detail: `the agreement is ${STATUS_NAMES[status]}` });
    if (now >= deadline) return outbox.update(id, { state: "missed", detail: `the deadline ${deadline} passed (chain time ${now})` });
    return this.send(entry);
  }

  /** Whether a report without a co-signature should wait a little longer for one. */
  private waitsForCosignature(entry: OutboxEntry, secondsLeft: number): boolean {
    const waited = Date.now() - entry.createdAt;
    const margin = this.opts.cosignWaitMs / 1000 + 30;
    return waited < this.opts.cosignWaitMs && secondsLeft > margin;
  }

  private async send(entry: OutboxEntry): Promise<OutboxEntry> {
    const { market, outbox, sender } = this.opts;
    const id = entry.report.agreementId;
    const tx = await sender.send(
      entry.consumerSignature
        ? await market.reportAndSettle.populateTransaction(entry.report, entry.signature, entry.consumerSignature)
        : await market.submitReport.populateTransaction(entry.report, entry.signature),
      { gasLimit: GAS_LIMITS.report, label: `report of agreement ${id}` },
    );
    const sent = await outbox.update(id, { state: "sent", txHash: tx.hash });
    await this.opts.afterSend?.(sent);
    this.inFlight.add(id);
    tx.wait().then(
      // A replacement (higher fee) has another hash: keep the one that was mined.
      (receipt) => outbox.update(id, { state: "confirmed", txHash: receipt.hash, detail: `confirmed in block ${receipt.blockNumber}` }),
    ).catch(() => {
      // Reverted or displaced (or the record not written): the next pass asks the chain how the agreement stands.
    }).finally(() => {
      this.inFlight.delete(id);
      this.opts.onSettled?.();
    });
    return sent;
  }
}
