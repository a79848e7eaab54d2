/**
 * The benchmark's promise: training is bounded by iterations and seeded, never by wall time, so
 * the same code gives the same model and the same placements, whatever the machine's load.
 */
import { expect } from "chai";
import { createHash } from "node:crypto";
import { bootstrapModel } from "../../services/matchmaker/bootstrap.js";
import { learnedPolicy } from "../../services/matchmaker/policies.js";
import { simulateMarket } from "../../services/matchmaker/simulator.js";

function placements(): { net: string; digest: string } {
  // A busy event loop and a slow start change nothing: nothing reads the clock.
  const model = bootstrapModel([41], { hiddenLayers: [6], iterations: 30, seed: 5 }, { providers: 12, rounds: 2, requestsPerRound: 30 });
  const hash = createHash("sha256");
  for (const chooser of ["rule", "consumer-agent"] as const) {
    const policy = learnedPolicy(model, { competition: 30 }, { chooser, prior: { priorValue: 100, priorFailureBps: 1_000 } });
    for (const seed of [42, 43]) {
      const m = simulateMarket(seed, { providers: 12, rounds: 2, requestsPerRound: 30 });
      for (const round of m.rounds) hash.update(JSON.stringify(policy(m, round)));
    }
  }
  return { net: JSON.stringify(model.file.net), digest: hash.digest("hex") };
}

describe("matchmaker reproducibility", function () {
  this.timeout(120_000);

  it("two runs train the same model and make the same placements", () => {
    const a = placements();
    // Load the machine between the runs: a wall-clock bound would train less under it.
    const until = Date.now() + 300;
    while (Date.now() < until) Math.sqrt(Math.random());
    const b = placements();
    expect(b.net).to.equal(a.net);
    expect(b.digest).to.equal(a.digest);
  });
});
