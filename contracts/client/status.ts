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
} as const;
export type StatusCode = (typeof Status)[keyof typeof Status];

export const STATUS_NAMES = Object.keys(Status) as (keyof typeof Status)[];

/** Provider tiers; a request's `allowedTiers` has bit `tier` set for each tier it accepts. */
export const Tier = { Cloud: 0, Edge: 1, Iot: 2 } as const;
export type TierCode = (typeof Tier)[keyof typeof Tier];
export const TIER_NAMES = ["cloud", "edge", "iot"] as const;
