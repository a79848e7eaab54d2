import { expect } from "chai";
import { expectNear } from "./near.js";
import { evaluateRequest, type AgentOffer } from "../../services/matchmaker/evaluate.js";
import { MatchModel } from "../../services/matchmaker/model.js";
import { FEATURE_COUNT } from "../../services/matchmaker/features.js";
import { formatWhyNoBid } from "../../services/matchmaker/why-no-bid.js";
import { offer, request, stats } from "./fixtures.js";
import type { INeuralNetworkJSON } from "brain.js";

/** A network that ignores its input and predicts P(met) = pMet: the pricing logic in isolation. */
function constantModel(pMet: number): MatchModel {
  const zeros = Object.fromEntries(Array.from({ length: FEATURE_COUNT }, (_, k) => [String(k), 0]));
  const net = {
    sizes: [FEATURE_COUNT, 1, 2],
    layers: [{}, { 0: { bias: 0, weights: zeros } }, { 0: { bias: Math.log(pMet / (1 - pMet)), weights: { 0: 0 } }, 1: { bias: 0, weights: { 0: 0 } } }],
    activation: "sigmoid",
    outputLookup: false,
    inputLookup: false,
    trainOpts: {},
  } as unknown as INeuralNetworkJSON;
  return MatchModel.fromBrain(net, new Array<number>(FEATURE_COUNT).fill(0), 0);
}

const cost = { operatingShare: 0.6, energyPerMFuel: 0.03, energyPrice: 0.02 };
const agentOffer = (o: Parameters<typeof offer>[0], load = 0): AgentOffer => ({ offer: offer(o), stats: stats(), load, cost });

describe("matchmaker request evaluation and why-no-bid", () => {
  const now = 900;

  it("keeps each offer out by its first failing constraint and bids from the one that passes", () => {
    const offers = [
      agentOffer({ id: 1n, tier: 0 }),
      agentOffer({ id: 2n, memoryMiB: 32 }),
      agentOffer({ id: 3n, concurrentJobs: 1 }, 1),
      agentOffer({ id: 4n }),
    ];
    const e = evaluateRequest(request({ allowedTiers: 0b110 }), offers, constantModel(0.99), { now });
    const byId = new Map(e.decisions.map((d) => [d.offerId, d]));
    expect(byId.get(1n)).to.include({ kind: "constraint", code: "tier" });
    expect(byId.get(2n)).to.include({ kind: "constraint", code: "memory" });
    expect(byId.get(3n)).to.include({ kind: "constraint", code: "capacity" });
    expect(byId.get(4n)!.kind).to.equal("bid");
    expect(e.chosen!.offerId).to.equal(4n);
    expectNear(e.chosen!.prediction.pMet, 0.99, 1e-9);
    expect(e.factors).to.have.length(4);
  });

  it("does not bid when the predicted breach risk makes every price a loss, and says by how much", () => {
    const e = evaluateRequest(request(), [agentOffer({ id: 5n })], constantModel(0.5), { now });
    expect(e.chosen).to.equal(undefined);
    const d = e.decisions[0]!;
    expect(d.kind).to.equal("expected-loss");
    expect(d.reason).to.match(/^expected loss: P\(SLA met\) 0\.500, best markup .* gives -\d/);
  });

  it("bids from the most profitable offer and marks the others outranked", () => {
    const cheap = agentOffer({ id: 6n, pricePerMFuel: 0.01 });
    const dear = agentOffer({ id: 7n, pricePerMFuel: 0.02 });
    const e = evaluateRequest(request(), [cheap, dear], constantModel(0.99), { now });
    expect(e.chosen!.offerId).to.equal(7n); // same risk, more margin at the same cost share
    const other = e.decisions.find((d) => d.offerId === 6n)!;
    expect(other.kind).to.equal("outranked");
    expect(other.reason).to.match(/^outranked by offer 7/);
  });

  it("formats a why-no-bid answer one line per offer", () => {
    const e = evaluateRequest(request({ allowedTiers: 0b110 }), [agentOffer({ id: 1n, tier: 0 }), agentOffer({ id: 2n })], constantModel(0.5), { now });
    const text = formatWhyNoBid({
      requestId: 7n, status: "Open", now, bidWindowEnd: 1000, decisions: e.decisions, summary: "no offer qualifies or pays",
    });
    expect(text.split("\n")).to.have.length(4);
    expect(text).to.match(/offer 1 \(provider 0xprovider\): constraint tier: /);
    expect(text).to.match(/offer 2 \(provider 0xprovider\): expected-loss: expected loss/);
  });
});
