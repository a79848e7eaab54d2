/**
 * The oracle: knows every placement's hidden outcome and solves the round's assignment exactly
 * as a linear program (maximise welfare; each request at most once; each offer within its free
 * capacity). The constraint matrix is a bipartite incidence matrix, so the LP optimum is integral.
 */
import solver from "javascript-lp-solver";
import { expectedTruthOf, feasible, truthOf, type SimMarket, type SimRound } from "./simulator.js";
import type { Placement, Policy } from "./policies.js";
import { welfareOf } from "./welfare.js";

/** How the oracle weighs a placement: by its realised welfare, or its expected welfare under the hidden truth. */
export type OracleKnowledge = "outcomes" | "parameters";

export function oraclePolicy(knows: OracleKnowledge): Policy {
  return (market, round) => solveRound(market, round, knows);
}

function solveRound(market: SimMarket, round: SimRound, knows: OracleKnowledge): Placement[] {
  const constraints: Record<string, { max: number }> = {};
  const variables: Record<string, Record<string, number>> = {};
  round.requests.forEach((req, i) => {
    constraints[`r${i}`] = { max: 1 };
    for (const p of market.providers) {
      if (!feasible(req.view, p.offer)) continue;
      const load = round.loads[p.index]!;
      let w: number;
      if (knows === "outcomes") {
        w = welfareOf(req, truthOf(req, p, load, Number(req.view.id)));
      } else {
        const e = expectedTruthOf(req, p, load);
        w = e.pMet * req.value - e.cost;
      }
      if (w <= 0) continue;
      constraints[`p${p.index}`] = { max: Math.max(0, p.offer.concurrentJobs - round.loads[p.index]!) };
      variables[`x${i}_${p.index}`] = { welfare: w, [`r${i}`]: 1, [`p${p.index}`]: 1 };
    }
  });
  const result = solver.Solve({ optimize: "welfare", opType: "max", constraints, variables }) as Record<string, number | boolean>;
  if (!result.feasible) throw new Error("the oracle's assignment LP is infeasible (it never should be)");
  const placements: Placement[] = round.requests.map(() => ({ provider: -1, pricePerMFuel: 0, fee: 0 }));
  for (const [name, value] of Object.entries(result)) {
    if (!name.startsWith("x") || typeof value !== "number" || value < 0.5) continue;
    const [i, j] = name.slice(1).split("_").map(Number) as [number, number];
    const p = market.providers[j]!;
    placements[i] = { provider: j, pricePerMFuel: p.offer.pricePerMFuel, fee: p.offer.fee };
  }
  return placements;
}
