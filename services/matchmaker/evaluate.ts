/**
 * One request against every offer the agent bids for: hard constraints first, then one batched
 * prediction for the offers left, then a price per offer. The result says, per offer, whether
 * and why it bids: the same answer drives the bid, its explanation and "why no bid".
 */
import { checkConstraints, type ConstraintCode, type StakeCover } from "./constraints.js";
import type { Factor } from "./model.js";
import { decodeRuntime } from "./features.js";
import { bestQuote, type BidQuote, type CostModel, type PricingParams } from "./pricing.js";
import type { Candidate, OfferView, Prediction, ProviderStats, RequestView } from "./types.js";

/**
 * What scores candidates: the learned model (MatchModel) in the agent; the benchmark also runs
 * the same market with other predictors to measure how much of the welfare gap is the model's.
 */
export interface Predictor {
  /** [pMet, runtime code] per candidate, row-major */
  predictBatch(candidates: readonly Candidate[]): Float64Array;
  explain(c: Candidate): Factor[];
}

/** An offer the agent may bid from, with what it knows about it. */
export interface AgentOffer {
  offer: OfferView;
  stats: ProviderStats;
  /** jobs committed on the offer now */
  load: number;
  cost: CostModel;
  /** the provider's stake available to back a new agreement (unset: not checked, as in the simulator) */
  stake?: StakeCover;
}

/** An offer kept out by a hard constraint. */
export interface ConstraintDecision {
  offerId: bigint;
  provider: string;
  kind: "constraint";
  code: ConstraintCode;
  reason: string;
}

/** An offer that was scored and priced: it bids, loses to a better offer of ours, or would lose money. */
export interface ScoredDecision {
  offerId: bigint;
  provider: string;
  kind: "expected-loss" | "outranked" | "bid";
  reason: string;
  prediction: Prediction;
  quote: BidQuote;
}

export type OfferDecision = ConstraintDecision | ScoredDecision;

export interface RequestEvaluation {
  requestId: bigint;
  decisions: OfferDecision[];
  /** the offer to bid from, if any */
  chosen?: ScoredDecision;
  /** the top factors behind the chosen offer's prediction */
  factors?: Factor[];
}

export interface EvaluateOptions {
  /** unix seconds */
  now: number;
  marginSec?: number;
  pricing?: Partial<PricingParams>;
  /** compute the chosen offer's top factors (default true; simulations skip it) */
  explain?: boolean;
}

const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(1) : x.toPrecision(3));

export function evaluateRequest(
  request: RequestView,
  offers: readonly AgentOffer[],
  model: Predictor,
  opts: EvaluateOptions,
): RequestEvaluation {
  const decisions: OfferDecision[] = [];
  const passing: AgentOffer[] = [];
  for (const a of offers) {
    const check = checkConstraints(request, a.offer, a.load, opts.now, opts.marginSec ?? 0, a.stake);
    if (check.ok) passing.push(a);
    else decisions.push({ offerId: a.offer.id, provider: a.offer.provider, kind: "constraint", code: check.code, reason: check.reason });
  }
  const candidates: Candidate[] = passing.map((a) => ({ request, offer: a.offer, stats: a.stats, load: a.load }));
  const y = model.predictBatch(candidates);
  let chosen: ScoredDecision | undefined;
  let chosenIndex = -1;
  const scored: ScoredDecision[] = [];
  passing.forEach((a, i) => {
    const prediction = { pMet: y[2 * i]!, runtimeSec: decodeRuntime(y[2 * i + 1]!) };
    const { ok, quote } = bestQuote(request, a.offer, prediction.pMet, a.cost, opts.pricing);
    const base = { offerId: a.offer.id, provider: a.offer.provider, prediction, quote };
    if (!ok) {
      const d: ScoredDecision = {
        ...base,
        kind: "expected-loss",
        reason:
          `expected loss: P(SLA met) ${fmt(prediction.pMet)}, best markup ${fmt(quote.markup)} gives ` +
          `${fmt(quote.profitIfWon)} if won (cost ${fmt(quote.expectedCost)}, penalty ${fmt(quote.penalty)} on a breach)`,
      };
      scored.push(d);
      return;
    }
    const d: ScoredDecision = {
      ...base,
      kind: "bid",
      reason: `bid ${fmt(quote.total)} (markup ${fmt(quote.markup)}): P(SLA met) ${fmt(prediction.pMet)}, expected profit ${fmt(quote.expectedProfit)}`,
    };
    scored.push(d);
    if (!chosen || quote.expectedProfit > chosen.quote.expectedProfit) {
      chosen = d;
      chosenIndex = i;
    }
  });
  for (const d of scored) {
    if (d.kind === "bid" && d !== chosen) {
      decisions.push({ ...d, kind: "outranked", reason: `outranked by offer ${chosen!.offerId}: ${d.reason}` });
    } else {
      decisions.push(d);
    }
  }
  const result: RequestEvaluation = { requestId: request.id, decisions };
  if (chosen) {
    result.chosen = chosen;
    if (opts.explain ?? true) result.factors = model.explain(candidates[chosenIndex]!);
  }
  return result;
}
