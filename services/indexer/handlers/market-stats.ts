import type { EntityRecord } from "../../common/sql-layout.js";
import type { EntityStore } from "../entity-store.js";

const SECONDS_PER_DAY = 86_400;
const RATE_SCALE = 1_000_000;

/** A ratio as a BigDecimal string with six decimals at most, trailing zeros dropped ("0.25", "1", "0"). */
export function rateText(numerator: number, denominator: number): string {
  if (denominator === 0) return "0";
  const scaled = Math.floor((numerator * RATE_SCALE) / denominator);
  const whole = Math.floor(scaled / RATE_SCALE);
  const fraction = String(scaled % RATE_SCALE).padStart(6, "0").replace(/0+$/, "");
  return fraction ? `${whole}.${fraction}` : String(whole);
}

/** The MarketStats of the day of `timestamp` for a provider's tier and region. */
function dayStats(store: EntityStore, timestamp: number, tier: number, region: number): EntityRecord {
  const day = Math.floor(timestamp / SECONDS_PER_DAY);
  const id = `${day}-${tier}-${region}`;
  return (
    store.get("MarketStats", id) ?? {
      id,
      day,
      date: BigInt(day * SECONDS_PER_DAY),
      tier,
      region,
      agreementsCreated: 0,
      jobs: 0,
      settled: 0,
      breached: 0,
      overturned: 0,
      fuel: 0n,
      volume: 0n,
      priceSum: 0n,
      averagePricePerMFuel: 0n,
      slaBreachRate: "0",
    }
  );
}

function providerPlace(store: EntityStore, providerId: string): { tier: number; region: number } {
  const p = store.require("Provider", providerId);
  return { tier: p.tier as number, region: p.region as number };
}

/** An agreement was created at `timestamp` at `price` per million fuel. */
export function recordAgreementCreated(store: EntityStore, providerId: string, timestamp: number, price: bigint): void {
  const { tier, region } = providerPlace(store, providerId);
  const s = dayStats(store, timestamp, tier, region);
  s.agreementsCreated = (s.agreementsCreated as number) + 1;
  s.priceSum = (s.priceSum as bigint) + price;
  s.averagePricePerMFuel = (s.priceSum as bigint) / BigInt(s.agreementsCreated as number);
  store.set("MarketStats", s);
}

export type JobEnd = "settled" | "breached" | "overturned";

/** An agreement ended at `timestamp`: paid out by its report, breached, or overturned. */
export function recordJobEnded(
  store: EntityStore,
  providerId: string,
  timestamp: number,
  end: JobEnd,
  fuel: bigint,
  payment: bigint,
): void {
  const { tier, region } = providerPlace(store, providerId);
  const s = dayStats(store, timestamp, tier, region);
  s.jobs = (s.jobs as number) + 1;
  s[end] = (s[end] as number) + 1;
  s.fuel = (s.fuel as bigint) + fuel;
  s.volume = (s.volume as bigint) + payment;
  s.slaBreachRate = rateText((s.breached as number) + (s.overturned as number), s.jobs as number);
  store.set("MarketStats", s);
}
