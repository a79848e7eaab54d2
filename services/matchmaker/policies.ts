/**
 * Placement policies compared on the simulator: each takes one round of requests and returns,
 * per request, the provider it goes to (or none) and the price agreed. Random, cheapest-first
 * and nearest-first place at the offers' floor prices; the learned policy is the market as
 * Troupe runs it, every provider's agent bidding through `evaluateRequest` and the contract's
 * award rule (lowest total, then reputation) picking the winner.
 */
import { rttMs } from "./continuum.js";
import { TIERS, ENERGY_PRICE } from "./continuum.js";
import { evaluateRequest, type AgentOffer } from "./evaluate.js";
import type { MatchModel } from "./model.js";
import type { PricingParams } from "./pricing.js";
import { Rng } from "./prng.js";
import { feasible, type SimMarket, type SimRound, type SimProvider, type SimRequest } from "./simulator.js";

export interface Placement {
  /** index into market.providers, or -1 if nobody serves the request */
  provider: number;
  pricePerMFuel: number;
  fee: number;
}

export type Policy = (market: SimMarket, round: SimRound) => Placement[];

const NONE: Placement = { provider: -1, pricePerMFuel: 0, fee: 0 };
const floorTotal = (req: SimRequest, p: SimProvider) => (req.view.maxFuel * p.offer.pricePerMFuel) / 1e6 + p.offer.fee;

/** Places requests in arrival order, each on the best-ranked feasible provider with room left. */
function greedy(rank: (req: SimRequest, p: SimProvider) => number): Policy {
  return (market, round) => {
    const used = round.loads.slice();
    return round.requests.map((req) => {
      let best: SimProvider | undefined;
      let bestRank = Infinity;
      for (const p of market.providers) {
        if (used[p.index]! >= p.offer.concurrentJobs || !feasible(req.view, p.offer)) continue;
        const r = rank(req, p);
        if (r < bestRank) {
          best = p;
          bestRank = r;
        }
      }
      if (!best) return NONE;
      used[best.index]!++;
      return { provider: best.index, pricePerMFuel: best.offer.pricePerMFuel, fee: best.offer.fee };
    });
  };
}

export const cheapestFirst: Policy = greedy((req, p) => floorTotal(req, p));
export const nearestFirst: Policy = greedy((req, p) => rttMs(req.view.region, p.offer.region) * 1e6 + floorTotal(req, p));
export function randomPolicy(seed: number): Policy {
  const rng = new Rng(seed);
  return greedy(() => rng.next());
}

/** The provider's own cost model: it knows its cost share and its hardware's energy use. */
export function providerCost(p: SimProvider) {
  return { operatingShare: p.hidden.costShare, energyPerMFuel: TIERS[p.offer.tier]!.energyPerMFuel, energyPrice: ENERGY_PRICE };
}

const reputation = (p: SimProvider) =>
  (p.stats.completed + 1) / (p.stats.completed + p.stats.breached + p.stats.disputesLost + 2);

/** Every provider runs the learned agent; the lowest total bid wins (ties: higher reputation). */
export function learnedPolicy(model: MatchModel, pricing: Partial<PricingParams> = {}): Policy {
  return (market, round) => {
    const used = round.loads.slice();
    return round.requests.map((req) => {
      let winner: { p: SimProvider; price: number; fee: number; total: number } | undefined;
      for (const p of market.providers) {
        const agentOffer: AgentOffer = { offer: p.offer, stats: p.stats, load: used[p.index]!, cost: providerCost(p) };
        const e = evaluateRequest(req.view, [agentOffer], model, { now: 0, pricing });
        if (!e.chosen) continue;
        const q = e.chosen.quote;
        const better =
          !winner || q.total < winner.total || (q.total === winner.total && reputation(p) > reputation(winner.p));
        if (better) winner = { p, price: q.pricePerMFuel, fee: q.fee, total: q.total };
      }
      if (!winner) return NONE;
      used[winner.p.index]!++;
      return { provider: winner.p.index, pricePerMFuel: winner.price, fee: winner.fee };
    });
  };
}
