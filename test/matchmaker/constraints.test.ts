import { expect } from "chai";
import { checkConstraints } from "../../services/matchmaker/constraints.js";
import { offer, request } from "./fixtures.js";

describe("matchmaker constraints", () => {
  const now = 900;

  it("accepts an offer that meets every requirement", () => {
    expect(checkConstraints(request(), offer(), 0, now)).to.deep.equal({ ok: true });
  });

  const cases: [string, Parameters<typeof checkConstraints>, string, RegExp][] = [
    ["a closed window", [request(), offer(), 0, 1_000], "window-closed", /closes at 1000/],
    ["the safety margin", [request(), offer(), 0, 995, 5], "window-closed", /margin 5s/],
    ["an offer expiring before the window ends", [request(), offer({ expiresAt: 999 }), 0, now], "offer-expired", /expires at 999/],
    ["an unbonded provider", [request(), offer({ bonded: false }), 0, now], "not-bonded", /not bonded/],
    ["a tier outside the bitmask", [request({ allowedTiers: 0b101 }), offer({ tier: 1 }), 0, now], "tier", /edge is not in the allowed tiers 0b101/],
    ["too little memory", [request({ minMemoryMiB: 512 }), offer({ memoryMiB: 256 }), 0, now], "memory", /256 MiB, the job needs 512/],
    ["a fuel cap above the offer's", [request({ maxFuel: 2e10 }), offer({ maxFuel: 1e10 }), 0, now], "fuel-cap", /at most 10000000000 fuel/],
    ["a slower latency class", [request({ maxLatencyClass: 0 }), offer({ latencyClass: 1 }), 0, now], "latency", /class 1 is slower than the 0/],
    ["a floor price above the ceiling", [request({ maxPricePerMFuel: 0.005 }), offer(), 0, now], "price-ceiling", /above the ceiling/],
    ["a floor fee above the ceiling", [request({ maxFee: 0.0001 }), offer(), 0, now], "price-ceiling", /above the ceiling/],
    ["a full offer", [request(), offer({ concurrentJobs: 2 }), 2, now], "capacity", /committed to 2 of its 2/],
  ];
  for (const [what, args, code, reason] of cases) {
    it(`rejects ${what} (${code})`, () => {
      const result = checkConstraints(...args);
      expect(result.ok).to.equal(false);
      if (result.ok) return;
      expect(result.code).to.equal(code);
      expect(result.reason).to.match(reason);
    });
  }

  it("accepts exact boundaries: same memory, same fuel, same class, floor equal to the ceiling, one slot left", () => {
    const r = request({ minMemoryMiB: 256, maxFuel: 1e10, maxLatencyClass: 1, maxPricePerMFuel: 0.01, maxFee: 0.001 });
    expect(checkConstraints(r, offer(), 1, now).ok).to.equal(true);
  });
});
