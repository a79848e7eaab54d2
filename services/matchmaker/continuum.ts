/**
 * The shape of the continuum the simulator draws from: regions and the latency between them,
 * and what each provider tier is like. Published numbers only; each provider's hidden truth
 * (reliability, speed, cost) is drawn around them in simulator.ts.
 */

/** Region centres on a unit map; the round-trip time grows with distance. */
export const REGION_COORDS: readonly (readonly [number, number])[] = [
  [0.1, 0.2],
  [0.3, 0.8],
  [0.5, 0.4],
  [0.9, 0.3],
  [0.7, 0.9],
  [0.2, 0.5],
];
export const REGION_COUNT = REGION_COORDS.length;

/** Round-trip time in milliseconds between two regions (2 ms inside one region). */
export function rttMs(a: number, b: number): number {
  const pa = REGION_COORDS[a % REGION_COUNT]!;
  const pb = REGION_COORDS[b % REGION_COUNT]!;
  return 2 + 180 * Math.hypot(pa[0] - pb[0], pa[1] - pb[1]);
}

/** Round trips a job needs between consumer and provider (fetch module and input, report). */
export const ROUND_TRIPS_PER_JOB = 20;

/**
 * Throughput of a transfer from the consumer's region, in MiB/s: a window-limited stream, so it
 * falls with the round-trip time (200 MiB/s inside a region, about 8 MiB/s across the map).
 */
export function bandwidthMiBps(rtt: number): number {
  return (200 * 2) / Math.max(2, rtt);
}

/**
 * Seconds a job spends on the network between the consumer's region and the provider's: its
 * round trips plus moving its input. The one formula the simulator's truth and the model's
 * features share.
 */
export function networkSeconds(consumerRegion: number, providerRegion: number, inputMiB: number): number {
  const rtt = rttMs(consumerRegion, providerRegion);
  return (ROUND_TRIPS_PER_JOB * rtt) / 1000 + inputMiB / bandwidthMiBps(rtt);
}

/**
 * The kinds of job the continuum carries, and why each needs its tier: latency-bound jobs have a
 * deadline of a second or two that only a provider near the consumer meets (and ask a latency
 * class the cloud does not offer); data-local jobs read hundreds of MiB from the consumer's
 * region, which only a provider inside or next to it moves in time; heavy jobs need more fuel
 * and memory than an edge box or a gateway has; batch jobs can go anywhere.
 */
export type JobClass = "batch" | "latency" | "data-local" | "heavy";
export const JOB_CLASSES: readonly { name: JobClass; share: number }[] = [
  { name: "batch", share: 0.5 },
  { name: "latency", share: 0.2 },
  { name: "data-local", share: 0.2 },
  { name: "heavy", share: 0.1 },
];

export interface TierProfile {
  name: "cloud" | "edge" | "iot";
  /** fuel per second, log-uniform range */
  speed: readonly [number, number];
  /** probability a job is not lost to a fault, uniform range */
  reliability: readonly [number, number];
  /** list price per million fuel and per-job fee, in tokens */
  pricePerMFuel: number;
  fee: number;
  /** joules per million fuel */
  energyPerMFuel: number;
  capacity: readonly [number, number];
  memoryMiB: number;
  maxFuel: number;
  latencyClass: number;
  /** regions the tier has sites in (undefined: every region) */
  regions?: readonly number[];
}

export const TIERS: readonly TierProfile[] = [
  {
    name: "cloud",
    speed: [1.5e8, 4e8],
    reliability: [0.985, 0.998],
    pricePerMFuel: 0.01,
    fee: 0.002,
    energyPerMFuel: 0.05,
    capacity: [4, 8],
    memoryMiB: 4096,
    maxFuel: 1e11,
    latencyClass: 2,
    regions: [0, 3],
  },
  {
    name: "edge",
    speed: [5e7, 1.5e8],
    reliability: [0.95, 0.99],
    pricePerMFuel: 0.016,
    fee: 0.001,
    energyPerMFuel: 0.03,
    capacity: [2, 4],
    memoryMiB: 1024,
    maxFuel: 2e10,
    latencyClass: 1,
  },
  {
    name: "iot",
    speed: [5e6, 3e7],
    reliability: [0.8, 0.95],
    pricePerMFuel: 0.013,
    fee: 0.0005,
    energyPerMFuel: 0.01,
    capacity: [1, 2],
    memoryMiB: 256,
    maxFuel: 2e9,
    latencyClass: 0,
  },
];

/** What a joule costs, in tokens (energy is part of the provider's cost and of welfare). */
export const ENERGY_PRICE = 0.02;

/** How much slower a job runs per unit of load fraction on its offer. */
export const LOAD_SLOWDOWN = 0.6;
