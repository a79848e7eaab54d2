/**
 * A rule the market does not run, measured to show what would lift the per-request auction's
 * ceiling: a batch clearing. Every provider's agent quotes each open request it would take (its
 * price and its predicted P(SLA met), through `evaluateRequest`), and one assignment over the
 * whole batch maximises the consumers' expected value net of price, sum of
 * valueAtRisk x pMet - total, within every offer's free capacity (a linear program whose optimum
 * is integral: the constraint matrix is a bipartite incidence matrix). It needs the agents'
 * predictions as bids, and an off-chain solver whose result the chain would have to verify.
 */
import solver from "javascript-lp-solver";
import { evaluateRequest, type Predictor } from "./evaluate.js";
import { providerCost, type Placement, type Policy } from "./policies.js";
import type { PricingParams } from "./pricing.js";

export function batchClearingPolicy(model: Predictor, pricing: Partial<PricingParams> = {}): Policy {
  return (market, round) => {
    const constraints: Record<string, { max: number }> = {};
    const variables: Record<string, Record<string, number>> = {};
    const quotes = new Map<string, { price: number; fee: number }>();
    for (const p of market.providers) {
      const free = p.offer.concurrentJobs - round.loads[p.index]!;
      if (free <= 0) continue;
      const offer = { offer: p.offer, stats: round.stats[p.index]!, load: round.loads[p.index]!, cost: providerCost(p) };
      round.requests.forEach((req, i) => {
        const chosen = evaluateRequest(req.view, [offer], model, { now: 0, pricing, explain: false }).chosen;
        if (!chosen) return;
        const surplus = req.view.valueAtRisk * chosen.prediction.pMet - chosen.quote.total;
        if (surplus <= 0) return;
        constraints[`p${p.index}`] = { max: free };
        constraints[`r${i}`] = { max: 1 };
        variables[`x${i}_${p.index}`] = { surplus, [`r${i}`]: 1, [`p${p.index}`]: 1 };
        quotes.set(`${i}_${p.index}`, { price: chosen.quote.pricePerMFuel, fee: chosen.quote.fee });
      });
    }
    const result = solver.Solve({ optimize: "surplus", opType: "max", constraints, variables }) as Record<string, number | boolean>;
    const placements: Placement[] = round.requests.map(() => ({ provider: -1, pricePerMFuel: 0, fee: 0 }));
    for (const [name, value] of Object.entries(result)) {
      if (!name.startsWith("x") || typeof value !== "number" || value < 0.5) continue;
      const key = name.slice(1);
      const [i, j] = key.split("_").map(Number) as [number, number];
      const q = quotes.get(key)!;
      placements[i] = { provider: j, pricePerMFuel: q.price, fee: q.fee };
    }
    return placements;
  };
}
