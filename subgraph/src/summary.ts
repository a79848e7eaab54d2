import { BigInt } from "@graphprotocol/graph-ts";
import { MarketSummary } from "../generated/schema";

// The market-wide totals (MarketSummary "market").
export function loadSummary(): MarketSummary {
  let s = MarketSummary.load("market");
  if (s == null) {
    s = new MarketSummary("market");
    s.providers = 0;
    s.offers = 0;
    s.requests = 0;
    s.agreements = 0;
    s.settled = 0;
    s.breached = 0;
    s.overturned = 0;
    s.annulled = 0;
    s.disputes = 0;
    s.fuel = BigInt.zero();
    s.volume = BigInt.zero();
    s.stake = BigInt.zero();
    s.verifiers = 0;
    s.verifierStake = BigInt.zero();
    s.modelUpdates = 0;
  }
  return s;
}
