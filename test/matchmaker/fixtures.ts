/** Plain requests and offers for the matchmaker's unit tests (token units, unix seconds). */
import type { OfferView, ProviderStats, RequestView } from "../../services/matchmaker/types.js";

export function request(overrides: Partial<RequestView> = {}): RequestView {
  return {
    id: 7n,
    maxFuel: 1e9,
    maxPricePerMFuel: 0.05,
    maxFee: 0.01,
    minMemoryMiB: 64,
    allowedTiers: 0b111,
    region: 1,
    maxLatencyClass: 3,
    bidWindowEnd: 1_000,
    deadline: 1_000 + 600,
    valueAtRisk: 20,
    inputMiB: 0,
    ...overrides,
  };
}

export function offer(overrides: Partial<OfferView> = {}): OfferView {
  return {
    id: 3n,
    provider: "0xprovider",
    tier: 1,
    region: 1,
    bonded: true,
    pricePerMFuel: 0.01,
    fee: 0.001,
    maxFuel: 1e10,
    memoryMiB: 256,
    concurrentJobs: 2,
    latencyClass: 1,
    expiresAt: 1e9,
    ...overrides,
  };
}

export function stats(overrides: Partial<ProviderStats> = {}): ProviderStats {
  return { completed: 40, breached: 1, disputesWon: 0, disputesLost: 0, fuelReported: 4e10, wallMsReported: 400_000, completedValue: 400, failedValue: 10, ...overrides };
}
