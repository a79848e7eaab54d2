/**
 * The matchmaker's evaluation: random, cheapest-first, nearest-first, the learned agent and two
 * oracles place the same requests of simulated markets on held-out seeds (never trained on).
 * Prints a table and writes bench/results/matchmaker.json. Welfare is defined in
 * services/matchmaker/welfare.ts; the policies in services/matchmaker/policies.ts and oracle.ts.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { bootstrapModel } from "../services/matchmaker/bootstrap.js";
import { measure, type PolicyMetrics } from "../services/matchmaker/evaluation.js";
import type { Predictor } from "../services/matchmaker/evaluate.js";
import { FEATURE_COUNT, encodeRuntime, features } from "../services/matchmaker/features.js";
import { oraclePolicy } from "../services/matchmaker/oracle.js";
import { cheapestFirst, learnedPolicy, nearestFirst, randomPolicy, type Policy } from "../services/matchmaker/policies.js";
import { BOOTSTRAP_SEEDS } from "../services/matchmaker/setup.js";
import { candidateOf, expectedTruthOf, feasible, simulateMarket, type SimMarket } from "../services/matchmaker/simulator.js";
import type { Candidate } from "../services/matchmaker/types.js";

const HELD_OUT_SEEDS = [1001, 1002, 1003, 1004];
/** A second held-out set: a change that only helps on the first is tuning, not learning. */
const SECOND_HELD_OUT_SEEDS = [2001, 2002, 2003, 2004];
/** The bench market is competitive: many providers bid on every request, so markups stay small. */
const PRICING = { competition: 30 };

const t0 = performance.now();
const model = bootstrapModel(BOOTSTRAP_SEEDS);
const trainSec = (performance.now() - t0) / 1000;
const markets = HELD_OUT_SEEDS.map((seed) => simulateMarket(seed));

/**
 * A diagnostic, not a policy anyone can run: the same market (every agent through
 * evaluateRequest, the contract's award rule) with the model replaced by the exact P(SLA met)
 * from the hidden truth. What it misses of the oracle's welfare is the market's rules', not
 * the model's.
 */
function truePMetPredictor(ms: readonly SimMarket[]): Predictor {
  const byKey = new Map<string, { req: SimMarket["rounds"][number]["requests"][number]; p: SimMarket["providers"][number] }>();
  for (const m of ms) for (const round of m.rounds) for (const req of round.requests) for (const p of m.providers) byKey.set(`${req.view.id}/${p.offer.id}`, { req, p });
  return {
    predictBatch(cs) {
      const y = new Float64Array(cs.length * 2);
      cs.forEach((c, i) => {
        const { req, p } = byKey.get(`${c.request.id}/${c.offer.id}`)!;
        y[2 * i] = expectedTruthOf(req, p, c.load).pMet;
        y[2 * i + 1] = encodeRuntime(1);
      });
      return y;
    },
    explain: () => [],
  };
}

const policies: Record<string, Policy> = {
  random: randomPolicy(42),
  cheapest: cheapestFirst,
  nearest: nearestFirst,
  learned: learnedPolicy(model, PRICING),
  oracle: oraclePolicy("outcomes"),
  oracleExpected: oraclePolicy("parameters"),
  marketWithTrueP: learnedPolicy(truePMetPredictor(markets), PRICING),
};
const results: Record<string, PolicyMetrics> = {};
for (const [name, policy] of Object.entries(policies)) results[name] = measure(markets, policy);
// The breach penalty is a market parameter (default 100% of the agreement's value): how the
// learned agents trade placements for violations as it changes.
const penaltySensitivity: Record<string, PolicyMetrics> = {};
for (const penaltyBps of [2_000, 5_000, 10_000, 20_000]) {
  penaltySensitivity[String(penaltyBps)] = measure(markets, learnedPolicy(model, { ...PRICING, penaltyBps }));
}

// The same learned agents and oracle on a second held-out set.
const secondMarkets = SECOND_HELD_OUT_SEEDS.map((seed) => simulateMarket(seed));
const second: Record<string, PolicyMetrics> = {
  cheapest: measure(secondMarkets, cheapestFirst),
  learned: measure(secondMarkets, learnedPolicy(model, PRICING)),
  oracle: measure(secondMarkets, oraclePolicy("outcomes")),
  marketWithTrueP: measure(secondMarkets, learnedPolicy(truePMetPredictor(secondMarkets), PRICING)),
};

// Scoring throughput: feature extraction plus the forward pass, batched, over every feasible candidate.
const candidates: Candidate[] = [];
for (const m of markets)
  for (const round of m.rounds)
    for (const req of round.requests)
      for (const p of m.providers) if (feasible(req.view, p.offer)) candidates.push(candidateOf(req, p, round));
const scratch = new Float64Array(candidates.length * FEATURE_COUNT);
const out = new Float64Array(candidates.length * 2);
let scored = 0;
const s0 = performance.now();
while (performance.now() - s0 < 2_000) {
  model.predictBatch(candidates, scratch, out);
  scored += candidates.length;
}
const scoringsPerSecond = Math.round(scored / ((performance.now() - s0) / 1000));
// The same candidates through brain.js's own `run`, for comparison and to check FastNet agrees.
const net = model.brainNet();
let maxDiff = 0;
let brainRuns = 0;
const b0 = performance.now();
while (performance.now() - b0 < 1_000) {
  for (let i = 0; i < Math.min(candidates.length, 2_000); i++, brainRuns++) {
    const y = net.run(Array.from(features(candidates[i]!))) as ArrayLike<number>;
    maxDiff = Math.max(maxDiff, Math.abs(y[0]! - out[2 * i]!), Math.abs(y[1]! - out[2 * i + 1]!));
  }
}
const brainRunsPerSecond = Math.round(brainRuns / ((performance.now() - b0) / 1000));

const learned = results.learned!;
const cheapest = results.cheapest!;
const summary = {
  policies: results,
  learnedWelfareVsOracle: learned.welfare / results.oracle!.welfare,
  learnedWelfareVsExpectedOracle: learned.welfare / results.oracleExpected!.welfare,
  learnedViolationsVsCheapest: learned.slaViolationRate / cheapest.slaViolationRate,
  learnedCostVsCheapest: learned.consumerCostPerJob / cheapest.consumerCostPerJob,
  scoringsPerSecond,
  penaltySensitivity,
  secondHeldOut: {
    seeds: SECOND_HELD_OUT_SEEDS,
    policies: second,
    learnedWelfareVsOracle: second.learned!.welfare / second.oracle!.welfare,
    marketWithTruePWelfareVsOracle: second.marketWithTrueP!.welfare / second.oracle!.welfare,
    learnedViolationsVsCheapest: second.learned!.slaViolationRate / second.cheapest!.slaViolationRate,
    learnedCostVsCheapest: second.learned!.consumerCostPerJob / second.cheapest!.consumerCostPerJob,
  },
  brainJsRunsPerSecond: brainRunsPerSecond,
  fastNetMaxAbsDiffVsBrainJs: maxDiff,
  setup: {
    trainingSeeds: BOOTSTRAP_SEEDS,
    heldOutSeeds: HELD_OUT_SEEDS,
    requests: markets.reduce((n, m) => n + m.rounds.reduce((k, r) => k + r.requests.length, 0), 0),
    candidates: candidates.length,
    trainSeconds: Math.round(trainSec * 10) / 10,
    trainedOn: model.file.trainedOn,
    pricing: PRICING,
  },
  machine: { cores: cpus().length, node: process.version, date: new Date().toISOString() },
};

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
console.log(`held-out seeds ${HELD_OUT_SEEDS.join(", ")}: ${summary.setup.requests} requests, model trained on ${model.file.trainedOn} placements in ${summary.setup.trainSeconds}s\n`);
console.log("| policy | SLA violations | consumer cost / job | welfare / request | energy / job (J) | placed |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
for (const [name, r] of Object.entries(results)) {
  console.log(`| ${name} | ${pct(r.slaViolationRate)} | ${r.consumerCostPerJob.toFixed(3)} | ${r.welfare.toFixed(3)} | ${r.energyPerJob.toFixed(2)} | ${pct(r.placedRate)} |`);
}
console.log("\nlearned agents by breach penalty (bps of the agreement's value; the market's default is 10000):");
for (const [bps, r] of Object.entries(penaltySensitivity)) {
  console.log(`  ${bps.padStart(5)}: violations ${pct(r.slaViolationRate)}, cost ${r.consumerCostPerJob.toFixed(3)}, welfare ${r.welfare.toFixed(3)} (${pct(r.welfare / results.oracle!.welfare)} of the oracle), placed ${pct(r.placedRate)}`);
}
console.log(`
learned vs cheapest: violations ${pct(summary.learnedViolationsVsCheapest)} (target <= 50%), cost ${pct(summary.learnedCostVsCheapest)} (target <= 110%)
learned welfare vs oracle: ${pct(summary.learnedWelfareVsOracle)} (target >= 90%); vs expected-welfare oracle: ${pct(summary.learnedWelfareVsExpectedOracle)}
the same market with the true P(met) instead of the model (diagnostic): ${pct(results.marketWithTrueP!.welfare / results.oracle!.welfare)} of the oracle
second held-out set (${SECOND_HELD_OUT_SEEDS.join(", ")}): learned welfare ${pct(summary.secondHeldOut.learnedWelfareVsOracle)} of the oracle (true P(met): ${pct(summary.secondHeldOut.marketWithTruePWelfareVsOracle)}), violations ${pct(summary.secondHeldOut.learnedViolationsVsCheapest)} and cost ${pct(summary.secondHeldOut.learnedCostVsCheapest)} of cheapest-first's
scorings/s: ${scoringsPerSecond.toLocaleString("en")} (target >= 50,000); brain.js run: ${brainRunsPerSecond.toLocaleString("en")}/s; FastNet vs brain.js max |diff| ${maxDiff.toExponential(1)}`);

mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(new URL("./results/matchmaker.json", import.meta.url), JSON.stringify(summary, null, 2) + "\n");
