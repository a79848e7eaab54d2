/** The market's price unit: offers and bids are priced per this much fuel. */
export const FUEL_UNIT = 1_000_000n;

/**
 * What a request escrows at its ceilings, and what the award rule compares between bids: the
 * price for the whole fuel cap plus the fee, in the token's smallest unit.
 */
export function totalFor(maxFuel: bigint, pricePerMFuel: bigint, fee: bigint): bigint {
  return (maxFuel * pricePerMFuel) / FUEL_UNIT + fee;
}
