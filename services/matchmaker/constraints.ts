/**
 * Hard constraints, checked before any scoring: the contract's own bid checks (so the agent never
 * sends a bid that reverts) plus capacity and timing, which only the agent can enforce.
 */
import type { OfferView, RequestView } from "./types.js";

export type ConstraintCode =
  | "window-closed"
  | "offer-expired"
  | "not-bonded"
  | "tier"
  | "memory"
  | "fuel-cap"
  | "latency"
  | "metering"
  | "price-ceiling"
  | "stake"
  | "capacity";

export type ConstraintResult = { ok: true } | { ok: false; code: ConstraintCode; reason: string };

const TIER_NAMES = ["cloud", "edge", "iot"];

/**
 * What a bid reserves of its provider's stake if it wins (the contract's `_reserveOf`): the
 * penalty (penaltyBps of the bid's total) plus the dispute bond. The contract refuses a bid whose
 * provider's free stake does not cover it, and refunds the consumer at the award when it no longer does.
 */
export interface StakeCover {
  /** the provider's free stake (registry `bidderProfile`) less what its other live bids may reserve, in tokens */
  free: number;
  penaltyBps: number;
  /** the market's dispute bond, in tokens */
  disputeBond: number;
}

/** The stake an agreement of total `total` reserves. */
export function reserveFor(total: number, stake: Pick<StakeCover, "penaltyBps" | "disputeBond">): number {
  return (total * stake.penaltyBps) / 10_000 + stake.disputeBond;
}

/**
 * Whether `offer` may bid on `request` at unix time `now` while carrying `load` jobs.
 * `marginSec` keeps bids out of the window's last seconds, where they could land too late.
 */
export function checkConstraints(
  request: RequestView,
  offer: OfferView,
  load: number,
  now: number,
  marginSec = 0,
  stake?: StakeCover,
): ConstraintResult {
  const fail = (code: ConstraintCode, reason: string): ConstraintResult => ({ ok: false, code, reason });
  if (now + marginSec >= request.bidWindowEnd) {
    return fail("window-closed", `the bid window closes at ${request.bidWindowEnd} (now ${now}, margin ${marginSec}s)`);
  }
  if (offer.expiresAt < request.bidWindowEnd) {
    return fail("offer-expired", `the offer expires at ${offer.expiresAt}, before the window ends at ${request.bidWindowEnd}`);
  }
  if (!offer.bonded) return fail("not-bonded", `provider ${offer.provider} is not bonded`);
  if (((request.allowedTiers >> offer.tier) & 1) === 0) {
    return fail("tier", `tier ${TIER_NAMES[offer.tier] ?? offer.tier} is not in the allowed tiers 0b${request.allowedTiers.toString(2)}`);
  }
  if (offer.memoryMiB < request.minMemoryMiB) {
    return fail("memory", `the offer has ${offer.memoryMiB} MiB, the job needs ${request.minMemoryMiB} MiB`);
  }
  if (offer.maxFuel < request.maxFuel) {
    return fail("fuel-cap", `the offer runs at most ${offer.maxFuel} fuel, the request caps at ${request.maxFuel}`);
  }
  if (offer.latencyClass > request.maxLatencyClass) {
    return fail("latency", `latency class ${offer.latencyClass} is slower than the ${request.maxLatencyClass} asked`);
  }
  if (request.meteringVersion !== undefined && offer.meteringVersion !== undefined && offer.meteringVersion !== request.meteringVersion) {
    return fail("metering", `the offer meters with version ${offer.meteringVersion}, the request asks for version ${request.meteringVersion}`);
  }
  if (offer.pricePerMFuel > request.maxPricePerMFuel || offer.fee > request.maxFee) {
    return fail(
      "price-ceiling",
      `the offer's floor (${offer.pricePerMFuel}/Mfuel + ${offer.fee}) is above the ceiling (${request.maxPricePerMFuel}/Mfuel + ${request.maxFee})`,
    );
  }
  if (stake) {
    // The cheapest bid the offer can make reserves the least: if even that is not covered, no bid is.
    const floorTotal = (request.maxFuel * offer.pricePerMFuel) / 1e6 + offer.fee;
    const reserve = reserveFor(floorTotal, stake);
    if (stake.free < reserve) {
      return fail("stake", `the provider's free stake ${stake.free} does not cover the ${reserve} (penalty + dispute bond) even its floor bid would reserve`);
    }
  }
  if (load >= offer.concurrentJobs) {
    return fail("capacity", `the offer is committed to ${load} of its ${offer.concurrentJobs} concurrent jobs`);
  }
  return { ok: true };
}
