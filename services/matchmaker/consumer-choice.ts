/**
 * The consumer's side of the choice: score the live bids on a request with the model (P(SLA met)
 * for this job on that provider, from public data only) and pick the one of highest expected
 * welfare for the consumer. Pure logic, shared by the consumer agent on the chain and by the
 * simulator, so the benchmark measures the code that runs.
 *
 * For a bid with total T (what it would cost at the fuel cap), payment P (at the fuel the job is
 * expected to use) and penalty K (penaltyBps of T, paid to the consumer on a breach), with the
 * consumer's value at risk V:
 *
 *   expected cost to the consumer  = pMet * P + (1 - pMet) * (V - K)
 *   expected welfare for it        = V - expected cost = pMet * (V - P) + (1 - pMet) * K
 *
 * The highest expected welfare wins; among equals, the earlier bid.
 */
import type { Predictor } from "./evaluate.js";
import type { Candidate, OfferView, ProviderStats, RequestView } from "./types.js";

/** A live bid, with the offer it is placed from and its provider's public record. */
export interface BidOption {
  provider: string;
  offer: OfferView;
  stats: ProviderStats;
  /** jobs the offer is known to carry now (0 when unknown) */
  load: number;
  pricePerMFuel: number;
  fee: number;
  /**
   * The bid's place in the order the award rule breaks ties by, from 1: when it reached its
   * current price (a provider's replacement bid takes the place of its latest BidPlaced).
   */
  seq: number;
  /** the failure rate the contract attached to the bid (BidPlaced `failureBps`), when read from the chain */
  failureBps?: number;
  /** the bid's expected cost under the contract's award rule, in wei (BidPlaced `expectedCost`) */
  ruleCostWei?: bigint;
}

/** What the consumer knows of its own job. */
export interface ConsumerTerms {
  /** what a failed job costs it, in tokens */
  valueAtRisk: number;
  /** the fuel the job is expected to use (fuel is deterministic: a consumer that ran it knows) */
  expectedFuel: number;
  /** the market's breach penalty, basis points of the agreement's value */
  penaltyBps: number;
}

export interface ScoredBid {
  bid: BidOption;
  pMet: number;
  total: number;
  payment: number;
  penalty: number;
  expectedCost: number;
  expectedWelfare: number;
}

export interface ConsumerChoice {
  chosen?: ScoredBid;
  /** every bid, best first */
  ranked: ScoredBid[];
  reason: string;
}

const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(1) : x.toPrecision(3));

/**
 * The bid the contract's award rule picks: the lowest expected cost (total + escrow ×
 * valueAtRiskBps × failureBps / 1e8, exact in wei), then the earlier bid. Every bid needs its
 * `ruleCostWei`.
 */
export function chooseByRule(bids: readonly BidOption[]): BidOption | undefined {
  let best: BidOption | undefined;
  for (const b of bids) {
    ruleCost(b);
    if (!best || compareByRule(b, best) < 0) best = b;
  }
  return best;
}

/** The award rule's order: the lower expected cost, then the earlier bid. */
export function compareByRule(a: BidOption, b: BidOption): number {
  const [x, y] = [ruleCost(a), ruleCost(b)];
  return x < y ? -1 : x > y ? 1 : a.seq - b.seq;
}

function ruleCost(bid: BidOption): bigint {
  if (bid.ruleCostWei === undefined) throw new Error(`the bid of ${bid.provider} has no expected cost under the rule`);
  return bid.ruleCostWei;
}

/** Scores every bid with one batched prediction and ranks them, best first. */
export function chooseBid(request: RequestView, bids: readonly BidOption[], terms: ConsumerTerms, model: Predictor): ConsumerChoice {
  if (!(terms.valueAtRisk >= 0)) throw new Error(`the value at risk must be a non-negative number, not ${terms.valueAtRisk}`);
  if (!(terms.expectedFuel > 0)) throw new Error(`the expected fuel must be positive, not ${terms.expectedFuel}`);
  if (bids.length === 0) return { ranked: [], reason: "no bids to choose from" };
  const candidates: Candidate[] = bids.map((b) => ({ request, offer: b.offer, stats: b.stats, load: b.load }));
  const y = model.predictBatch(candidates);
  const fuel = Math.min(terms.expectedFuel, request.maxFuel);
  const ranked = bids.map((bid, i): ScoredBid => {
    const pMet = y[2 * i]!;
    const total = (request.maxFuel * bid.pricePerMFuel) / 1e6 + bid.fee;
    const payment = (fuel * bid.pricePerMFuel) / 1e6 + bid.fee;
    const penalty = (total * terms.penaltyBps) / 10_000;
    const expectedCost = pMet * payment + (1 - pMet) * (terms.valueAtRisk - penalty);
    return { bid, pMet, total, payment, penalty, expectedCost, expectedWelfare: terms.valueAtRisk - expectedCost };
  });
  ranked.sort((a, b) => b.expectedWelfare - a.expectedWelfare || a.bid.seq - b.bid.seq);
  const chosen = ranked[0]!;
  const runnerUp = ranked[1];
  const reason =
    `bid ${chosen.bid.seq} of ${chosen.bid.provider}: P(SLA met) ${fmt(chosen.pMet)}, pays ${fmt(chosen.payment)}, ` +
    `expected welfare ${fmt(chosen.expectedWelfare)} of a value at risk ${fmt(terms.valueAtRisk)}` +
    (runnerUp
      ? `; next best: bid ${runnerUp.bid.seq} of ${runnerUp.bid.provider}, P(SLA met) ${fmt(runnerUp.pMet)}, pays ${fmt(runnerUp.payment)}, expected welfare ${fmt(runnerUp.expectedWelfare)}`
      : "; the only bid");
  return { chosen, ranked, reason };
}
