/** A small model trained on a small simulated market: enough signal for tests, in about a second. */
import { bootstrapModel } from "../../services/matchmaker/bootstrap.js";
import type { MatchModel } from "../../services/matchmaker/model.js";

let cached: MatchModel | undefined;

export function smallModel(): MatchModel {
  cached ??= bootstrapModel([11, 12], { hiddenLayers: [8], iterations: 60 }, { providers: 15, rounds: 3, requestsPerRound: 40 });
  return cached;
}
