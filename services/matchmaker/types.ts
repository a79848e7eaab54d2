/**
 * What the matchmaker sees of the market: the public part of requests, offers and providers.
 * Money is in token units (floats) and fuel in fuel units; the chain adapter converts from wei.
 */

/** An open deployment request, as RequestPosted announces it. */
export interface RequestView {
  id: bigint;
  maxFuel: number;
  maxPricePerMFuel: number;
  maxFee: number;
  minMemoryMiB: number;
  /** bit 0 cloud, bit 1 edge, bit 2 iot */
  allowedTiers: number;
  region: number;
  maxLatencyClass: number;
  /** unix seconds */
  bidWindowEnd: number;
  /** unix seconds */
  deadline: number;
  /**
   * What a failed job costs the consumer, in tokens (the request's `valueAtRisk`; 0 where the
   * chain does not carry it yet). The award rule weighs the bidders' failure rates by it.
   */
  valueAtRisk: number;
  /**
   * Seconds the winner gets from the award (the request's `execTime`); undefined on a chain
   * without it, where the window's end to the deadline is what the winner gets.
   */
  execTime?: number;
  /**
   * MiB of input the job reads from the consumer's region (public off chain: the size of the
   * input at its URI); moving it costs time that grows with distance. 0 when unknown.
   */
  inputMiB: number;
  /**
   * The metering version every report on it must use (the request's `meteringVersion`); an offer
   * of another version cannot bid. Undefined in the simulator, where there is one version.
   */
  meteringVersion?: number;
}

/** One offer of a provider the agent bids for, with the provider's registration. */
export interface OfferView {
  id: bigint;
  provider: string;
  tier: number;
  region: number;
  bonded: boolean;
  pricePerMFuel: number;
  fee: number;
  maxFuel: number;
  memoryMiB: number;
  concurrentJobs: number;
  latencyClass: number;
  /** unix seconds; zero once withdrawn */
  expiresAt: number;
  /** the metering version the provider's host runs (undefined in the simulator) */
  meteringVersion?: number;
}

/** A provider's public on-chain history (the explorer's Provider entity). */
export interface ProviderStats {
  completed: number;
  breached: number;
  disputesWon: number;
  disputesLost: number;
  /** fuel summed over its usage reports */
  fuelReported: number;
  /** wall time summed over its usage reports */
  wallMsReported: number;
  /** tokens paid for its completed agreements (the registry's `completedValue`) */
  completedValue: number;
  /** the value (bid total) of its breached or overturned agreements (the registry's `failedValue`) */
  failedValue: number;
}

export const NO_HISTORY: ProviderStats = {
  completed: 0,
  breached: 0,
  disputesWon: 0,
  disputesLost: 0,
  fuelReported: 0,
  wallMsReported: 0,
  completedValue: 0,
  failedValue: 0,
};

/** One (request, offer) pair to score, with the offer's current load. */
export interface Candidate {
  request: RequestView;
  offer: OfferView;
  stats: ProviderStats;
  /** jobs the offer is committed to now (running agreements and live bids) */
  load: number;
}

/** What the model predicts for a candidate. */
export interface Prediction {
  /** probability that the usage report lands by the deadline */
  pMet: number;
  /** expected run time in seconds, fetch to report */
  runtimeSec: number;
}

/**
 * The seconds the winner has to run the job: the request's execution time where the chain
 * carries it, else from the end of the bid window to the deadline.
 */
export function slackSeconds(r: RequestView): number {
  return Math.max(1, r.execTime ?? r.deadline - r.bidWindowEnd);
}
