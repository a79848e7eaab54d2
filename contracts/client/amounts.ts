/** The market's price unit: offers and bids are priced per this much fuel. */
export const FUEL_UNIT = 1_000_000n;

/**
 * What a request escrows at its ceilings, and what the award rule compares between bids: the
 * price for the whole fuel cap plus the fee, in the token's smallest unit.
 */
export function totalFor(maxFuel: bigint, pricePerMFuel: bigint, fee: bigint): bigint {
  return (maxFuel * pricePerMFuel) / FUEL_UNIT + fee;
}

const BPS = 10_000n;

/** A consumer's value at risk as a request stores it: in basis points of the escrow, rounded to the nearest. */
export function valueAtRiskBps(valueAtRisk: bigint, escrow: bigint): bigint {
  return (valueAtRisk * BPS + escrow / 2n) / escrow;
}

/**
 * What the award rule ranks a bid by (`DeploymentAuction`): its total plus the value at risk
 * weighted by the provider's failure rate, exactly as the contract computes it.
 */
export function expectedCost(total: bigint, escrow: bigint, riskBps: bigint, failureBps: bigint): bigint {
  return total + (escrow * riskBps * failureBps) / (BPS * BPS);
}
