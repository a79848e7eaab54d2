/**
 * The dispute game's outcome for an attacker who holds a share `p` of the verifier stake, computed
 * exactly from the distribution of the court's draw.
 *
 * The draw: each seat of a sampled round picks a verifier with probability stake / total stake,
 * independently (with replacement), so the attacker's seats in a round of n seats follow
 * Binomial(n, p) (bench/disputes.ts checks this against the contract's own draws). The attacker's
 * seats all vote its claim, honest seats vote the truth, and everyone drawn reveals.
 *
 * The players: the honest side appeals every decision that is not the truth (its bond comes back
 * when the final ruling is the truth). The attacker chooses, at every point, whatever maximises
 * its expected profit: appeal a lost round or stop; vote in the full court or abstain. In the full
 * court a claim wins with more than half of the revealed stake, provided at least half the
 * eligible stake revealed; honest verifiers take part with probability `participation` (a share
 * of the honest stake, deterministic).
 *
 * Profits are measured against the attacker not attacking (the consumer accepting the honest
 * report; the provider reporting honestly). Where the attacker wins, its share of the coherent
 * reward pool is taken as the whole pool: an upper bound on what it could gain.
 */

export interface GameParams {
  /** Seats of each sampled round. */
  panels: number[];
  /** The consumer's dispute bond; an appeal into round r costs bond × 2^r. */
  bond: number;
  /** Stake a sampled seat locks. */
  seatStake: number;
  /** Share of a full-court ballot's weight at risk. */
  courtLock: number;
  /** The verifiers' total stake. */
  poolStake: number;
  /** The agreement's value (its most-possible payment) and the penalty (a share of it). */
  value: number;
  penalty: number;
  /** What the honest report pays. */
  payment: number;
  /** Share of the honest stake that takes part in the full court. */
  participation: number;
}

export interface Outcome {
  /** Probability that the final ruling is the attacker's claim. */
  flipProbability: number;
  /** Probability that the case ends void (no majority in the full court). */
  voidProbability: number;
  /** The attacker's expected profit per dispute, in tokens, under its best strategy. */
  attackerExpectedProfit: number;
}

/** P(Binomial(n, p) = k) for k = 0..n. */
export function binomial(n: number, p: number): number[] {
  const out: number[] = [];
  let coef = 1;
  for (let k = 0; k <= n; k++) {
    out.push(coef * p ** k * (1 - p) ** (n - k));
    coef = (coef * (n - k)) / (k + 1);
  }
  return out;
}

/** Which claim the final ruling bears out. */
type Final = "attacker" | "truth" | "void";

/** What is owed when the case closes: bonds each side posted, seats each side held. */
interface Books {
  attackerBonds: number;
  honestBonds: number;
  attackerSeats: number;
  honestSeats: number;
  attackerCourtLock: number;
}

/**
 * Expected profit and outcome probabilities of the attack in which `role` lies (the consumer
 * disputing an honest report, or the provider inflating its report), from round `round` on.
 */
function play(g: GameParams, p: number, role: "consumer" | "provider", round: number, books: Books): { ev: number; flip: number; void: number } {
  if (round === g.panels.length) return fullCourt(g, p, role, books);
  const n = g.panels[round]!;
  const dist = binomial(n, p);
  let ev = 0;
  let flip = 0;
  let voided = 0;
  for (let x = 0; x <= n; x++) {
    const prob = dist[x]!;
    if (prob === 0) continue;
    const next: Books = { ...books, attackerSeats: books.attackerSeats + x, honestSeats: books.honestSeats + n - x };
    const appealBond = g.bond * 2 ** (round + 1);
    let r: { ev: number; flip: number; void: number };
    if (2 * x > n) {
      // the attacker won the round: the honest side appeals it
      r = play(g, p, role, round + 1, { ...next, honestBonds: next.honestBonds + appealBond });
    } else {
      // the truth won: the attacker appeals or stops, whichever it expects to pay more
      const stop = { ev: settle(g, role, "truth", next), flip: 0, void: 0 };
      const go = play(g, p, role, round + 1, { ...next, attackerBonds: next.attackerBonds + appealBond });
      r = go.ev > stop.ev ? go : stop;
    }
    ev += prob * r.ev;
    flip += prob * r.flip;
    voided += prob * r.void;
  }
  return { ev, flip, void: voided };
}

/** The full court: deterministic in the stake shares. The attacker votes or abstains, as pays. */
function fullCourt(g: GameParams, p: number, role: "consumer" | "provider", books: Books) {
  const honest = (1 - p) * g.participation;
  const outcome = (attackerVotes: boolean): Final => {
    const revealed = honest + (attackerVotes ? p : 0);
    if (2 * revealed < 1) return "void";
    if (attackerVotes && 2 * p > revealed) return "attacker";
    if (2 * honest > revealed) return "truth";
    return "void";
  };
  const options = [false, true].map((votes) => {
    const final = outcome(votes);
    const lock = votes ? p * g.poolStake * g.courtLock : 0;
    const ev = settle(g, role, final, { ...books, attackerCourtLock: lock });
    return { ev, flip: final === "attacker" ? 1 : 0, void: final === "void" ? 1 : 0 };
  });
  return options[0]!.ev >= options[1]!.ev ? options[0]! : options[1]!;
}

/** The attacker's profit once the case closes with `final`, against not attacking. */
function settle(g: GameParams, role: "consumer" | "provider", final: Final, b: Books): number {
  const attackerLocks = b.attackerSeats * g.seatStake + b.attackerCourtLock;
  if (final === "void") {
    // nothing proven: the escrow goes back, every bond comes back, revealing seats keep their stake
    return role === "consumer" ? g.payment : -g.payment;
  }
  if (final === "truth") {
    // every attacker bond is forfeited and every attacker ballot slashed; a lying provider also
    // loses the payment, the penalty and its verification fee
    const base = role === "consumer" ? 0 : -g.payment - g.penalty - g.bond;
    return base - b.attackerBonds - attackerLocks;
  }
  // the attacker's claim stands: the honest side's forfeits and slashed seats, all to the attacker (an upper bound)
  // honest bonds: the honest side's appeals (and, against a lying provider, the consumer's dispute
  // bond); an honest provider whose report falls also forfeits its verification fee
  const honestForfeits = b.honestBonds + (role === "consumer" ? g.bond : 0);
  const pool = honestForfeits + b.honestSeats * g.seatStake;
  const gain = role === "consumer" ? g.payment + g.penalty : g.value - g.payment;
  return gain + pool;
}

/** The outcome of the attack by a consumer (against an honest report) or a provider (inflating its report). */
export function attackOutcome(g: GameParams, p: number, role: "consumer" | "provider"): Outcome {
  const initial: Books = {
    attackerBonds: role === "consumer" ? g.bond : 0,
    honestBonds: role === "provider" ? g.bond : 0,
    attackerSeats: 0,
    honestSeats: 0,
    attackerCourtLock: 0,
  };
  const r = play(g, p, role, 0, initial);
  return { flipProbability: r.flip, voidProbability: r.void, attackerExpectedProfit: r.ev };
}

/** Probability that the attacker holds a majority of a single round of `n` seats (no appeal). */
export function roundFlipProbability(n: number, p: number): number {
  return binomial(n, p).reduce((sum, prob, k) => (2 * k > n ? sum + prob : sum), 0);
}
