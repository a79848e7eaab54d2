/**
 * The bid price: the markup on the offer's floor that maximises expected profit,
 *
 *   E[profit](m) = P(win | m) * ( pMet * (pay(m) - cost) - (1 - pMet) * (penalty(m) + costIfFailed) )
 *
 * where pay(m) is what the provider is paid for the expected fuel at price m * floor, penalty(m)
 * is the market's penalty (penaltyBps of the agreement's maximum value) on a breach, and
 * P(win | m) = exp(-competition * (m - 1)) models that every step above the floor loses bids.
 * Markups whose win probability falls below `minWinProbability` are not tried: a bid the market
 * almost surely rejects is not worth its gas, and if it won by default it would be a bad deal for
 * the consumer. If no markup makes the expectation positive the agent does not bid.
 */
import type { OfferView, RequestView } from "./types.js";

export interface CostModel {
  /** the provider's operating cost as a share of its own floor price */
  operatingShare: number;
  /** joules per million fuel on this offer's hardware */
  energyPerMFuel: number;
  /** tokens per joule */
  energyPrice: number;
}

export interface PricingParams {
  /** market.penaltyBps() */
  penaltyBps: number;
  /** expected fuel used as a share of the request's cap */
  usageShare: number;
  /** how fast the win probability falls with the markup */
  competition: number;
  /** markups tried between the floor and the ceiling */
  steps: number;
  /** the least win probability a markup may have */
  minWinProbability: number;
}

export const DEFAULT_PRICING: PricingParams = { penaltyBps: 10_000, usageShare: 0.85, competition: 10, steps: 40, minWinProbability: 0.05 };

export interface BidQuote {
  /** multiple of the offer's floor */
  markup: number;
  pricePerMFuel: number;
  fee: number;
  /** maxFuel * price / 1e6 + fee: what the award rule compares */
  total: number;
  winProbability: number;
  /** expected profit if the bid wins */
  profitIfWon: number;
  /** winProbability * profitIfWon: what the markup maximises */
  expectedProfit: number;
  expectedCost: number;
  penalty: number;
}

/** The highest markup the request's ceilings allow (below 1: the floor is already too high). */
export function maxMarkup(r: RequestView, o: OfferView): number {
  const byPrice = o.pricePerMFuel > 0 ? r.maxPricePerMFuel / o.pricePerMFuel : Infinity;
  const byFee = o.fee > 0 ? r.maxFee / o.fee : Infinity;
  const m = Math.min(byPrice, byFee);
  return Number.isFinite(m) ? m : 10;
}

/** The provider's expected cost of running the request on the offer. */
export function expectedCost(r: RequestView, o: OfferView, cost: CostModel, usageShare: number): number {
  const fuel = r.maxFuel * usageShare;
  return cost.operatingShare * ((fuel * o.pricePerMFuel) / 1e6 + o.fee) + (fuel / 1e6) * cost.energyPerMFuel * cost.energyPrice;
}

/** Prices one markup. */
export function quote(r: RequestView, o: OfferView, pMet: number, markup: number, cost: CostModel, p: PricingParams): BidQuote {
  const pricePerMFuel = Math.min(o.pricePerMFuel * markup, r.maxPricePerMFuel);
  const fee = Math.min(o.fee * markup, r.maxFee);
  const total = (r.maxFuel * pricePerMFuel) / 1e6 + fee;
  const pay = (r.maxFuel * p.usageShare * pricePerMFuel) / 1e6 + fee;
  const c = expectedCost(r, o, cost, p.usageShare);
  const penalty = (total * p.penaltyBps) / 10_000;
  const profitIfWon = pMet * (pay - c) - (1 - pMet) * (penalty + c / 2);
  const winProbability = Math.exp(-p.competition * (markup - 1));
  return {
    markup,
    pricePerMFuel,
    fee,
    total,
    winProbability,
    profitIfWon,
    expectedProfit: winProbability * profitIfWon,
    expectedCost: c,
    penalty,
  };
}

/** The profit-maximising quote, or the best losing one (`ok: false`) when nothing pays. */
export function bestQuote(
  r: RequestView,
  o: OfferView,
  pMet: number,
  cost: CostModel,
  params: Partial<PricingParams> = {},
): { ok: boolean; quote: BidQuote } {
  const p = { ...DEFAULT_PRICING, ...params };
  const reach = 1 + Math.log(1 / p.minWinProbability) / p.competition;
  const top = Math.max(1, Math.min(maxMarkup(r, o), reach));
  let best = quote(r, o, pMet, 1, cost, p);
  for (let i = 1; i <= p.steps; i++) {
    const q = quote(r, o, pMet, 1 + ((top - 1) * i) / p.steps, cost, p);
    if (q.expectedProfit > best.expectedProfit) best = q;
  }
  return { ok: best.expectedProfit > 0, quote: best };
}
