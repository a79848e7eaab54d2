import { expect } from "chai";
import { MarketState } from "../../services/matchmaker/market-state.js";
import type { ChainEvent } from "../../services/matchmaker/chain.js";

const TOKEN = 10n ** 18n;
let log = 0;
const event = (name: string, args: Record<string, unknown>): ChainEvent => ({ name, args, blockNumber: 1, logIndex: log++ });

function posted(id: bigint, extra: Record<string, unknown> = {}): ChainEvent {
  return event("RequestPosted", {
    requestId: id, maxFuel: 1_000_000_000n, maxPricePerMFuel: TOKEN / 10n, maxFee: TOKEN / 100n, minMemoryMiB: 64n,
    allowedTiers: 7n, region: 1n, maxLatencyClass: 3n, bidWindowEnd: 1_000n, deadline: 2_000n, inputURI: "", ...extra,
  });
}
const bid = (id: bigint, provider: string, price: bigint, extra: Record<string, unknown> = {}) =>
  event("BidPlaced", { requestId: id, provider, offerId: 1n, agent: provider, pricePerMFuel: price, fee: 0n, seq: 1n, explanationHash: "0x", ...extra });

describe("matchmaker market state: the best bid by the award rule", () => {
  it("on today's market (no value at risk, no failure rate in the event) the lowest total is the best", () => {
    const s = new MarketState(["0xaa"], 0);
    s.apply(posted(1n));
    s.apply(bid(1n, "0xBB", TOKEN / 50n));
    s.apply(bid(1n, "0xCC", TOKEN / 40n));
    expect(s.open.get(1n)!.best).to.deep.include({ provider: "0xbb", total: 20n * TOKEN });
  });

  it("with a value at risk, a cheaper bid of a provider that fails often is not the best", () => {
    const s = new MarketState(["0xaa"], 0);
    s.apply(posted(2n, { valueAtRisk: 100n * TOKEN }));
    s.apply(bid(2n, "0xBB", TOKEN / 50n, { failureBps: 2_000n })); // 20 + 100 x 20% = 40 tokens
    s.apply(bid(2n, "0xCC", TOKEN / 40n, { failureBps: 100n })); // 25 + 100 x 1% = 26 tokens
    expect(s.open.get(2n)!.best).to.deep.include({ provider: "0xcc", score: 26n * TOKEN });
    // An equal score later does not displace the earlier bid.
    s.apply(bid(2n, "0xDD", TOKEN / 40n, { failureBps: 100n }));
    expect(s.open.get(2n)!.best!.provider).to.equal("0xcc");
    // Our own bid, beaten by the rule though cheaper, is counted as beaten once the window closes.
    s.apply(bid(2n, "0xAA", TOKEN / 50n, { failureBps: 2_000n }));
    s.offers.set(1n, { id: 1n, provider: "0xaa", pricePerMFuelWei: 0n, feeWei: 0n, maxFuel: 0n, memoryMiB: 0, concurrentJobs: 1, latencyClass: 0, expiresAt: 0 });
    expect(s.load(1n, 999)).to.equal(1);
    expect(s.load(1n, 1_000)).to.equal(0);
  });
});
