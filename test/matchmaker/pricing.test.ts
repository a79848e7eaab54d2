import { expect } from "chai";
import { expectNear } from "./near.js";
import { bestQuote, expectedCost, maxMarkup, quote, DEFAULT_PRICING } from "../../services/matchmaker/pricing.js";
import { offer, request } from "./fixtures.js";

describe("matchmaker bid pricing", () => {
  const cost = { operatingShare: 0.6, energyPerMFuel: 0.03, energyPrice: 0.02 };
  const r = request();
  const o = offer();

  it("bounds the markup by the request's ceilings", () => {
    expect(maxMarkup(r, o)).to.equal(5); // 0.05 / 0.01 on price, 0.01 / 0.001 on fee
    expect(maxMarkup(request({ maxFee: 0.002 }), o)).to.equal(2);
  });

  it("prices a markup: total, payment, cost and penalty", () => {
    const q = quote(r, o, 1, 2, cost, DEFAULT_PRICING);
    expectNear(q.pricePerMFuel, 0.02, 1e-12);
    expectNear(q.fee, 0.002, 1e-12);
    expectNear(q.total, 20.002, 1e-9); // 1000 Mfuel at 0.02, plus the fee
    expectNear(q.penalty, 20.002, 1e-9); // 10000 bps of the total
    const pay = 1e9 * 0.85 * 0.02 / 1e6 + 0.002;
    expectNear(q.profitIfWon, pay - expectedCost(r, o, cost, 0.85), 1e-9);
    expectNear(q.winProbability, Math.exp(-10), 1e-12);
  });

  it("bids a reliable placement within [floor, ceiling] at a positive expected profit", () => {
    const { ok, quote: q } = bestQuote(r, o, 0.99, cost);
    expect(ok).to.equal(true);
    expect(q.expectedProfit).to.be.greaterThan(0);
    expect(q.pricePerMFuel).to.be.within(o.pricePerMFuel, r.maxPricePerMFuel);
    expect(q.fee).to.be.within(o.fee, r.maxFee);
  });

  it("refuses a risky placement: the breach penalty outweighs the margin", () => {
    const { ok, quote: q } = bestQuote(r, o, 0.5, cost);
    expect(ok).to.equal(false);
    expect(q.profitIfWon).to.be.lessThan(0);
  });

  it("asks a higher markup as the risk grows, and bids closer to the floor as competition grows", () => {
    const safe = bestQuote(r, o, 0.99, cost).quote;
    const risky = bestQuote(r, o, 0.85, cost).quote;
    expect(risky.markup).to.be.greaterThan(safe.markup);
    const tight = bestQuote(r, o, 0.85, cost, { competition: 100 }).quote;
    expect(tight.markup).to.be.lessThan(risky.markup);
  });

  it("never asks a markup the market would almost surely reject", () => {
    const q = bestQuote(r, o, 0.85, cost, { competition: 30 }).quote;
    expect(q.winProbability).to.be.at.least(0.05);
  });

  it("a smaller penalty lets the same risk bid", () => {
    expect(bestQuote(r, o, 0.7, cost).ok).to.equal(false);
    expect(bestQuote(r, o, 0.7, cost, { penaltyBps: 1_000 }).ok).to.equal(true);
  });
});
