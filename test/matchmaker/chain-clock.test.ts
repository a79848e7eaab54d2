import { expect } from "chai";
import { ChainClock } from "../../services/matchmaker/chain-clock.js";
import { expectNear } from "./near.js";

describe("ChainClock: the chain's time between blocks", () => {
  it("knows nothing before a block is seen", () => {
    expect(Number.isNaN(new ChainClock().now(1_000_000))).to.equal(true);
  });

  it("a block seconds old does not hold the clock back: the freshest block's gap counts", () => {
    const clock = new ChainClock();
    // A block mined at 100.2 s (stamped 100), read at once; then, the chain idle, the same block read 1.8 s later.
    clock.observe(100, 100_250);
    clock.observe(100, 102_050);
    // At 102.5 s the chain's time is about 102.4, not the 100 of its latest block plus nothing.
    expectNear(clock.now(102_500), 102.25, 1e-9);
  });

  it("follows a chain ahead of this machine (time travelled forward) at once", () => {
    const clock = new ChainClock();
    clock.observe(100, 100_000);
    clock.observe(5_000, 101_000);
    expect(clock.now(102_000)).to.equal(5_001);
  });

  it("believes a clock set back (a snapshot reverted) once the reads it keeps all show it", () => {
    const clock = new ChainClock(3);
    clock.observe(5_000, 100_000);
    for (let i = 1; i <= 2; i++) clock.observe(200 + i, 100_000 + i * 1000);
    expect(clock.now(103_000)).to.equal(5_003);
    clock.observe(203, 103_000);
    expect(clock.now(104_000)).to.equal(204);
  });
});
