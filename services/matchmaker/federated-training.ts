/**
 * Federated training as the benchmark and the tests run it: K agents, each with its own
 * outcomes, start from the same seeded weights; each round every agent trains its copy of the
 * shared model on its own samples for a few passes and publishes the weights; the merge
 * (federated.ts: validated, clipped, trimmed and weighted by samples) becomes the next shared
 * model. A poisoned agent publishes garbage instead. Alone, each agent trains only on its own.
 * Everything is bounded by iterations and seeded: the same inputs give the same models.
 */
import { aggregate, weightsOf, withWeights, type AggregateOptions } from "./federated.js";
import { MatchModel, prepareSamples, type Sample } from "./model.js";
import { Rng } from "./prng.js";

export interface FederatedOptions {
  /** merge rounds */
  rounds: number;
  /** passes over its own samples an agent trains between two merges */
  localIterations: number;
  /** the agents' SGD learning rate (default DEFAULT_TRAIN's) */
  learningRate?: number;
  /** how far the shared model moves towards each merge (1: all the way; above 1 extrapolates, as server-side learning rates do) */
  serverRate?: number;
  seed: number;
  hiddenLayers?: number[];
  /**
   * the shared model returned is the mean of the last `averageLast` rounds' merges (default 1:
   * the last merge alone); averaging the tail of the schedule smooths the round-to-round jitter
   * of non-identical agents' merges
   */
  averageLast?: number;
  /** agents (by index) that publish garbage weights each round */
  poisoned?: readonly number[];
  aggregate?: Partial<AggregateOptions>;
}

/** What a poisoned peer publishes: huge random weights, claiming many samples. */
export function garbageUpdate(model: MatchModel, rng: Rng): MatchModel {
  const w = weightsOf(model.file).map(() => rng.normal() * 50);
  return MatchModel.fromFile(withWeights(model.file, w, 1e9));
}

/** Federated averaging over the agents' own samples; returns the shared model and what each merge rejected. */
export function trainFederated(agents: readonly (readonly Sample[])[], o: FederatedOptions): { model: MatchModel; rejected: number } {
  let shared = MatchModel.initial(o.seed, o.hiddenLayers);
  const prepared = agents.map((samples) => prepareSamples(samples));
  const rng = new Rng(o.seed ^ 0x5eed);
  let rejected = 0;
  const tail = Math.max(1, Math.min(o.rounds, o.averageLast ?? 1));
  let tailSum: Float64Array | undefined;
  for (let round = 0; round < o.rounds; round++) {
    const updates = prepared.map((set, k) => {
      const local = o.poisoned?.includes(k) ? garbageUpdate(shared, rng) : shared.trainedFurther(set, o.localIterations, o.learningRate);
      return { from: `agent-${k}`, samples: o.poisoned?.includes(k) ? 1e9 : set.data.length, file: local.file };
    });
    const merged = aggregate(shared.file, updates, o.aggregate);
    rejected += merged.rejected.length;
    const rate = o.serverRate ?? 1;
    if (rate === 1) {
      shared = MatchModel.fromFile(merged.file);
    } else {
      const before = weightsOf(shared.file);
      const after = weightsOf(merged.file);
      shared = MatchModel.fromFile(withWeights(merged.file, after.map((w, i) => before[i]! + rate * (w - before[i]!))));
    }
    if (round >= o.rounds - tail) {
      const w = weightsOf(shared.file);
      tailSum = tailSum ? tailSum.map((x, i) => x + w[i]!) : w;
    }
  }
  if (tail > 1) shared = MatchModel.fromFile(withWeights(shared.file, tailSum!.map((x) => x / tail)));
  return { model: shared, rejected };
}

/** Each agent alone: the same seeded start, the same number of passes over its own samples. */
export function trainAlone(samples: readonly Sample[], o: Pick<FederatedOptions, "rounds" | "localIterations" | "seed" | "hiddenLayers" | "learningRate">): MatchModel {
  return MatchModel.initial(o.seed, o.hiddenLayers).trainedFurther(samples, o.rounds * o.localIterations, o.learningRate);
}
