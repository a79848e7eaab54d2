import { expect } from "chai";
import { beats, expectedCost, failureBps, failureBpsWei } from "../../services/matchmaker/award-rule.js";
import { expectedCost as expectedCostWei, valueAtRiskBps } from "../../contracts/client/amounts.js";

describe("matchmaker award rule (DeploymentAuction, ProviderRegistry)", () => {
  const TOKEN = 10n ** 18n;
  const prior = { priorValue: 100, priorFailureBps: 1_000 };
  const priorWei = { priorValue: 100n * TOKEN, priorFailureBps: 1_000n };

  it("computes failureBps with the contract's integer arithmetic, in its order", () => {
    // (failed * 10000 + prior * bps) / (completed + failed + prior)
    expect(failureBpsWei(0n, 0n, priorWei)).to.equal(1_000n); // a newcomer gets the prior rate
    expect(failureBpsWei(900n * TOKEN, 0n, priorWei)).to.equal(100n); // 10 tokens of prior failure in 1000
    expect(failureBpsWei(0n, 100n * TOKEN, priorWei)).to.equal(5_500n); // (100 + 10) / 200
    // Truncation: 1 wei of failure over 3 wei of record with no prior.
    expect(failureBpsWei(2n, 1n, { priorValue: 0n, priorFailureBps: 0n })).to.equal(3_333n);
    expect(failureBpsWei(0n, 0n, { priorValue: 0n, priorFailureBps: 700n })).to.equal(700n);
  });

  it("gives the same basis points over token floats as over wei", () => {
    const cases: [number, number][] = [[0, 0], [900, 0], [0, 100], [1234.5, 56.25], [3, 1]];
    for (const [c, f] of cases) {
      const wei = failureBpsWei(BigInt(Math.round(c * 1e6)) * 10n ** 12n, BigInt(Math.round(f * 1e6)) * 10n ** 12n, priorWei);
      expect(failureBps({ completedValue: c, failedValue: f }, prior), `${c}/${f}`).to.equal(Number(wei));
    }
  });

  it("ranks by total plus the value at risk times the failure rate, then by the earlier bid", () => {
    // A cheap provider that fails a fifth of its value against a dearer one that never failed.
    const flaky = failureBps({ completedValue: 800, failedValue: 200 }, prior);
    const steady = failureBps({ completedValue: 1_000, failedValue: 0 }, prior);
    const atRisk = 50;
    const cheap = { score: expectedCost(10, atRisk, flaky), seq: 1 };
    const dear = { score: expectedCost(12, atRisk, steady), seq: 2 };
    expect(beats(dear, cheap)).to.equal(true);
    // With nothing at risk the rule is the lowest total.
    expect(beats({ score: expectedCost(10, 0, flaky), seq: 1 }, { score: expectedCost(12, 0, steady), seq: 2 })).to.equal(true);
    // Equal scores: the earlier bid wins.
    expect(beats({ score: 5, seq: 1 }, { score: 5, seq: 2 })).to.equal(true);
    expect(beats({ score: 5, seq: 2 }, { score: 5, seq: 1 })).to.equal(false);
    // In wei the value at risk is escrow x bps of it (rounded to the nearest): 50 of a 100 escrow.
    const risk = valueAtRiskBps(50n * TOKEN, 100n * TOKEN);
    expect(risk).to.equal(5_000n);
    expect(expectedCostWei(10n * TOKEN, 100n * TOKEN, risk, 1_000n)).to.equal(15n * TOKEN);
  });
});
