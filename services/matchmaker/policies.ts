/**
 * Placement policies compared on the simulator: each takes one round of requests and returns,
 * per request, the provider it goes to (or none) and the price agreed. Random, cheapest-first
 * and nearest-first place at the offers' floor prices; the learned policy is the market as
 * Troupe runs it, every provider's agent bidding through `evaluateRequest` and the market's
 * award rule (award-rule.ts) or the consumer's own agent (consumer-choice.ts) picking the winner.
 */
import { rttMs } from "./continuum.js";
import { TIERS, ENERGY_PRICE } from "./continuum.js";
import { evaluateRequest, type AgentOffer, type Predictor } from "./evaluate.js";
import { DEFAULT_PRICING, type PricingParams } from "./pricing.js";
import { DEFAULT_AWARD_PRIOR, beats, expectedCost, failureBps, type AwardPrior } from "./award-rule.js";
import { chooseBid, type BidOption } from "./consumer-choice.js";
import { Rng, hashUniform } from "./prng.js";
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

/** How the simulated market awards: the contract's rule at the window's end, or each consumer's agent before it. */
export interface MarketRules {
  chooser: "rule" | "consumer-agent";
  prior: AwardPrior;
  /** the consumers' model (consumer-agent only; defaults to the providers' first model) */
  consumerModel?: Predictor;
}

export const DEFAULT_RULES: MarketRules = { chooser: "rule", prior: DEFAULT_AWARD_PRIOR };

interface SimBid {
  p: SimProvider;
  price: number;
  fee: number;
  total: number;
  /** arrival order within the request: the rule's tie-break */
  seq: number;
}

/**
 * Every provider runs the learned agent on the round's open requests, as the live agent does
 * within a bid window: each ranks the requests by its expected profit and bids on as many of
 * the best as it has free slots; each request is awarded by the market's rule (lowest expected
 * cost: total + value at risk x the provider's value-weighted failure rate, then the earlier
 * bid) or by the consumer's agent (highest expected welfare for the consumer); providers whose
 * bids lost bid again on what is still open, until nothing changes. `models` gives each
 * provider's agent its model (one for all, or per provider: alone or federated agents).
 */
export function learnedPolicy(
  models: Predictor | ((providerIndex: number) => Predictor),
  pricing: Partial<PricingParams> = {},
  rules: MarketRules = DEFAULT_RULES,
): Policy {
  const modelOf = typeof models === "function" ? models : () => models;
  const penaltyBps = pricing.penaltyBps ?? DEFAULT_PRICING.penaltyBps;
  return (market, round) => {
    const used = round.loads.slice();
    const placements: Placement[] = round.requests.map(() => NONE);
    const open = new Set(round.requests.map((_, i) => i));
    const consumerModel = rules.consumerModel ?? modelOf(0);
    for (;;) {
      const bids = new Map<number, SimBid[]>();
      for (const p of market.providers) {
        const free = p.offer.concurrentJobs - used[p.index]!;
        if (free <= 0) continue;
        const agentOffer: AgentOffer = { offer: p.offer, stats: round.stats[p.index]!, load: used[p.index]!, cost: providerCost(p) };
        const model = modelOf(p.index);
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
          list.push({ p, price: w.price, fee: w.fee, total: w.total, seq: 0 });
          bids.set(w.i, list);
        }
      }
      if (bids.size === 0) return placements;
      for (const [i, list] of bids) {
        const req = round.requests[i]!;
        // Bids reach the chain in an order no provider controls.
        list.sort((a, b) => hashUniform(Number(req.view.id), a.p.index, 7) - hashUniform(Number(req.view.id), b.p.index, 7));
        list.forEach((b, k) => (b.seq = k + 1));
        const win = rules.chooser === "rule" ? byRule(req, list, round, rules.prior) : byConsumer(req, list, round, used, consumerModel, penaltyBps);
        placements[i] = { provider: win.p.index, pricePerMFuel: win.price, fee: win.fee };
        used[win.p.index]!++;
        open.delete(i);
      }
    }
  };
}

/** The contract's award: the lowest expected cost, then the earlier bid (failure rates as of the round's start). */
function byRule(req: SimRequest, bids: readonly SimBid[], round: SimRound, prior: AwardPrior): SimBid {
  let best: SimBid | undefined;
  let bestScore = Infinity;
  for (const b of bids) {
    const score = expectedCost(b.total, req.view.valueAtRisk, failureBps(round.stats[b.p.index]!, prior));
    if (!best || beats({ score, seq: b.seq }, { score: bestScore, seq: best.seq })) {
      best = b;
      bestScore = score;
    }
  }
  return best!;
}

/** The consumer's agent accepts the bid of highest expected welfare for the consumer before the window closes. */
function byConsumer(req: SimRequest, bids: readonly SimBid[], round: SimRound, used: number[], model: Predictor, penaltyBps: number): SimBid {
  const options: BidOption[] = bids.map((b) => ({
    provider: b.p.offer.provider,
    offer: b.p.offer,
    stats: round.stats[b.p.index]!,
    load: used[b.p.index]!,
    pricePerMFuel: b.price,
    fee: b.fee,
    seq: b.seq,
  }));
  const { chosen } = chooseBid(req.view, options, { valueAtRisk: req.view.valueAtRisk, expectedFuel: req.fuel, penaltyBps }, model);
  return bids[chosen!.bid.seq - 1]!;
}
