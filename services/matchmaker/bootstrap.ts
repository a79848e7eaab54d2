/** Bootstrapping: a model trained on simulated markets before any live history exists. */
import { MatchModel, type Sample, type TrainOptions } from "./model.js";
import { simulateMarket, trainingPairs, type SimOptions } from "./simulator.js";

/** Labelled samples from the simulator: every feasible placement of every round of every seed. */
export function simulatedSamples(seeds: readonly number[], sim: Partial<SimOptions> = {}): Sample[] {
  return seeds.flatMap((seed) =>
    trainingPairs(simulateMarket(seed, sim)).map(({ candidate, truth }) => ({
      candidate,
      met: truth.met,
      runtimeSec: truth.runtimeSec,
    })),
  );
}

export function bootstrapModel(seeds: readonly number[], train: Partial<TrainOptions> = {}, sim: Partial<SimOptions> = {}): MatchModel {
  return MatchModel.train(simulatedSamples(seeds, sim), train);
}
