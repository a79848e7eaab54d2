/**
 * The matchmaker's evaluation: random, cheapest-first, nearest-first, the learned market and two
 * oracles place the same requests of simulated markets on held-out seeds (never trained on).
 * Federated agents (alone / federated / central, and with one poisoned peer) and the award
 * rule's prior are measured on the same markets. Prints a table and writes
 * bench/results/matchmaker.json.
 *
 *   npm run bench:matchmaker                          the recorded held-out sets
 *   npm run bench:matchmaker -- --seeds 5001,5002     also evaluate these seeds (field `unseen`)
 *
 * Training is bounded by iterations and seeded, so every figure but the speeds is the same on any
 * machine under any load; `placementsDigest` (a hash of every placement and every model) proves it.
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { AWARD_RULE, DEFAULT_AWARD_PRIOR, type AwardPrior } from "../services/matchmaker/award-rule.js";
import { simulatedSamples } from "../services/matchmaker/bootstrap.js";
import { costOnCommonJobs, measure, type PolicyMetrics } from "../services/matchmaker/evaluation.js";
import type { Predictor } from "../services/matchmaker/evaluate.js";
import { FEATURE_COUNT, encodeRuntime, features } from "../services/matchmaker/features.js";
import { trainAlone, trainFederated } from "../services/matchmaker/federated-training.js";
import { MatchModel, type Sample } from "../services/matchmaker/model.js";
import { oraclePolicy } from "../services/matchmaker/oracle.js";
import { batchClearingPolicy } from "../services/matchmaker/batch-clearing.js";
import { cheapestFirst, learnedPolicy, nearestFirst, randomPolicy, type MarketRules, type Policy } from "../services/matchmaker/policies.js";
import { BOOTSTRAP_SEEDS } from "../services/matchmaker/setup.js";
import { candidateOf, expectedTruthOf, feasible, simulateMarket, trainingPairs, type SimMarket } from "../services/matchmaker/simulator.js";
import type { Candidate } from "../services/matchmaker/types.js";

const { values: args } = parseArgs({ options: { seeds: { type: "string" } } });
const parseSeeds = (text: string) =>
  text.split(",").map((s) => {
    const n = Number(s.trim());
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--seeds takes comma-separated whole numbers, not "${s}"`);
    return n;
  });
const UNSEEN_SEEDS = args.seeds ? parseSeeds(args.seeds) : undefined;

const HELD_OUT_SEEDS = [1001, 1002, 1003, 1004];
/** A second held-out set: a change that only helps on the first is tuning, not learning. */
const SECOND_HELD_OUT_SEEDS = [2001, 2002, 2003, 2004];
/** The bench market is competitive: many providers bid on every request, so markups stay small. */
const PRICING = { competition: 30 };
/** Federated agents: provider i of every market belongs to agent i mod AGENTS. */
const AGENTS = 6;
/**
 * Rounds x local passes = the central model's 600 passes; merging every 2 passes keeps the
 * agents' models close (each agent's data is one tier's: agent k owns providers k, k+6, ...).
 * The shared model is the mean of the last 50 merges: each merge of one-tier agents jitters.
 */
const FEDERATION = { rounds: 300, localIterations: 2, seed: 1, averageLast: 50 };
const RULES: MarketRules = { chooser: "rule", prior: DEFAULT_AWARD_PRIOR };

const digest = createHash("sha256");
/** Records every placement a policy makes into the digest. */
function recorded(name: string, policy: Policy): Policy {
  return (market, round) => {
    const out = policy(market, round);
    digest.update(`${name}:${market.seed}:${out.map((p) => `${p.provider}@${p.pricePerMFuel.toPrecision(12)}+${p.fee.toPrecision(12)}`).join(",")}\n`);
    return out;
  };
}
const modelDigest = (m: MatchModel) => digest.update(JSON.stringify(m.file.net));

// --- training: central, each agent alone, federated, federated with one poisoned peer ---
const loadAtStart = loadavg().map((x) => Math.round(x * 100) / 100);
const t0 = performance.now();
const trainingMarkets = BOOTSTRAP_SEEDS.map((seed) => simulateMarket(seed));
const agentSamples: Sample[][] = Array.from({ length: AGENTS }, () => []);
for (const m of trainingMarkets) {
  for (const { candidate, truth } of trainingPairs(m)) {
    const index = m.providers.findIndex((p) => p.offer.id === candidate.offer.id);
    agentSamples[index % AGENTS]!.push({ candidate, met: truth.met, runtimeSec: truth.runtimeSec });
  }
}
const allSamples = simulatedSamples(BOOTSTRAP_SEEDS);
const central = MatchModel.train(allSamples);
const trainSec = (performance.now() - t0) / 1000;
const alone = agentSamples.map((s) => trainAlone(s, FEDERATION));
const federated = trainFederated(agentSamples, FEDERATION);
const poisoned = trainFederated(agentSamples, { ...FEDERATION, poisoned: [AGENTS - 1] });
// The same federation with the poisoned peer simply absent: what losing its data costs, apart from its garbage.
const peerAbsent = trainFederated(agentSamples.slice(0, AGENTS - 1), FEDERATION);
const federationSec = (performance.now() - t0) / 1000 - trainSec;
for (const m of [central, ...alone, federated.model, poisoned.model, peerAbsent.model]) modelDigest(m);

/**
 * A diagnostic, not a policy anyone can run: the same market with the model replaced by the
 * exact P(SLA met) from the hidden truth. What it misses of the oracle's welfare is the
 * market's rules', not the model's.
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

interface SetResult {
  seeds: number[];
  policies: Record<string, PolicyMetrics>;
  learnedWelfareVsOracle: number;
  learnedWelfareVsExpectedOracle: number;
  learnedViolationsVsCheapest: number;
  learnedCostVsCheapest: number;
  /** the same ratio over the requests both placed (the same work, each at its own prices) */
  learnedCostVsCheapestSameJobs: number;
  consumerAgentsWelfareVsOracle: number;
  marketWithTruePWelfareVsOracle: number;
  batchClearingWelfareVsOracle: number;
  batchClearingWelfareVsExpectedOracle: number;
  batchClearingWithTruePWelfareVsOracle: number;
  batchClearingPenalty5000WelfareVsOracle: number;
  batchClearingWithTruePPenalty5000WelfareVsOracle: number;
  batchClearingWithTruePPenalty5000WelfareVsExpectedOracle: number;
}

/** Every policy on one set of seeds. */
function evaluateSet(seeds: number[], full: boolean): { set: SetResult; markets: SimMarket[] } {
  const markets = seeds.map((seed) => simulateMarket(seed));
  const trueP = truePMetPredictor(markets);
  const policies: Record<string, Policy> = {
    ...(full ? { random: randomPolicy(42), nearest: nearestFirst } : {}),
    cheapest: cheapestFirst,
    learned: recorded(`learned/${seeds.join(",")}`, learnedPolicy(central, PRICING, RULES)),
    learnedConsumerAgents: recorded(`consumer/${seeds.join(",")}`, learnedPolicy(central, PRICING, { ...RULES, chooser: "consumer-agent" })),
    oracle: oraclePolicy("outcomes"),
    oracleExpected: oraclePolicy("parameters"),
    marketWithTrueP: learnedPolicy(trueP, PRICING, RULES),
    ...(full ? { marketWithTruePConsumerAgents: learnedPolicy(trueP, PRICING, { ...RULES, chooser: "consumer-agent" }) } : {}),
    // What another rule would give: one batch assignment per round over the agents' quotes.
    batchClearing: recorded(`batch/${seeds.join(",")}`, batchClearingPolicy(central, PRICING)),
    batchClearingWithTrueP: batchClearingPolicy(trueP, PRICING),
    // ... and with half the breach penalty, which deters fewer risky but valuable jobs.
    batchClearingPenalty5000: batchClearingPolicy(central, { ...PRICING, penaltyBps: 5_000 }),
    batchClearingWithTruePPenalty5000: batchClearingPolicy(trueP, { ...PRICING, penaltyBps: 5_000 }),
  };
  const r: Record<string, PolicyMetrics> = {};
  for (const [name, policy] of Object.entries(policies)) r[name] = measure(markets, policy);
  const o = r.oracle!.welfare;
  const common = costOnCommonJobs(markets, learnedPolicy(central, PRICING, RULES), cheapestFirst);
  return {
    markets,
    set: {
      seeds,
      policies: r,
      learnedWelfareVsOracle: r.learned!.welfare / o,
      learnedWelfareVsExpectedOracle: r.learned!.welfare / r.oracleExpected!.welfare,
      learnedViolationsVsCheapest: r.learned!.slaViolationRate / r.cheapest!.slaViolationRate,
      learnedCostVsCheapest: r.learned!.consumerCostPerJob / r.cheapest!.consumerCostPerJob,
      learnedCostVsCheapestSameJobs: common.a / common.b,
      consumerAgentsWelfareVsOracle: r.learnedConsumerAgents!.welfare / o,
      marketWithTruePWelfareVsOracle: r.marketWithTrueP!.welfare / o,
      batchClearingWelfareVsOracle: r.batchClearing!.welfare / o,
      batchClearingWelfareVsExpectedOracle: r.batchClearing!.welfare / r.oracleExpected!.welfare,
      batchClearingWithTruePWelfareVsOracle: r.batchClearingWithTrueP!.welfare / o,
      batchClearingPenalty5000WelfareVsOracle: r.batchClearingPenalty5000!.welfare / o,
      batchClearingWithTruePPenalty5000WelfareVsOracle: r.batchClearingWithTruePPenalty5000!.welfare / o,
      batchClearingWithTruePPenalty5000WelfareVsExpectedOracle: r.batchClearingWithTruePPenalty5000!.welfare / r.oracleExpected!.welfare,
    },
  };
}

const first = evaluateSet(HELD_OUT_SEEDS, true);
const second = evaluateSet(SECOND_HELD_OUT_SEEDS, false);
const unseen = UNSEEN_SEEDS ? evaluateSet(UNSEEN_SEEDS, false) : undefined;
const markets = first.markets;
const oracleWelfare = first.set.policies.oracle!.welfare;
const secondOracle = second.set.policies.oracle!.welfare;

// The breach penalty is a market parameter (default 100% of the agreement's value).
const penaltySensitivity: Record<string, PolicyMetrics> = {};
for (const penaltyBps of [2_000, 5_000, 10_000, 20_000]) {
  penaltySensitivity[String(penaltyBps)] = measure(markets, learnedPolicy(central, { ...PRICING, penaltyBps }, RULES));
}

// The award rule's prior: welfare of the learned market and the newcomers' share of awards.
const priorSweep: { priorValue: number; priorFailureBps: number; welfareVsOracle: number; secondWelfareVsOracle: number }[] = [];
for (const priorValue of [10, 100, 1_000]) {
  for (const priorFailureBps of [300, 1_000, 3_000]) {
    const prior: AwardPrior = { priorValue, priorFailureBps };
    priorSweep.push({
      priorValue,
      priorFailureBps,
      welfareVsOracle: measure(markets, learnedPolicy(central, PRICING, { chooser: "rule", prior })).welfare / oracleWelfare,
      secondWelfareVsOracle: measure(second.markets, learnedPolicy(central, PRICING, { chooser: "rule", prior })).welfare / secondOracle,
    });
  }
}

// Federated agents: each provider's agent bids with its agent's model.
const fedRow = (models: (i: number) => Predictor, ms: SimMarket[], oracle: number, name: string) =>
  measure(ms, recorded(name, learnedPolicy(models, PRICING, RULES))).welfare / oracle;
const federatedFigures = (ms: SimMarket[], oracle: number, tag: string) => ({
  alone: fedRow((i) => alone[i % AGENTS]!, ms, oracle, `alone/${tag}`),
  federated: fedRow(() => federated.model, ms, oracle, `federated/${tag}`),
  central: fedRow(() => central, ms, oracle, `central/${tag}`),
  federatedOnePoisoned: fedRow(() => poisoned.model, ms, oracle, `poisoned/${tag}`),
  federatedPeerAbsent: fedRow(() => peerAbsent.model, ms, oracle, `absent/${tag}`),
});
const fedFirst = federatedFigures(markets, oracleWelfare, "1");
const fedSecond = federatedFigures(second.markets, secondOracle, "2");

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
  central.predictBatch(candidates, scratch, out);
  scored += candidates.length;
}
const scoringsPerSecond = Math.round(scored / ((performance.now() - s0) / 1000));
const net = central.brainNet();
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

const p1 = first.set.policies;
const summary = {
  policies: p1,
  learnedWelfareVsOracle: first.set.learnedWelfareVsOracle,
  learnedWelfareVsExpectedOracle: first.set.learnedWelfareVsExpectedOracle,
  learnedViolationsVsCheapest: first.set.learnedViolationsVsCheapest,
  learnedCostVsCheapest: first.set.learnedCostVsCheapest,
  learnedCostVsCheapestSameJobs: first.set.learnedCostVsCheapestSameJobs,
  consumerAgentsWelfareVsOracle: first.set.consumerAgentsWelfareVsOracle,
  marketWithTruePWelfareVsOracle: first.set.marketWithTruePWelfareVsOracle,
  batchClearingWelfareVsOracle: first.set.batchClearingWelfareVsOracle,
  batchClearingWelfareVsExpectedOracle: first.set.batchClearingWelfareVsExpectedOracle,
  batchClearingWithTruePWelfareVsOracle: first.set.batchClearingWithTruePWelfareVsOracle,
  batchClearingWithTruePPenalty5000WelfareVsOracle: first.set.batchClearingWithTruePPenalty5000WelfareVsOracle,
  scoringsPerSecond,
  penaltySensitivity,
  secondHeldOut: second.set,
  ...(unseen ? { unseen: unseen.set } : {}),
  federated: {
    agents: AGENTS,
    schedule: FEDERATION,
    welfareVsOracle: fedFirst,
    secondHeldOutWelfareVsOracle: fedSecond,
    poisonedRunUpdatesRejected: poisoned.rejected,
    honestUpdatesRejected: federated.rejected,
    samplesPerAgent: agentSamples.map((s) => s.length),
  },
  awardRule: AWARD_RULE,
  awardPrior: RULES.prior,
  priorSweep,
  placementsDigest: digest.digest("hex"),
  brainJsRunsPerSecond: brainRunsPerSecond,
  fastNetMaxAbsDiffVsBrainJs: maxDiff,
  setup: {
    trainingSeeds: BOOTSTRAP_SEEDS,
    heldOutSeeds: HELD_OUT_SEEDS,
    requests: markets.reduce((n, m) => n + m.rounds.reduce((k, r) => k + r.requests.length, 0), 0),
    candidates: candidates.length,
    trainSeconds: Math.round(trainSec * 10) / 10,
    federationSeconds: Math.round(federationSec * 10) / 10,
    trainedOn: central.file.trainedOn,
    pricing: PRICING,
  },
  machine: { cores: cpus().length, node: process.version, date: new Date().toISOString(), loadavgAtStart: loadAtStart, loadavgAtEnd: loadavg().map((x) => Math.round(x * 100) / 100) },
};

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
console.log(`held-out seeds ${HELD_OUT_SEEDS.join(", ")}: ${summary.setup.requests} requests; central model on ${central.file.trainedOn} placements in ${summary.setup.trainSeconds}s, federation ${summary.setup.federationSeconds}s\n`);
console.log("| policy | SLA violations | consumer cost / job | welfare / request | energy / job (J) | placed |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
for (const [name, r] of Object.entries(p1)) {
  console.log(`| ${name} | ${pct(r.slaViolationRate)} | ${r.consumerCostPerJob.toFixed(3)} | ${r.welfare.toFixed(3)} | ${r.energyPerJob.toFixed(2)} | ${pct(r.placedRate)} |`);
}
console.log("\nlearned agents by breach penalty (bps of the agreement's value; the market's default is 10000):");
for (const [bps, r] of Object.entries(penaltySensitivity)) {
  console.log(`  ${bps.padStart(5)}: violations ${pct(r.slaViolationRate)}, cost ${r.consumerCostPerJob.toFixed(3)}, welfare ${pct(r.welfare / oracleWelfare)} of the oracle, placed ${pct(r.placedRate)}`);
}
console.log("\naward rule prior (priorValue tokens, priorFailureBps): learned welfare vs oracle, first / second set");
for (const s of priorSweep) console.log(`  ${String(s.priorValue).padStart(5)}, ${String(s.priorFailureBps).padStart(5)}: ${pct(s.welfareVsOracle)} / ${pct(s.secondWelfareVsOracle)}`);
const line = (name: string, s: SetResult) =>
  `${name} (${s.seeds.join(", ")}): learned ${pct(s.learnedWelfareVsOracle)} of the oracle, ${pct(s.learnedWelfareVsExpectedOracle)} of the expected-welfare oracle; violations ${pct(s.learnedViolationsVsCheapest)} and cost ${pct(s.learnedCostVsCheapest)} of cheapest-first's (${pct(s.learnedCostVsCheapestSameJobs)} on the jobs both placed); consumer agents ${pct(s.consumerAgentsWelfareVsOracle)}; true P(met) ${pct(s.marketWithTruePWelfareVsOracle)}; batch clearing ${pct(s.batchClearingWelfareVsOracle)} (${pct(s.batchClearingWelfareVsExpectedOracle)} of the expected-welfare oracle; true P(met) ${pct(s.batchClearingWithTruePWelfareVsOracle)}); at half the penalty ${pct(s.batchClearingPenalty5000WelfareVsOracle)} (true P(met) ${pct(s.batchClearingWithTruePPenalty5000WelfareVsOracle)}, ${pct(s.batchClearingWithTruePPenalty5000WelfareVsExpectedOracle)} of the expected-welfare oracle)`;
console.log(`
award rule: ${AWARD_RULE}, prior ${JSON.stringify(RULES.prior)}
${line("first held-out set", first.set)}
${line("second held-out set", second.set)}${unseen ? `\n${line("unseen seeds", unseen.set)}` : ""}
federated (welfare vs oracle, first / second set): alone ${pct(fedFirst.alone)} / ${pct(fedSecond.alone)}, federated ${pct(fedFirst.federated)} / ${pct(fedSecond.federated)}, central ${pct(fedFirst.central)} / ${pct(fedSecond.central)}, one poisoned peer ${pct(fedFirst.federatedOnePoisoned)} / ${pct(fedSecond.federatedOnePoisoned)} (${poisoned.rejected} updates rejected; ${federated.rejected} of the honest run's), that peer absent ${pct(fedFirst.federatedPeerAbsent)} / ${pct(fedSecond.federatedPeerAbsent)}
scorings/s: ${scoringsPerSecond.toLocaleString("en")} (target >= 100,000); brain.js run: ${brainRunsPerSecond.toLocaleString("en")}/s; FastNet vs brain.js max |diff| ${maxDiff.toExponential(1)}
placements digest: ${summary.placementsDigest}`);

mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(new URL("./results/matchmaker.json", import.meta.url), JSON.stringify(summary, null, 2) + "\n");
