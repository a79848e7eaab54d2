import { expect } from "chai";
import { Rng, hashUniform } from "../../services/matchmaker/prng.js";
import { expectedTruthOf, feasible, simulateMarket, trainingPairs, truthOf } from "../../services/matchmaker/simulator.js";
import { rttMs, TIERS } from "../../services/matchmaker/continuum.js";

describe("matchmaker continuum simulator", () => {
  const small = { providers: 12, rounds: 3, requestsPerRound: 30 };

  it("is deterministic: the same seed gives the same market, another seed another", () => {
    const a = JSON.stringify(simulateMarket(5, small), (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v));
    const b = JSON.stringify(simulateMarket(5, small), (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v));
    const c = JSON.stringify(simulateMarket(6, small), (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v));
    expect(a).to.equal(b);
    expect(a).to.not.equal(c);
    expect(new Rng(1).next()).to.equal(new Rng(1).next());
    expect(hashUniform(1, 2, 3)).to.equal(hashUniform(1, 2, 3)).and.not.equal(hashUniform(1, 2, 4));
  });

  it("draws the three tiers with their published character", () => {
    const m = simulateMarket(7, { providers: 60 });
    const byTier = (t: number) => m.providers.filter((p) => p.offer.tier === t);
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const [cloud, edge, iot] = [0, 1, 2].map(byTier) as [typeof m.providers, typeof m.providers, typeof m.providers];
    expect(mean(cloud.map((p) => p.hidden.speed))).to.be.greaterThan(mean(edge.map((p) => p.hidden.speed)));
    expect(mean(edge.map((p) => p.hidden.speed))).to.be.greaterThan(mean(iot.map((p) => p.hidden.speed)));
    expect(mean(cloud.map((p) => p.hidden.reliability))).to.be.greaterThan(mean(iot.map((p) => p.hidden.reliability)));
    for (const p of cloud) expect(TIERS[0]!.regions).to.include(p.offer.region);
    expect(TIERS[2]!.energyPerMFuel).to.be.lessThan(TIERS[0]!.energyPerMFuel);
    expect(rttMs(0, 0)).to.be.lessThan(rttMs(0, 4));
  });

  it("lets provider history evolve from round to round", () => {
    const m = simulateMarket(8, small);
    const jobs = (r: number) => m.rounds[r]!.stats.reduce((s, x) => s + x.completed + x.breached + x.disputesLost, 0);
    expect(jobs(1)).to.be.greaterThan(jobs(0));
    expect(jobs(2)).to.be.greaterThan(jobs(1));
  });

  it("labels only feasible placements, with a truth consistent with the deadline and the expectation", () => {
    const m = simulateMarket(9, small);
    const pairs = trainingPairs(m);
    expect(pairs.length).to.be.greaterThan(50);
    for (const { candidate, truth } of pairs) {
      expect(feasible(candidate.request, candidate.offer)).to.equal(true);
      if (truth.met) expect(truth.runtimeSec).to.be.at.most(candidate.request.deadline - candidate.request.bidWindowEnd);
    }
    // Over many placements the realised rate matches the expected probability.
    let expected = 0;
    let met = 0;
    for (const round of m.rounds)
      for (const req of round.requests)
        for (const p of m.providers) {
          if (!feasible(req.view, p.offer)) continue;
          expected += expectedTruthOf(req, p, round.loads[p.index]!).pMet;
          if (truthOf(req, p, round.loads[p.index]!, Number(req.view.id)).met) met++;
        }
    expect(Math.abs(met - expected) / pairs.length).to.be.lessThan(0.05);
  });
});

describe("the continuum: tiers matter", () => {
  const m = simulateMarket(31, { providers: 30, rounds: 4, requestsPerRound: 60 });
  const requests = m.rounds.flatMap((r) => r.requests);
  const ofClass = (c: string) => requests.filter((r) => r.jobClass === c);
  const tierOf = (i: number) => m.providers[i]!.offer.tier;

  it("draws every job class, each a fair share", () => {
    for (const c of ["batch", "latency", "data-local", "heavy"]) expect(ofClass(c).length, c).to.be.greaterThan(requests.length / 20);
  });

  it("heavy jobs: only the cloud can carry them", () => {
    for (const req of ofClass("heavy")) {
      for (const p of m.providers) if (feasible(req.view, p.offer)) expect(tierOf(p.index), `request ${req.view.id}`).to.equal(0);
    }
  });

  it("latency-bound jobs: never the cloud, and only a provider near the consumer meets them", () => {
    const near = [0, 0];
    const far = [0, 0];
    for (const req of ofClass("latency")) {
      for (const p of m.providers) {
        if (!feasible(req.view, p.offer)) continue;
        expect(tierOf(p.index)).to.not.equal(0);
        const at = rttMs(req.view.region, p.offer.region) < 20 ? near : far;
        at[0]! += expectedTruthOf(req, p, 0).pMet;
        at[1]!++;
      }
    }
    // Mean P(SLA met) of the providers in the consumer's region against those elsewhere.
    expect(near[0]! / near[1]!).to.be.greaterThan(0.5);
    expect(far[0]! / far[1]! / (near[0]! / near[1]!)).to.be.lessThan(0.5);
  });

  it("data-local jobs: moving the input from afar misses the deadline a provider in the region meets", () => {
    let local = 0;
    let localN = 0;
    let remote = 0;
    let remoteN = 0;
    for (const req of ofClass("data-local")) {
      for (const p of m.providers) {
        if (!feasible(req.view, p.offer)) continue;
        const pMet = expectedTruthOf(req, p, 0).pMet;
        if (p.offer.region === req.view.region) {
          local += pMet;
          localN++;
        } else if (rttMs(req.view.region, p.offer.region) > 60) {
          remote += pMet;
          remoteN++;
        }
      }
    }
    expect(localN).to.be.greaterThan(0);
    expect(local / localN).to.be.greaterThan(0.5);
    expect(remote / remoteN).to.be.lessThan(0.1);
  });

  it("the consumer states the job's value as its value at risk, and the record is value-weighted", () => {
    for (const req of requests) expect(req.view.valueAtRisk).to.equal(req.value);
    const last = m.rounds[m.rounds.length - 1]!.stats;
    expect(last.some((s) => s.completedValue > 0 && s.failedValue > 0)).to.equal(true);
  });
});
