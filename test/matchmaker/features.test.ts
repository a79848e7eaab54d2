import { expect } from "chai";
import { expectNear } from "./near.js";
import {
  FEATURE_COUNT,
  FEATURE_NAMES,
  decodeRuntime,
  encodeRuntime,
  featureMatrix,
  features,
  observedFuelPerSec,
} from "../../services/matchmaker/features.js";
import { NO_HISTORY } from "../../services/matchmaker/types.js";
import { offer, request, stats } from "./fixtures.js";

const at = (x: Float64Array, name: (typeof FEATURE_NAMES)[number]) => x[FEATURE_NAMES.indexOf(name)]!;

describe("matchmaker features", () => {
  const c = { request: request(), offer: offer(), stats: stats(), load: 1 };

  it("builds one normalised value per named feature", () => {
    const x = features(c);
    expect(x.length).to.equal(FEATURE_COUNT);
    for (const v of x) expect(v).to.be.within(0, 1);
  });

  it("reads the request, the offer, the load and the history", () => {
    const x = features(c);
    expectNear(at(x, "fuel cap"), (9 - 5) / 6, 1e-12);
    expectNear(at(x, "deadline slack"), Math.log10(600) / 4, 1e-12);
    expectNear(at(x, "price vs ceiling"), 0.2, 1e-12);
    expect([at(x, "tier cloud"), at(x, "tier edge"), at(x, "tier iot")]).to.deep.equal([0, 1, 0]);
    expect(at(x, "current load")).to.equal(0.5);
    expectNear(at(x, "breach rate"), 1.5 / 42, 1e-12);
    expect(at(x, "speed known")).to.equal(1);
    expectNear(at(x, "distance"), 2 / 250, 1e-12); // same region: 2 ms
  });

  it("computes observed fuel per second from usage reports", () => {
    expect(observedFuelPerSec(stats())).to.equal(1e8);
    expect(observedFuelPerSec(NO_HISTORY)).to.equal(0);
  });

  it("marks a newcomer and a provider that is too slow for the deadline", () => {
    const newcomer = features({ ...c, stats: NO_HISTORY });
    expect(at(newcomer, "newcomer")).to.equal(1);
    expect(at(newcomer, "speed known")).to.equal(0);
    expect(at(newcomer, "speed headroom")).to.equal(0.5);
    const fast = features(c);
    const slow = features({ ...c, stats: stats({ fuelReported: 4e8 }) });
    expect(at(slow, "speed headroom")).to.be.lessThan(at(fast, "speed headroom"));
    const far = features({ ...c, request: request({ region: 3 }) });
    expect(at(far, "distance")).to.be.greaterThan(at(fast, "distance"));
  });

  it("weighs the time the deadline leaves against the round trips and the observed speed", () => {
    // 20 s of slack, 20 round trips of 2 ms: 19.96 s to run; 1e9 fuel at 1e8 fuel/s slowed by
    // half the slots busy takes 13 s, so the headroom is log10(19.96 / 13) on a 0.5 scale.
    const x = features({ ...c, request: request({ deadline: 1_020 }) });
    expectNear(at(x, "time headroom"), 0.5 + 0.5 * Math.log10(((20 - 0.04) * 1e8) / 1.3 / 1e9), 1e-12);
    expectNear(at(x, "network share of slack"), 0.04 / 20, 1e-12);
    expect(at(features(c), "time headroom")).to.equal(1); // 600 s: far more than enough
    // Far away with a tight deadline: the round trips eat the slack and leave no time to run.
    const tight = features({ ...c, request: request({ region: 3, deadline: 1_002 }) });
    expect(at(tight, "time headroom")).to.equal(0);
    expect(at(tight, "network share of slack")).to.equal(1);
    expect(at(features({ ...c, stats: NO_HISTORY }), "time headroom")).to.equal(0.5);
  });

  it("fills a row-major matrix identical to the single vectors", () => {
    const other = { ...c, load: 0, offer: offer({ tier: 2 }) };
    const m = featureMatrix([c, other]);
    expect(Array.from(m.subarray(0, FEATURE_COUNT))).to.deep.equal(Array.from(features(c)));
    expect(Array.from(m.subarray(FEATURE_COUNT))).to.deep.equal(Array.from(features(other)));
  });

  it("encodes run time on a log scale and back", () => {
    for (const sec of [0.05, 1, 30, 5000]) expectNear(decodeRuntime(encodeRuntime(sec)), sec, sec * 1e-9);
    expect(encodeRuntime(1e9)).to.equal(1);
  });
});
