import type { EntityRecord } from "../../common/sql-layout.js";
import type { EntityStore } from "../entity-store.js";

export const SUMMARY_ID = "market";

const ZERO_SUMMARY: EntityRecord = {
  id: SUMMARY_ID,
  providers: 0,
  offers: 0,
  requests: 0,
  agreements: 0,
  settled: 0,
  breached: 0,
  overturned: 0,
  disputes: 0,
  fuel: 0n,
  volume: 0n,
  stake: 0n,
};

type Counter = "providers" | "offers" | "requests" | "agreements" | "settled" | "breached" | "overturned" | "disputes";
type Amount = "fuel" | "volume" | "stake";

/** Updates the market-wide totals (the MarketSummary entity "market"). */
export function updateSummary(
  store: EntityStore,
  change: Partial<Record<Counter, number>> & Partial<Record<Amount, bigint>>,
): void {
  const s = store.get("MarketSummary", SUMMARY_ID) ?? { ...ZERO_SUMMARY };
  for (const [key, delta] of Object.entries(change)) {
    s[key] = typeof delta === "bigint" ? (s[key] as bigint) + delta : (s[key] as number) + (delta as number);
  }
  store.set("MarketSummary", s);
}
