/**
 * A seeded, deterministic simulator of the continuum market. It yields what the live market
 * exposes (requests, offers, provider history) plus the ground truth only it knows: whether a
 * placement meets its SLA and how long it runs. The same seed always gives the same market.
 */
import { ENERGY_PRICE, JOB_CLASSES, LOAD_SLOWDOWN, REGION_COUNT, TIERS, bandwidthMiBps, networkSeconds, type JobClass } from "./continuum.js";
import { Rng, hashUniform } from "./prng.js";
import { NO_HISTORY, slackSeconds, type Candidate, type OfferView, type ProviderStats, type RequestView } from "./types.js";

/** A simulated provider: its public offer and history, and its hidden truth. */
export interface SimProvider {
  index: number;
  offer: OfferView;
  /** its on-chain counters now (after every simulated round); rounds keep their own snapshot */
  stats: ProviderStats;
  hidden: {
    reliability: number;
    speed: number;
    /** its operating cost as a share of its list price */
    costShare: number;
  };
}

/** A simulated request: the public view and what only the consumer's job knows. */
export interface SimRequest {
  view: RequestView;
  /** fuel the job really uses (the view only shows the cap) */
  fuel: number;
  /** what an SLA-met job is worth to the consumer, in tokens (it states it as its value at risk) */
  value: number;
  jobClass: JobClass;
}

/** A batch of requests posted together, with the load each offer already carries. */
export interface SimRound {
  requests: SimRequest[];
  /** load per provider index at the start of the round */
  loads: number[];
  /** each provider's public history at the start of the round (it grows from round to round) */
  stats: ProviderStats[];
}

export interface SimMarket {
  seed: number;
  providers: SimProvider[];
  rounds: SimRound[];
}

/** The ground truth of one placement. */
export interface Truth {
  met: boolean;
  runtimeSec: number;
  /** joules spent (a failed job burns about half its fuel) */
  energy: number;
  /** the provider's operating cost plus energy, in tokens */
  cost: number;
}

export interface SimOptions {
  providers: number;
  rounds: number;
  requestsPerRound: number;
  /** past jobs offered to each provider, at most (it takes those it expects to meet) */
  maxHistory: number;
  /** jobs offered to each provider by the rest of the market between two rounds, at most */
  jobsBetweenRounds: number;
}

export const DEFAULT_SIM: SimOptions = { providers: 24, rounds: 5, requestsPerRound: 60, maxHistory: 150, jobsBetweenRounds: 20 };

const BID_WINDOW_END = 1_000;
const TIER_MASKS = [7, 7, 7, 3, 6, 1, 2, 5, 4] as const;
const MEMORY_NEEDS = [64, 128, 256, 512, 1024] as const;
const LATENCY_NEEDS = [0, 1, 1, 2, 2, 3, 3, 3] as const;

function drawProvider(rng: Rng, index: number): SimProvider {
  const tier = index % 3;
  const t = TIERS[tier]!;
  const budget = rng.next() < 0.35;
  const priceFactor = budget ? rng.uniform(0.8, 0.92) : rng.uniform(0.95, 1.15);
  const reliability = Math.max(0.3, rng.uniform(...t.reliability) - (budget ? rng.uniform(0.08, 0.3) : 0));
  const speed = rng.logUniform(...t.speed) * (budget ? rng.uniform(0.4, 0.85) : 1);
  const region = t.regions ? rng.pick(t.regions) : rng.int(0, REGION_COUNT - 1);
  return {
    index,
    offer: {
      id: BigInt(index + 1),
      provider: `sim-provider-${index}`,
      tier,
      region,
      bonded: true,
      pricePerMFuel: t.pricePerMFuel * priceFactor,
      fee: t.fee * priceFactor,
      maxFuel: t.maxFuel,
      memoryMiB: t.memoryMiB,
      concurrentJobs: rng.int(...t.capacity),
      latencyClass: t.latencyClass,
      expiresAt: 1e10,
    },
    stats: { ...NO_HISTORY },
    hidden: { reliability, speed, costShare: rng.uniform(0.45, 0.7) },
  };
}

/** Draws a request from the consumer population (one of the continuum's job classes); `id` keys its random outcomes. */
export function drawRequest(rng: Rng, id: number): SimRequest {
  let u = rng.next();
  const jobClass = (JOB_CLASSES.find((c) => (u -= c.share) < 0) ?? JOB_CLASSES[0]!).name;
  const region = rng.int(0, REGION_COUNT - 1);
  let fuel: number;
  let execSec: number;
  let slackExtra: number;
  let inputMiB: number;
  let minMemoryMiB: number;
  let allowedTiers: number;
  let maxLatencyClass: number;
  let ceiling = 0.02;
  let valueFactor: [number, number] = [1.1, 2];
  switch (jobClass) {
    case "latency":
      // A control loop or an interactive call: little fuel, a deadline of a second or two.
      fuel = rng.logUniform(1e6, 5e7);
      execSec = fuel / rng.logUniform(3e7, 2e8);
      slackExtra = rng.uniform(0.2, 0.8);
      inputMiB = rng.logUniform(0.001, 0.1);
      minMemoryMiB = rng.pick([64, 128] as const);
      allowedTiers = rng.pick([6, 6, 7] as const);
      maxLatencyClass = rng.pick([0, 1, 1] as const);
      ceiling = 0.03;
      valueFactor = [2, 4];
      break;
    case "data-local":
      // Video or sensor archives that live in the consumer's region.
      fuel = rng.logUniform(1e8, 3e9);
      inputMiB = rng.logUniform(100, 1500);
      execSec = fuel / rng.logUniform(5e7, 3e8) + (inputMiB / bandwidthMiBps(2)) * rng.uniform(1.5, 3);
      slackExtra = rng.uniform(1, 4);
      minMemoryMiB = rng.pick([256, 512, 1024] as const);
      allowedTiers = 7;
      maxLatencyClass = rng.pick([2, 3] as const);
      valueFactor = [1.2, 2.5];
      break;
    case "heavy":
      // Training runs, renders: more fuel and memory than an edge box or a gateway has.
      fuel = rng.logUniform(5e9, 3e10);
      execSec = fuel / rng.logUniform(1e8, 4e8);
      slackExtra = rng.uniform(5, 20);
      inputMiB = rng.logUniform(1, 50);
      minMemoryMiB = rng.pick([2048, 4096] as const);
      allowedTiers = 7;
      maxLatencyClass = rng.pick([2, 3] as const);
      break;
    default:
      fuel = rng.logUniform(1e7, 5e9);
      execSec = fuel / rng.logUniform(8e6, 4e8);
      slackExtra = rng.uniform(1, 4);
      inputMiB = rng.logUniform(0.01, 4);
      minMemoryMiB = rng.pick(MEMORY_NEEDS);
      allowedTiers = rng.pick(TIER_MASKS);
      maxLatencyClass = rng.pick(LATENCY_NEEDS);
  }
  // Fuel is deterministic, so a consumer can measure its job once and cap it tightly.
  const capFactor = rng.uniform(1.05, 1.3);
  const maxFuel = Math.round(fuel * capFactor);
  const slack = Math.max(1, Math.ceil(execSec * capFactor + slackExtra));
  const maxPricePerMFuel = ceiling * rng.uniform(1, 1.5);
  const maxFee = 0.005;
  const maxTotal = (maxFuel * maxPricePerMFuel) / 1e6 + maxFee;
  const value = maxTotal * rng.uniform(...valueFactor);
  const view: RequestView = {
    id: BigInt(id),
    maxFuel,
    maxPricePerMFuel,
    maxFee,
    minMemoryMiB,
    allowedTiers,
    region,
    maxLatencyClass,
    bidWindowEnd: BID_WINDOW_END,
    deadline: BID_WINDOW_END + slack,
    execTime: slack,
    valueAtRisk: value,
    inputMiB,
  };
  return { view, fuel, value, jobClass };
}

/** Seconds the job runs on `p` at `load`, before jitter. */
function execSeconds(req: SimRequest, p: SimProvider, load: number): number {
  return (req.fuel / p.hidden.speed) * (1 + LOAD_SLOWDOWN * Math.min(1, load / p.offer.concurrentJobs));
}

/** The hidden outcome of running `req` on `p` at `load`; `key` picks the outcome's random draws. */
export function truthOf(req: SimRequest, p: SimProvider, load: number, key: number): Truth {
  const o = p.offer;
  const jitter = 0.9 + 0.4 * hashUniform(key, p.index, 1);
  const runtimeSec = execSeconds(req, p, load) * jitter + networkSeconds(req.view.region, o.region, req.view.inputMiB);
  const fault = hashUniform(key, p.index, 2) > p.hidden.reliability;
  const met = !fault && runtimeSec <= slackSeconds(req.view);
  const fuelBurnt = met ? req.fuel : req.fuel / 2;
  const energy = (fuelBurnt / 1e6) * TIERS[o.tier]!.energyPerMFuel;
  const operating = p.hidden.costShare * ((fuelBurnt * o.pricePerMFuel) / 1e6 + o.fee);
  return { met, runtimeSec, energy, cost: operating + energy * ENERGY_PRICE };
}

/**
 * What the hidden truth makes of a placement before the dice are rolled: the probability the
 * SLA is met given the provider's true reliability and speed and the job's true fuel (only the
 * fault and the run-time jitter are left to chance), and the expected cost.
 */
export function expectedTruthOf(req: SimRequest, p: SimProvider, load: number): { pMet: number; cost: number } {
  const o = p.offer;
  const jitterLimit = (slackSeconds(req.view) - networkSeconds(req.view.region, o.region, req.view.inputMiB)) / execSeconds(req, p, load);
  const pOnTime = Math.min(1, Math.max(0, (jitterLimit - 0.9) / 0.4));
  const pMet = p.hidden.reliability * pOnTime;
  const costOf = (fuel: number) =>
    p.hidden.costShare * ((fuel * o.pricePerMFuel) / 1e6 + o.fee) + (fuel / 1e6) * TIERS[o.tier]!.energyPerMFuel * ENERGY_PRICE;
  return { pMet, cost: pMet * costOf(req.fuel) + (1 - pMet) * costOf(req.fuel / 2) };
}

/** Exec-only wall time, as a usage report would state it. */
function reportedWallMs(req: SimRequest, p: SimProvider, load: number): number {
  const loadFrac = Math.min(1, load / p.offer.concurrentJobs);
  return Math.max(1, Math.round((1000 * req.fuel * (1 + LOAD_SLOWDOWN * loadFrac)) / p.hidden.speed));
}

/** Whether the offer can legally serve the request (the contract's checks; capacity aside). */
export function feasible(req: RequestView, o: OfferView): boolean {
  return (
    ((req.allowedTiers >> o.tier) & 1) === 1 &&
    o.memoryMiB >= req.minMemoryMiB &&
    o.maxFuel >= req.maxFuel &&
    o.latencyClass <= req.maxLatencyClass &&
    o.pricePerMFuel <= req.maxPricePerMFuel &&
    o.fee <= req.maxFee
  );
}

/**
 * The least P(SLA met) a provider's agent takes a job at, in the simulated past: agents decline
 * jobs they expect to miss, so a record reflects the provider's reliability on the work it
 * chooses, not the misses of jobs it would never have bid on.
 */
const HISTORY_ACCEPT_P = 0.6;

/** Plays `jobs` past placements offered to each provider, so its public counters reflect its truth. */
function simulateHistory(rng: Rng, p: SimProvider, jobs: number, keyBase: number): void {
  for (let j = 0; j < jobs; j++) {
    const req = drawRequest(rng, keyBase + j);
    if (!feasible(req.view, p.offer)) continue;
    const load = rng.int(0, p.offer.concurrentJobs - 1);
    if (expectedTruthOf(req, p, load).pMet < HISTORY_ACCEPT_P) continue;
    const truth = truthOf(req, p, load, keyBase + j);
    const o = p.offer;
    if (truth.met) {
      p.stats.completed++;
      p.stats.fuelReported += req.fuel;
      p.stats.wallMsReported += reportedWallMs(req, p, load);
      p.stats.completedValue += (req.fuel * o.pricePerMFuel) / 1e6 + o.fee;
      if (rng.next() < 0.02) p.stats.disputesWon++;
    } else {
      p.stats.failedValue += (req.view.maxFuel * o.pricePerMFuel) / 1e6 + o.fee;
      // A report that came but was overturned: the worst providers also cheat now and then.
      if (rng.next() < 0.15 * (1 - p.hidden.reliability)) p.stats.disputesLost++;
      else p.stats.breached++;
    }
  }
}

/** A whole simulated market from one seed. */
export function simulateMarket(seed: number, options: Partial<SimOptions> = {}): SimMarket {
  const opts = { ...DEFAULT_SIM, ...options };
  const rng = new Rng(seed);
  const providers = Array.from({ length: opts.providers }, (_, i) => drawProvider(rng, i));
  for (const p of providers) {
    const jobs = rng.next() < 0.15 ? 0 : rng.int(5, opts.maxHistory);
    simulateHistory(rng, p, jobs, seed * 1_000_003 + p.index * 10_007);
  }
  const rounds: SimRound[] = [];
  let nextId = seed * 100_000 + 1;
  for (let r = 0; r < opts.rounds; r++) {
    const requests = Array.from({ length: opts.requestsPerRound }, () => drawRequest(rng, nextId++));
    const loads = providers.map((p) => rng.int(0, Math.max(0, p.offer.concurrentJobs - 1)));
    rounds.push({ requests, loads, stats: providers.map((p) => ({ ...p.stats })) });
    // The rest of the market keeps running: outcomes move every provider's counters before the next round.
    for (const p of providers) {
      simulateHistory(rng, p, rng.int(0, opts.jobsBetweenRounds), seed * 1_000_003 + p.index * 10_007 + (r + 1) * 1_009);
    }
  }
  return { seed, providers, rounds };
}

/** The candidate the live agent would score for this placement in `round`. */
export function candidateOf(req: SimRequest, p: SimProvider, round: SimRound, load = round.loads[p.index]!): Candidate {
  return { request: req.view, offer: p.offer, stats: round.stats[p.index]!, load };
}

/** Labelled placements for training: every feasible (request, provider) pair of every round. */
export function trainingPairs(market: SimMarket): { candidate: Candidate; truth: Truth }[] {
  const out: { candidate: Candidate; truth: Truth }[] = [];
  for (const round of market.rounds) {
    for (const req of round.requests) {
      for (const p of market.providers) {
        if (!feasible(req.view, p.offer)) continue;
        const load = round.loads[p.index]!;
        out.push({ candidate: candidateOf(req, p, round), truth: truthOf(req, p, load, Number(req.view.id)) });
      }
    }
  }
  return out;
}
