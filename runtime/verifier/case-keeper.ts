import { hexlify, randomBytes } from "ethers";
import type { VerifierCourt } from "../../types/ethers-contracts/index.js";
import { GAS_LIMITS, TxReverted, type Sender } from "../../contracts/client/sender.js";
import { claimKey, verdictCommitment } from "../../contracts/client/signing.js";
import { UNAVAILABLE_OUTPUT } from "../../contracts/client/typed-data.js";
import type { BallotBook } from "./ballot-book.js";

/** What this verifier measured for a job: the claim it votes for. */
export interface Claim {
  fuelUsed: bigint;
  outputHash: string;
}

/** The court functions a verifier calls. */
type CourtStep = "drawPanel" | "commitVerdict" | "revealVerdict" | "tallyRound" | "appeal" | "closeCase" | "claimBallot";

/** The court's answers to a step that is not (or no longer) this verifier's to take. */
const BENIGN = new Set(["WrongPhase", "NotOnPanel", "NothingToClaim", "DrawPending"]);

/** The revert data of a failed call, wherever the node put it (ethers misses some nodes' nesting). */
function revertData(error: unknown): string | undefined {
  const e = error as { data?: unknown; error?: { data?: unknown } };
  for (const d of [e.data, e.error?.data, (e.error?.data as { data?: unknown } | undefined)?.data]) {
    if (typeof d === "string" && d.startsWith("0x")) return d;
  }
  return undefined;
}

/** "The consumer's content could not be fetched", as a verdict. */
export const UNAVAILABLE: Claim = { fuelUsed: 0n, outputHash: UNAVAILABLE_OUTPUT };

export interface CaseKeeperOptions {
  court: VerifierCourt;
  /** Sends this verifier's transactions (local nonces, replacement of stuck ones). */
  sender: Sender;
  /** This verifier's address (its key signs every transaction of `court`). */
  me: string;
  chainId: bigint;
  book: BallotBook;
  /** Re-executes agreement `id` (or finds its content unavailable); undefined when this verifier cannot judge it. */
  measure: (id: bigint) => Promise<Claim | undefined>;
  /** The time the next block will carry, as well as this verifier can tell. */
  /** The chain's clock now (`timestamp`) and the head block's own timestamp (`head`). */
  chainTime: () => Promise<{ timestamp: number; head: number }>;
  /** Appeal every decision that differs from this verifier's measurement (default: only where it holds a ballot). */
  appealAlways?: boolean;
  log: (line: string) => void;
}

/**
 * Moves the verifier court's cases along as one verifier would: it draws a pending panel, commits
 * and reveals its own verdict when it holds a seat (or in the full court), counts a round once it
 * can be counted, appeals a decision that contradicts its measurement where that decision would
 * slash it, closes a case whose appeal window passed, and claims its ballots once the case is closed.
 * Every step is idempotent and judged from the chain's state, so a restart or a missed poll is harmless.
 */
export class CaseKeeper {
  private readonly claims = new Map<string, Claim | undefined>();

  constructor(private readonly o: CaseKeeperOptions) {}

  /** Takes whatever step case `id` allows now; returns false once the case is closed and claimed. */
  async step(id: bigint): Promise<boolean> {
    const { court, me } = this.o;
    const c = await court.caseOf(id);
    if (c.ruling !== 0n) {
      await this.claimAll(id, Number(c.round));
      this.o.book.forget(id);
      this.claims.delete(String(id));
      return false;
    }
    const round = Number(c.round);
    const rd = await court.roundOf(id, round);
    const head = await this.o.chainTime();
    if (rd.drawBlock !== 0n) {
      // the draw may run in any block after the one the round opened in: the next one will do
      await this.send(`draw the panel of case ${id}, round ${round}`, "drawPanel", [id], GAS_LIMITS.draw);
      return true;
    }
    if (rd.commitDeadline === 0n) return true;
    const fullCourt = round === Number(await court.sampledRounds());
    const now = BigInt(head.timestamp);
    if (!rd.tallied) {
      const ballot = await court.ballotOf(id, round, me);
      if (now <= rd.commitDeadline && !ballot.committed && (fullCourt || ballot.votes > 0n)) await this.commit(id, round);
      const revealOpen = now > rd.commitDeadline || (!fullCourt && rd.committedVotes === rd.totalVotes);
      if (revealOpen && now <= rd.revealDeadline) await this.reveal(id, round, rd.commitDeadline);
      const after = await court.roundOf(id, round);
      const tallyOpen = now > after.revealDeadline || (!fullCourt && after.revealedVotes === after.totalVotes);
      if (tallyOpen) await this.send(`count round ${round} of case ${id}`, "tallyRound", [id], GAS_LIMITS.tally, after.revealDeadline);
      return true;
    }
    if (now <= rd.appealDeadline) {
      const mine = await this.claimFor(id);
      if (mine && claimKey(mine.fuelUsed, mine.outputHash) !== rd.decidedKey && (this.o.appealAlways || (await this.holdsBallot(id, round)))) {
        await this.send(`appeal round ${round} of case ${id} (it contradicts what this verifier measured)`, "appeal", [id], GAS_LIMITS.court);
      }
      return true;
    }
    await this.send(`close case ${id}`, "closeCase", [id], GAS_LIMITS.tally, rd.appealDeadline);
    return true;
  }

  private async commit(id: bigint, round: number): Promise<void> {
    const claim = await this.claimFor(id);
    if (!claim) return;
    const salt = hexlify(randomBytes(32));
    const commitment = verdictCommitment(this.o.chainId, await this.o.court.getAddress(), {
      verifier: this.o.me, agreementId: id, round, fuelUsed: claim.fuelUsed, outputHash: claim.outputHash, salt,
    });
    // written down before it is sent: a restart between commit and reveal must still be able to reveal
    this.o.book.put({ agreementId: String(id), round, fuelUsed: String(claim.fuelUsed), outputHash: claim.outputHash, salt });
    const what = claim === UNAVAILABLE || claim.outputHash === UNAVAILABLE_OUTPUT ? "content unavailable" : `${claim.fuelUsed} fuel`;
    await this.send(`commit a verdict on case ${id}, round ${round} (${what})`, "commitVerdict", [id, commitment], GAS_LIMITS.court);
  }

  private async reveal(id: bigint, round: number, commitDeadline: bigint): Promise<void> {
    const ballot = await this.o.court.ballotOf(id, round, this.o.me);
    if (!ballot.committed || ballot.revealed) return;
    const sealed = this.o.book.get(id, round);
    if (!sealed) {
      this.o.log(`case ${id}, round ${round}: committed but the sealed verdict is lost; the seat will be slashed`);
      return;
    }
    await this.send(`reveal the verdict on case ${id}, round ${round}`, "revealVerdict",
      [id, BigInt(sealed.fuelUsed), sealed.outputHash, sealed.salt], GAS_LIMITS.court, commitDeadline);
  }

  private async claimAll(id: bigint, rounds: number): Promise<void> {
    for (let round = 0; round <= rounds; round++) {
      const b = await this.o.court.ballotOf(id, round, this.o.me);
      if (b.locked !== 0n && !b.claimed) {
        await this.send(`claim the ballot of case ${id}, round ${round}`, "claimBallot", [id, round, this.o.me], GAS_LIMITS.court);
      }
    }
  }

  private async holdsBallot(id: bigint, rounds: number): Promise<boolean> {
    for (let round = 0; round <= rounds; round++) {
      if ((await this.o.court.ballotOf(id, round, this.o.me)).locked !== 0n) return true;
    }
    return false;
  }

  /** This verifier's measurement of agreement `id`, made once. */
  private async claimFor(id: bigint): Promise<Claim | undefined> {
    const key = String(id);
    if (!this.claims.has(key)) this.claims.set(key, await this.o.measure(id));
    return this.claims.get(key);
  }

  /**
   * Sends a step. It is tried first against the chain's current state: a step someone else
   * already took, or one the phase no longer allows, reverts there with one of the court's phase
   * errors and is skipped quietly (so is one that loses that race in the next block); any other
   * refusal is named. A step that waits for a window to pass (`after`, a unix time) is sent even
   * when the simulation says the window is open if only the head block's clock says so: a chain
   * that mines on demand keeps an old head while nobody sends, and the next block's time is now.
   */
  private async send(what: string, method: CourtStep, args: unknown[], gasLimit: bigint, after?: bigint): Promise<void> {
    const fn = this.o.court.getFunction(method);
    try {
      await fn.staticCall(...args);
    } catch (error) {
      const data = revertData(error);
      const reason = typeof data === "string" ? this.o.court.interface.parseError(data) : null;
      // a node may simulate in the head's own block, where the next block is "not yet mined"
      // or, on a stale head, where the window the step waits for has not yet passed
      const nextBlockWillDo = reason?.name === "WrongPhase" &&
        (reason.args[1] === "draw block not yet mined" || (after !== undefined && (await this.staleHead(after))));
      if (reason && BENIGN.has(reason.name) && !nextBlockWillDo) return;
      if (reason && !nextBlockWillDo) throw new Error(`${what}: the court refuses it with ${reason.name}(${reason.args.join(", ")})`);
      if (!reason) throw error;
    }
    try {
      await this.o.sender.sendAndWait(await fn.populateTransaction(...args), { gasLimit, label: what });
      this.o.log(what);
    } catch (error) {
      if (!(error instanceof TxReverted)) throw error;
      this.o.log(`${what}: reverted (another step got there first); judged again on the next pass`);
    }
  }

  /** Whether the head block is older than `time` while the chain's clock is past it. */
  private async staleHead(time: bigint): Promise<boolean> {
    const { timestamp, head } = await this.o.chainTime();
    return BigInt(head) <= time && BigInt(timestamp) > time;
  }
}
