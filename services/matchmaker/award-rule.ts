/**
 * The market's award rule (issue #12), written once for the off-chain side: the contract's
 * formula in exact integer arithmetic (wei, basis points, the same order of operations) for the
 * agents that watch a live auction, and the same formula over token floats for the simulator.
 *
 *   total          = maxFuel * pricePerMFuel / 1e6 + fee
 *   failureBps(p)  = (failedValue * 10000 + priorValue * priorFailureBps)
 *                    / (completedValue + failedValue + priorValue)
 *   expectedCost   = total + escrow * valueAtRiskBps * failureBps(provider) / 1e8
 *
 * where escrow * valueAtRiskBps / 1e4 is the consumer's value at risk as the contract stores it
 * (basis points of the escrow, rounded to the nearest). The lowest expected cost wins, then the
 * earlier bid. failureBps is read when the provider first bids on the request. The wei version of
 * the score is `expectedCost` of contracts/client/amounts.ts; `failureBpsWei` is the registry's.
 */
import type { ProviderStats } from "./types.js";

export const AWARD_RULE = "expected-cost: total + valueAtRisk x value-weighted smoothed failure rate, then earliest bid";

/** The market parameters of the rule's prior, in token units (floats) for the simulator. */
export interface AwardPrior {
  /** the weight of the prior, in tokens of agreement value */
  priorValue: number;
  /** the failure rate a provider with no record is assumed to have, in basis points */
  priorFailureBps: number;
}

/**
 * The defaults recommended to the contract from the simulator's sweep (bench/RESULTS.md): the
 * value of about ten typical agreements at a newcomer failure rate a little above the market's.
 */
export const DEFAULT_AWARD_PRIOR: AwardPrior = { priorValue: 100, priorFailureBps: 1_000 };

/** The contract's failureBps over token floats (truncated to whole basis points like the contract). */
export function failureBps(s: Pick<ProviderStats, "completedValue" | "failedValue">, prior: AwardPrior): number {
  const priorFailed = (prior.priorValue * prior.priorFailureBps) / 10_000;
  const denominator = s.completedValue + s.failedValue + prior.priorValue;
  if (denominator <= 0) return prior.priorFailureBps;
  return Math.floor(((s.failedValue + priorFailed) * 10_000) / denominator);
}

/** The rule's score of a bid (lower wins), in tokens. */
export function expectedCost(total: number, valueAtRisk: number, failBps: number): number {
  return total + (valueAtRisk * failBps) / 10_000;
}

/** The prior in wei, as the contract stores it. */
export interface AwardPriorWei {
  priorValue: bigint;
  priorFailureBps: bigint;
}

/** failureBps exactly as the registry computes it (`_failureBps`: integer division, same order). */
export function failureBpsWei(completedValue: bigint, failedValue: bigint, prior: AwardPriorWei): bigint {
  const denominator = completedValue + failedValue + prior.priorValue;
  if (denominator === 0n) return prior.priorFailureBps;
  return (failedValue * 10_000n + prior.priorValue * prior.priorFailureBps) / denominator;
}

/** A bid as the rule ranks it: its score and its place in the bid order. */
export interface RankedBid {
  score: number | bigint;
  seq: number;
}

/** Whether `a` beats `b` under the rule: the lower expected cost, then the earlier bid. */
export function beats(a: RankedBid, b: RankedBid): boolean {
  return a.score < b.score || (a.score === b.score && a.seq < b.seq);
}
