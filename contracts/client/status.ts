/** `Status` of a request / agreement, mirroring `contracts/market/MarketTypes.sol`. */
export const Status = {
  None: 0,
  Open: 1,
  Awarded: 2,
  Reported: 3,
  Disputed: 4,
  Settled: 5,
  Breached: 6,
  Overturned: 7,
  Cancelled: 8,
  Expired: 9,
  Annulled: 10,
} as const;
export type StatusCode = (typeof Status)[keyof typeof Status];

export const STATUS_NAMES = Object.keys(Status) as (keyof typeof Status)[];

/** Why a request ended without an agreement (`CloseReason` in MarketTypes.sol), with what to tell the consumer. */
export const CloseReason = { NoBid: 0, Cancelled: 1, TooLate: 2, StakeShort: 3 } as const;
export const CLOSE_REASON_TEXT = [
  "no provider bid before the window closed",
  "the consumer cancelled the request",
  "the award came too late: the execution time would have passed the request's deadline",
  "the winning provider's free stake no longer covered the agreement's penalty and dispute bond",
] as const;

/** A dispute's final ruling (`Ruling` in MarketTypes.sol). */
export const Ruling = { None: 0, Upheld: 1, Overturned: 2, ContentWithheld: 3, Void: 4 } as const;
export const RULING_NAMES = Object.keys(Ruling) as (keyof typeof Ruling)[];

/** Provider tiers; a request's `allowedTiers` has bit `tier` set for each tier it accepts. */
export const Tier = { Cloud: 0, Edge: 1, Iot: 2 } as const;
export type TierCode = (typeof Tier)[keyof typeof Tier];
export const TIER_NAMES = ["cloud", "edge", "iot"] as const;
