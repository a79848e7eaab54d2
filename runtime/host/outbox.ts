import type { UsageReport } from "../../contracts/client/typed-data.js";
import { RecordDir } from "./record-dir.js";
import type { FetchAttempt } from "./unavailable-note.js";

/** Where a job's outputs live in the content store (sha-256 hex of each blob). */
export interface OutputManifest {
  stdout: string;
  stderr: string;
  files: Record<string, string>;
}

/**
 * pending: signed, not yet sent; sent: a transaction carries it (`txHash`); confirmed: the chain
 * holds the report; closed: the agreement is over on chain (settled, or in the court's hands), with
 * nothing left for the host to send; missed: the agreement can no longer be reported (deadline, breach).
 */
export type OutboxState = "pending" | "sent" | "confirmed" | "closed" | "missed";

export interface OutboxEntry {
  report: UsageReport;
  /** The host key's EIP-712 signature of `report`. */
  signature: string;
  /** The consumer's `UsageAcceptance` of the report, when it co-signed before submission. */
  consumerSignature?: string;
  outputs: OutputManifest;
  /** An outcome-6 report: the hash of the note it attests (`notes/`) and the failed tries behind it. */
  unavailable?: { note: string; attempts: FetchAttempt[] };
  state: OutboxState;
  txHash?: string;
  /** Unix milliseconds when the entry was written. */
  createdAt: number;
  /** The chain time at which the report was taken, for a report that stands alone: its dispute window runs from it. */
  reportedAt?: number;
  detail?: string;
}

/**
 * Signed usage reports, written to disk (atomically, fsynced) before they are submitted and
 * marked confirmed only once the chain holds them. One file per agreement. The nonce of each
 * new report is the outbox's next sequence number.
 */
export class Outbox {
  private readonly records: RecordDir<OutboxEntry>;
  private lastNonce = 0n;

  constructor(dir: string) {
    this.records = new RecordDir<OutboxEntry>(dir);
    for (const entry of this.all()) if (entry.report.nonce > this.lastNonce) this.lastNonce = entry.report.nonce;
  }

  /** The next report's nonce: strictly above every nonce in the outbox. */
  nextNonce(): bigint {
    return this.lastNonce + 1n;
  }

  /** Takes the next nonce, so jobs signed side by side never share one (an unused one is a harmless gap). */
  reserveNonce(): bigint {
    this.lastNonce += 1n;
    return this.lastNonce;
  }

  get(id: bigint): OutboxEntry | undefined {
    return this.records.get(id);
  }

  /** Records a newly signed report; it must be the first for its agreement. Resolves once it is on disk. */
  add(entry: Omit<OutboxEntry, "state" | "createdAt">): Promise<OutboxEntry> {
    const id = entry.report.agreementId;
    if (entry.report.nonce > this.lastNonce) this.lastNonce = entry.report.nonce;
    return this.records.change(id, (current) => {
      if (current) throw new Error(`the outbox already holds a report for agreement ${id}`);
      return { ...entry, state: "pending", createdAt: Date.now() };
    });
  }

  /** Changes an entry; resolves with the changed entry once it is on disk. */
  update(id: bigint, change: Partial<Omit<OutboxEntry, "report" | "signature">>): Promise<OutboxEntry> {
    return this.records.change(id, (entry) => {
      if (!entry) throw new Error(`no outbox entry for agreement ${id}`);
      return { ...entry, ...change };
    });
  }

  /** Entries the chain does not hold yet, oldest agreement first. */
  unconfirmed(): OutboxEntry[] {
    return this.all().filter((e) => e.state === "pending" || e.state === "sent");
  }

  /** Entries the chain holds whose agreement may still wait to be settled, oldest agreement first. */
  confirmed(): OutboxEntry[] {
    return this.all().filter((e) => e.state === "confirmed");
  }

  all(): OutboxEntry[] {
    return this.records.values();
  }
}
