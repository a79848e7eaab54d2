/**
 * The model's input: a normalised feature vector built only from what the market makes public
 * (the request, the offer and its load, the provider's on-chain history, region distance).
 * Every feature lands in roughly [0, 1] so one network fits all scales.
 */
import { networkSeconds, rttMs } from "./continuum.js";
import { slackSeconds, type Candidate, type ProviderStats } from "./types.js";

export const FEATURE_NAMES = [
  "fuel cap",
  "deadline slack",
  "required fuel rate",
  "latency class asked",
  "price vs ceiling",
  "tier cloud",
  "tier edge",
  "tier iot",
  "capacity",
  "current load",
  "jobs completed",
  "breach rate",
  "disputes",
  "newcomer",
  "observed speed",
  "speed known",
  "speed headroom",
  "distance",
  "offer latency class",
  "time headroom",
  "network share of slack",
  "input size",
  "value-weighted failure rate",
] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];
export const FEATURE_COUNT = FEATURE_NAMES.length;

/** Load slows a job down; headroom is judged at the load the job would run under. */
const LOAD_PENALTY = 0.6;

const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);

/** Fuel per second observed in the provider's usage reports (0 if it never reported). */
export function observedFuelPerSec(s: ProviderStats): number {
  return s.wallMsReported > 0 ? (s.fuelReported * 1000) / s.wallMsReported : 0;
}

/** Writes the candidate's features into `out` at `offset` (no allocation: the hot path). */
export function writeFeatures(c: Candidate, out: Float64Array, offset = 0): void {
  const { request: r, offer: o, stats: s } = c;
  const slack = slackSeconds(r);
  const required = r.maxFuel / slack;
  const jobs = s.completed + s.breached + s.disputesLost;
  const fps = observedFuelPerSec(s);
  const load = c.load / Math.max(1, o.concurrentJobs);
  out[offset] = clamp01((Math.log10(Math.max(1, r.maxFuel)) - 5) / 6);
  out[offset + 1] = clamp01(Math.log10(slack) / 4);
  out[offset + 2] = clamp01((Math.log10(Math.max(1, required)) - 4) / 6);
  out[offset + 3] = clamp01(r.maxLatencyClass / 4);
  out[offset + 4] = r.maxPricePerMFuel > 0 ? clamp01(o.pricePerMFuel / r.maxPricePerMFuel) : 1;
  out[offset + 5] = o.tier === 0 ? 1 : 0;
  out[offset + 6] = o.tier === 1 ? 1 : 0;
  out[offset + 7] = o.tier === 2 ? 1 : 0;
  out[offset + 8] = clamp01(Math.log2(o.concurrentJobs + 1) / 5);
  out[offset + 9] = clamp01(load);
  out[offset + 10] = clamp01(Math.log1p(s.completed) / 6);
  out[offset + 11] = (s.breached + s.disputesLost + 0.5) / (jobs + 1);
  out[offset + 12] = clamp01(Math.log1p(s.disputesWon + s.disputesLost) / 3);
  out[offset + 13] = 1 / (1 + jobs);
  out[offset + 14] = fps > 0 ? clamp01((Math.log10(fps) - 5) / 4) : 0;
  out[offset + 15] = fps > 0 ? 1 : 0;
  // Headroom: how many times faster than needed the provider has been seen running (log scale).
  out[offset + 16] = fps > 0 ? clamp01(0.5 + 0.25 * Math.log10(fps / (1 + LOAD_PENALTY * load) / required)) : 0.5;
  out[offset + 17] = clamp01(rttMs(r.region, o.region) / 250);
  out[offset + 18] = clamp01(o.latencyClass / 4);
  // Time headroom: the seconds left for execution once the job's round trips and its input's
  // transfer are paid, against the seconds the whole fuel cap would take at the provider's
  // observed (load-adjusted) speed.
  const networkSec = networkSeconds(r.region, o.region, r.inputMiB);
  const execSec = slack - networkSec;
  out[offset + 19] =
    fps > 0 ? (execSec > 0 ? clamp01(0.5 + 0.5 * Math.log10((execSec * fps) / (1 + LOAD_PENALTY * load) / r.maxFuel)) : 0) : 0.5;
  out[offset + 20] = clamp01(networkSec / slack);
  out[offset + 21] = clamp01(Math.log10(1 + r.inputMiB) / 3.5);
  // The on-chain record weighted by value (what the award rule reads), lightly smoothed.
  out[offset + 22] = (s.failedValue + 0.1) / (s.completedValue + s.failedValue + 1);
}

/** The feature vector of one candidate. */
export function features(c: Candidate): Float64Array {
  const out = new Float64Array(FEATURE_COUNT);
  writeFeatures(c, out);
  return out;
}

/** The feature matrix of many candidates, row-major, for a batched forward pass. */
export function featureMatrix(candidates: readonly Candidate[], out?: Float64Array): Float64Array {
  const m = out && out.length >= candidates.length * FEATURE_COUNT ? out : new Float64Array(candidates.length * FEATURE_COUNT);
  for (let i = 0; i < candidates.length; i++) writeFeatures(candidates[i]!, m, i * FEATURE_COUNT);
  return m;
}

/** Run time in seconds <-> the model's [0, 1] output (log scale from 10 ms to 10^4 s). */
export function encodeRuntime(sec: number): number {
  return clamp01((Math.log10(Math.max(sec, 0.01)) + 2) / 6);
}
export function decodeRuntime(y: number): number {
  return 10 ** (y * 6 - 2);
}
