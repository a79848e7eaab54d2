/**
 * Runs placement policies over simulated markets and measures them on the same requests:
 * SLA violation rate, consumer cost per job, welfare per request and energy per job.
 */
import type { Policy } from "./policies.js";
import { truthOf, type SimMarket } from "./simulator.js";
import { welfareOf } from "./welfare.js";

export interface PolicyMetrics {
  /** placed jobs whose SLA was not met, over placed jobs */
  slaViolationRate: number;
  /** what the consumer agreed to pay for the fuel the job used (price * fuel + fee), per placed job */
  consumerCostPerJob: number;
  /** welfare (see welfare.ts) per request, placed or not */
  welfare: number;
  /** joules per placed job */
  energyPerJob: number;
  /** placed requests over all requests */
  placedRate: number;
}

export function measure(markets: readonly SimMarket[], policy: Policy): PolicyMetrics {
  let requests = 0;
  let placed = 0;
  let violations = 0;
  let cost = 0;
  let welfare = 0;
  let energy = 0;
  for (const market of markets) {
    for (const round of market.rounds) {
      const placements = policy(market, round);
      round.requests.forEach((req, i) => {
        requests++;
        const pl = placements[i]!;
        if (pl.provider < 0) return;
        const p = market.providers[pl.provider]!;
        const truth = truthOf(req, p, round.loads[p.index]!, Number(req.view.id));
        placed++;
        if (!truth.met) violations++;
        cost += (req.fuel * pl.pricePerMFuel) / 1e6 + pl.fee;
        welfare += welfareOf(req, truth);
        energy += truth.energy;
      });
    }
  }
  return {
    slaViolationRate: placed ? violations / placed : 0,
    consumerCostPerJob: placed ? cost / placed : 0,
    welfare: requests ? welfare / requests : 0,
    energyPerJob: placed ? energy / placed : 0,
    placedRate: requests ? placed / requests : 0,
  };
}

/**
 * Consumer cost per job of two policies over the requests both placed: the same work at each
 * one's prices, where `measure`'s per-job cost also reflects which jobs each policy placed.
 */
export function costOnCommonJobs(markets: readonly SimMarket[], a: Policy, b: Policy): { a: number; b: number; jobs: number } {
  let costA = 0;
  let costB = 0;
  let jobs = 0;
  for (const market of markets) {
    for (const round of market.rounds) {
      const pa = a(market, round);
      const pb = b(market, round);
      round.requests.forEach((req, i) => {
        const x = pa[i]!;
        const y = pb[i]!;
        if (x.provider < 0 || y.provider < 0) return;
        jobs++;
        costA += (req.fuel * x.pricePerMFuel) / 1e6 + x.fee;
        costB += (req.fuel * y.pricePerMFuel) / 1e6 + y.fee;
      });
    }
  }
  return { a: jobs ? costA / jobs : 0, b: jobs ? costB / jobs : 0, jobs };
}
