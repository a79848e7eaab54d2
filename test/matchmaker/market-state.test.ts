import { expect } from "chai";
import { MarketState, ruleScore } from "../../services/matchmaker/market-state.js";
import type { ChainEvent } from "../../services/matchmaker/chain.js";
import { expectedCost, totalFor, valueAtRiskBps } from "../../contracts/client/amounts.js";

const TOKEN = 10n ** 18n;
let log = 0;
const event = (name: string, args: Record<string, unknown>): ChainEvent => ({ name, args, blockNumber: 1, logIndex: log++ });
// maxFuel 1e9 at 0.1 per Mfuel plus a fee of 0.01: an escrow of 100.01 tokens.
const ESCROW = totalFor(1_000_000_000n, TOKEN / 10n, TOKEN / 100n);

function posted(id: bigint, extra: Record<string, unknown> = {}): ChainEvent {
  return event("RequestPosted", {
    requestId: id, consumer: "0xc0", workloadHash: "0x" + "11".repeat(32), workloadURI: "file:///w", inputHash: "0x" + "22".repeat(32), inputURI: "",
    maxFuel: 1_000_000_000n, maxPricePerMFuel: TOKEN / 10n, maxFee: TOKEN / 100n, minMemoryMiB: 64n,
    allowedTiers: 7n, region: 1n, maxLatencyClass: 3n, bidWindowEnd: 1_000n, execTime: 600n, deadline: 2_000n, meteringVersion: 1n,
    valueAtRisk: 0n, escrow: ESCROW, ...extra,
  });
}
const bid = (id: bigint, provider: string, price: bigint, failureBps: bigint, extra: Record<string, unknown> = {}) =>
  event("BidPlaced", { requestId: id, provider, offerId: 1n, agent: provider, pricePerMFuel: price, fee: 0n, failureBps, expectedCost: 0n, explanationHash: "0x", ...extra });

describe("matchmaker market state: the best bid by the award rule", () => {
  it("with no value at risk the lowest total is the best, whatever the failure rates", () => {
    const s = new MarketState(["0xaa"], 0);
    s.apply(posted(1n));
    s.apply(bid(1n, "0xBB", TOKEN / 50n, 9_000n));
    s.apply(bid(1n, "0xCC", TOKEN / 40n, 0n));
    expect(s.open.get(1n)!.best).to.deep.include({ provider: "0xbb", total: 20n * TOKEN, score: 20n * TOKEN });
    expect(s.open.get(1n)!.view).to.include({ region: 1, meteringVersion: 1, execTime: 600, valueAtRisk: 0 });
  });

  it("with a value at risk, a cheaper bid of a provider that fails often is not the best (escrow x riskBps x failureBps / 1e8)", () => {
    const s = new MarketState(["0xaa"], 0);
    s.apply(posted(2n, { valueAtRisk: 100n * TOKEN }));
    const r = s.open.get(2n)!;
    // 100 tokens of a 100.01-token escrow: 9999 bps, as the contract rounds it.
    expect(r.valueAtRiskBps).to.equal(valueAtRiskBps(100n * TOKEN, ESCROW)).and.equal(9_999n);
    s.apply(bid(2n, "0xBB", TOKEN / 50n, 2_000n)); // 20 + ~100 x 20% = ~40 tokens
    s.apply(bid(2n, "0xCC", TOKEN / 40n, 100n)); // 25 + ~100 x 1% = ~26 tokens
    const expected = expectedCost(25n * TOKEN, ESCROW, 9_999n, 100n);
    expect(r.best).to.deep.include({ provider: "0xcc", score: expected });
    expect(ruleScore(r, 25n * TOKEN, 100n)).to.equal(expected);
    // Not the plain value at risk x rate: the contract weighs escrow x bps (rounded), so do we.
    expect(expected).to.not.equal(25n * TOKEN + (100n * TOKEN * 100n) / 10_000n);
    // An equal score later does not displace the earlier bid.
    s.apply(bid(2n, "0xDD", TOKEN / 40n, 100n));
    expect(r.best!.provider).to.equal("0xcc");
    // Our own bid, beaten by the rule though cheaper, is counted as beaten once the window closes.
    s.apply(bid(2n, "0xAA", TOKEN / 50n, 2_000n));
    s.offers.set(1n, { id: 1n, provider: "0xaa", pricePerMFuelWei: 0n, feeWei: 0n, maxFuel: 0n, memoryMiB: 0, concurrentJobs: 1, latencyClass: 0, expiresAt: 0, meteringVersion: 1 });
    expect(s.load(1n, 999)).to.equal(1);
    expect(s.load(1n, 1_000)).to.equal(0);
  });

  it("the best bidder's replacement lowers its own score; a rival takes over only strictly below it", () => {
    const s = new MarketState(["0xaa"], 0);
    s.apply(posted(3n, { valueAtRisk: 50n * TOKEN }));
    s.apply(bid(3n, "0xBB", TOKEN / 40n, 1_000n));
    s.apply(bid(3n, "0xBB", TOKEN / 50n, 1_000n));
    const r = s.open.get(3n)!;
    expect(r.best).to.deep.include({ provider: "0xbb", total: 20n * TOKEN });
    s.apply(bid(3n, "0xCC", TOKEN / 50n, 1_000n)); // the same score: the earlier keeps it
    expect(r.best!.provider).to.equal("0xbb");
    s.apply(bid(3n, "0xCC", TOKEN / 60n, 1_000n));
    expect(r.best!.provider).to.equal("0xcc");
  });
});
