import { expect } from "chai";
import { chooseBid, type BidOption } from "../../services/matchmaker/consumer-choice.js";
import type { Predictor } from "../../services/matchmaker/evaluate.js";
import { offer, request, stats } from "./fixtures.js";

/** A predictor that knows each provider's P(SLA met) by name. */
function byProvider(p: Record<string, number>): Predictor {
  return {
    predictBatch: (cs) => Float64Array.from(cs.flatMap((c) => [p[c.offer.provider]!, 0.5])),
    explain: () => [],
  };
}

const bid = (provider: string, pricePerMFuel: number, seq: number): BidOption => ({
  provider, offer: offer({ provider }), stats: stats(), load: 0, pricePerMFuel, fee: 0.001, seq,
});

describe("the consumer's choice among live bids", () => {
  const r = request(); // 1e9 fuel cap
  const model = byProvider({ cheap: 0.7, steady: 0.99 });
  const bids = [bid("cheap", 0.01, 1), bid("steady", 0.012, 2)];

  it("takes the reliable bid when much is at risk, the cheaper one when little is", () => {
    const high = chooseBid(r, bids, { valueAtRisk: 100, expectedFuel: 9e8, penaltyBps: 10_000 }, model);
    expect(high.chosen!.bid.provider).to.equal("steady");
    expect(high.ranked.map((s) => s.bid.provider)).to.deep.equal(["steady", "cheap"]);
    const low = chooseBid(r, bids, { valueAtRisk: 0, expectedFuel: 9e8, penaltyBps: 10_000 }, model);
    expect(low.chosen!.bid.provider).to.equal("cheap");
  });

  it("prices a bid as P(met) x payment + P(fail) x (value at risk - penalty) and says why", () => {
    const c = chooseBid(r, bids, { valueAtRisk: 100, expectedFuel: 9e8, penaltyBps: 10_000 }, model);
    const steady = c.ranked[0]!;
    const payment = 900 * 0.012 + 0.001;
    const total = 1_000 * 0.012 + 0.001;
    expect(Math.abs(steady.payment - payment)).to.be.lessThan(1e-9);
    expect(Math.abs(steady.expectedCost - (0.99 * payment + 0.01 * (100 - total)))).to.be.lessThan(1e-9);
    expect(Math.abs(steady.expectedWelfare - (100 - steady.expectedCost))).to.be.lessThan(1e-9);
    expect(c.reason).to.match(/^bid 2 of steady: P\(SLA met\) 0\.990.*next best: bid 1 of cheap/);
  });

  it("breaks a tie by the earlier bid, and names no bid when there is none", () => {
    const same = byProvider({ a: 0.9, b: 0.9 });
    const c = chooseBid(r, [bid("b", 0.01, 2), bid("a", 0.01, 1)], { valueAtRisk: 10, expectedFuel: 1e9, penaltyBps: 0 }, same);
    expect(c.chosen!.bid.provider).to.equal("a");
    expect(chooseBid(r, [], { valueAtRisk: 10, expectedFuel: 1e9, penaltyBps: 0 }, same)).to.deep.include({ reason: "no bids to choose from" });
  });

  it("refuses terms that make no sense, naming them", () => {
    expect(() => chooseBid(r, bids, { valueAtRisk: -1, expectedFuel: 1e9, penaltyBps: 0 }, model)).to.throw(/value at risk must be a non-negative number, not -1/);
    expect(() => chooseBid(r, bids, { valueAtRisk: 1, expectedFuel: 0, penaltyBps: 0 }, model)).to.throw(/expected fuel must be positive, not 0/);
  });
});
