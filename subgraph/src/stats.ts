import { BigDecimal, BigInt } from "@graphprotocol/graph-ts";
import { MarketStats, Provider } from "../generated/schema";

// Daily figures per provider tier and region.
const SECONDS_PER_DAY = 86400;
const RATE_SCALE = 1000000;

function dayStats(timestamp: BigInt, provider: Provider): MarketStats {
  let day = timestamp.toI32() / SECONDS_PER_DAY;
  let id = day.toString() + "-" + provider.tier.toString() + "-" + provider.region.toString();
  let s = MarketStats.load(id);
  if (s == null) {
    s = new MarketStats(id);
    s.day = day;
    s.date = BigInt.fromI32(day).times(BigInt.fromI32(SECONDS_PER_DAY));
    s.tier = provider.tier;
    s.region = provider.region;
    s.agreementsCreated = 0;
    s.jobs = 0;
    s.settled = 0;
    s.breached = 0;
    s.overturned = 0;
    s.annulled = 0;
    s.fuel = BigInt.zero();
    s.volume = BigInt.zero();
    s.priceSum = BigInt.zero();
    s.averagePricePerMFuel = BigInt.zero();
    s.slaBreachRate = BigDecimal.zero();
  }
  return s;
}

export function recordAgreementCreated(provider: Provider, timestamp: BigInt, price: BigInt): void {
  let s = dayStats(timestamp, provider);
  s.agreementsCreated = s.agreementsCreated + 1;
  s.priceSum = s.priceSum.plus(price);
  s.averagePricePerMFuel = s.priceSum.div(BigInt.fromI32(s.agreementsCreated));
  s.save();
}

/** end: 0 settled, 1 breached, 2 overturned, 3 annulled (a Void ruling) */
export function recordJobEnded(provider: Provider, timestamp: BigInt, end: i32, fuel: BigInt, payment: BigInt): void {
  let s = dayStats(timestamp, provider);
  s.jobs = s.jobs + 1;
  if (end == 0) s.settled = s.settled + 1;
  else if (end == 1) s.breached = s.breached + 1;
  else if (end == 2) s.overturned = s.overturned + 1;
  else s.annulled = s.annulled + 1;
  s.fuel = s.fuel.plus(fuel);
  s.volume = s.volume.plus(payment);
  // Six decimals, rounded down.
  let scaled = BigInt.fromI32(s.breached + s.overturned).times(BigInt.fromI32(RATE_SCALE)).div(BigInt.fromI32(s.jobs));
  s.slaBreachRate = scaled.toBigDecimal().div(BigDecimal.fromString("1000000"));
  s.save();
}
