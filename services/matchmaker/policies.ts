/**
 * Placement policies compared on the simulator: each takes one round of requests and returns,
 * per request, the provider it goes to (or none) and the price agreed. Random, cheapest-first
 * and nearest-first place at the offers' floor prices; the learned policy is the market as
 * Troupe runs it, every provider's agent bidding through `evaluateRequest` and the contract's
 * award rule (lowest total, then reputation) picking the winner.
 */
import { rttMs } from "./continuum.js";
import { TIERS, ENERGY_PRICE } from "./continuum.js";
import { evaluateRequest, type AgentOffer, type Predictor } from "./evaluate.js";
import type { PricingParams } from "./pricing.js";
import type { ProviderStats } from "./types.js";
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

/** ProviderRegistry's reputation (Laplace-smoothed completion rate) from a round's counters. */
const reputation = (s: ProviderStats) => (s.completed + 1) / (s.completed + s.breached + s.disputesLost + 2);

/**
 * Every provider runs the learned agent on the round's open requests, as the live agent does
 * within a bid window: each ranks the requests by its expected profit and bids on as many of
 * the best as it has free slots; each request goes to its lowest total bid (ties: reputation);
 * providers whose bids lost bid again on what is still open, until nothing changes.
 */
export function learnedPolicy(model: Predictor, pricing: Partial<PricingParams> = {}): Policy {
  return (market, round) => {
    const used = round.loads.slice();
    const placements: Placement[] = round.requests.map(() => NONE);
    const open = new Set(round.requests.map((_, i) => i));
    for (;;) {
      const bids = new Map<number, { p: SimProvider; price: number; fee: number; total: number }[]>();
      for (const p of market.providers) {
        const free = p.offer.concurrentJobs - used[p.index]!;
        if (free <= 0) continue;
        const agentOffer: AgentOffer = { offer: p.offer, stats: round.stats[p.index]!, load: used[p.index]!, cost: providerCost(p) };
        const wanted: { i: number; profit: number; price: number; fee: number; total: number }[] = [];
        for (const i of open) {
          const e = evaluateRequest(round.requests[i]!.view, [agentOffer], model, { now: 0, pricing, explain: false });
          if (!e.chosen) continue;
          const q = e.chosen.quote;
          wanted.push({ i, profit: q.expectedProfit, price: q.pricePerMFuel, fee: q.fee, total: q.total });
        }
        wanted.sort((a, b) => b.profit - a.profit);
        for (const w of wanted.slice(0, free)) {
          const list = bids.get(w.i) ?? [];
          list.push({ p, price: w.price, fee: w.fee, total: w.total });
          bids.set(w.i, list);
        }
      }
      if (bids.size === 0) return placements;
      for (const [i, list] of bids) {
        const win = list.reduce((a, b) =>
          b.total < a.total || (b.total === a.total && reputation(round.stats[b.p.index]!) > reputation(round.stats[a.p.index]!)) ? b : a,
        );
        placements[i] = { provider: win.p.index, pricePerMFuel: win.price, fee: win.fee };
        used[win.p.index]!++;
        open.delete(i);
      }
    }
  };
}
