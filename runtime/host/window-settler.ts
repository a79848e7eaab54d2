import { isError } from "ethers";
import type { TroupeMarket } from "../../types/ethers-contracts/index.js";
import { Status, STATUS_NAMES, type StatusCode } from "../../contracts/client/status.js";
import type { Sender } from "../../contracts/client/sender.js";
import type { MarketReader } from "./market-reader.js";
import type { Outbox, OutboxEntry } from "./outbox.js";
import type { SubmissionPass } from "./submitter.js";

export interface WindowSettlerOptions {
  /** The market, connected to the host key's wallet (it pays the gas). */
  market: TroupeMarket;
  reader: MarketReader;
  outbox: Outbox;
  sender: Sender;
  /** Called when a settlement's transaction is mined or fails (the daemon looks again at once). */
  onSettled?: () => void;
  log?: (line: string) => void;
}

/**
 * Settles the agreements whose report stands alone on chain (the consumer neither co-signed nor
 * accepted it) once the dispute window has passed with no dispute. The contract lets anyone call
 * `settle`, and the provider is the one waiting for its payment (and the consumer for its refund),
 * so its host does it; without it, the escrow of a consumer who walked away stayed locked.
 *
 * A report confirmed on chain costs one status read, plus one read of when the chain took it; then
 * nothing until its window ends (the outbox keeps the time, so a restart does not read it again).
 */
export class WindowSettler {
  private disputeWindow: Promise<number> | undefined;
  /** Agreements whose settlement transaction is out and not yet mined. */
  private readonly inFlight = new Set<bigint>();

  constructor(private readonly o: WindowSettlerOptions) {}

  /** Moves one confirmed entry on: closed once its agreement is over, settled by this host when its window has passed. */
  async step(entry: OutboxEntry, pass: SubmissionPass): Promise<OutboxEntry> {
    const { market, reader, outbox, sender } = this.o;
    const id = entry.report.agreementId;
    if (this.inFlight.has(id)) return entry;
    // An agreement no longer Reported is over on chain (settled, or in the court's hands): nothing left to do.
    const closedAs = (status: StatusCode) => outbox.update(id, { state: "closed", detail: `${STATUS_NAMES[status]} on chain` });
    if (entry.reportedAt === undefined) {
      const status = await reader.status(id);
      if (status !== Status.Reported) return closedAs(status);
      entry = await outbox.update(id, { reportedAt: Number((await market.reportOf(id)).reportedAt) });
    }
    // The contract settles only after the window's last second.
    if ((await pass.chainTime()) <= entry.reportedAt! + (await this.window())) return entry;
    const status = await reader.status(id);
    if (status !== Status.Reported) return closedAs(status);
    let tx;
    try {
      // Sent with its gas estimated (no fixed cap): someone may settle or dispute it just before, and a lost race costs nothing.
      tx = await sender.send(await market.settle.populateTransaction(id), { label: `settle agreement ${id}` });
    } catch (error) {
      if (isError(error, "CALL_EXCEPTION")) return entry; // the next pass reads how it now stands
      throw error;
    }
    this.inFlight.add(id);
    this.o.log?.(`agreement ${id}: the dispute window passed with no dispute: settling it (transaction ${tx.hash})`);
    tx.wait().then(
      (receipt) => outbox.update(id, { state: "closed", detail: `settled by this host after the dispute window, in block ${receipt.blockNumber}` }),
    ).catch(() => {
      // Reverted or displaced (or the record not written): the next pass reads the agreement's status.
    }).finally(() => {
      this.inFlight.delete(id);
      this.o.onSettled?.();
    });
    return entry;
  }

  /** The market's dispute window in seconds (a constant of the deployment: read once). */
  private window(): Promise<number> {
    this.disputeWindow ??= this.o.market.disputeWindow().then(Number, (error: unknown) => {
      this.disputeWindow = undefined;
      throw error;
    });
    return this.disputeWindow;
  }
}
