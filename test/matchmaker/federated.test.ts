import { expect } from "chai";
import { aggregate, weightsOf, withWeights, type WeightUpdate } from "../../services/matchmaker/federated.js";
import { garbageUpdate, trainAlone, trainFederated } from "../../services/matchmaker/federated-training.js";
import { MatchModel, type Sample } from "../../services/matchmaker/model.js";
import { simulatedSamples } from "../../services/matchmaker/bootstrap.js";
import { Rng } from "../../services/matchmaker/prng.js";
import { FEATURE_NAMES } from "../../services/matchmaker/features.js";
import { expectNear } from "./near.js";

const shift = (m: MatchModel, by: (i: number) => number) => MatchModel.fromFile(withWeights(m.file, weightsOf(m.file).map((w, i) => w + by(i))));

describe("matchmaker federated averaging", function () {
  this.timeout(120_000);
  const base = MatchModel.initial(3, [6]);
  const w0 = weightsOf(base.file);

  it("reads and writes a network's weights in one fixed order", () => {
    const again = withWeights(base.file, w0);
    expect(JSON.stringify(again.net)).to.equal(JSON.stringify(base.file.net));
    expect(w0.length).to.equal(6 * (FEATURE_NAMES.length + 1) + 2 * 7);
    expect(() => withWeights(base.file, w0.subarray(1))).to.throw(/weights for a network of/);
  });

  it("starts every agent from the same seeded weights", () => {
    expect(Array.from(weightsOf(MatchModel.initial(3, [6]).file))).to.deep.equal(Array.from(w0));
    expect(Array.from(weightsOf(MatchModel.initial(4, [6]).file))).to.not.deep.equal(Array.from(w0));
  });

  it("averages honest updates weighted by their samples", () => {
    const a: WeightUpdate = { from: "a", samples: 300, file: shift(base, () => 0.3).file };
    const b: WeightUpdate = { from: "b", samples: 100, file: shift(base, () => -0.1).file };
    const merged = weightsOf(aggregate(base.file, [a, b]).file);
    // (300 * 0.3 + 100 * -0.1) / 400 = 0.2
    merged.forEach((w, i) => expect(Math.abs(w - (w0[i]! + 0.2))).to.be.lessThan(1e-12));
  });

  it("rejects a garbage update, and one of another shape or with a non-finite weight, naming why", () => {
    const honest = [0.1, 0.12, 0.09, 0.11, 0.1].map((d, k): WeightUpdate => ({ from: `h${k}`, samples: 100, file: shift(base, (i) => d * Math.sin(i + k)).file }));
    const garbage: WeightUpdate = { from: "bad", samples: 1e9, file: garbageUpdate(base, new Rng(9)).file };
    const nan: WeightUpdate = { from: "nan", samples: 10, file: withWeights(base.file, w0.map((w, i) => (i === 3 ? NaN : w))) };
    const other: WeightUpdate = { from: "other", samples: 10, file: MatchModel.initial(3, [5]).file };
    const r = aggregate(base.file, [...honest, garbage, nan, other]);
    expect(r.accepted).to.deep.equal(["h0", "h1", "h2", "h3", "h4"]);
    const why = Object.fromEntries(r.rejected.map((x) => [x.from, x.reason]));
    expect(why.bad).to.match(/lies \d+\.\dx as far from the others as the median update/);
    expect(why.nan).to.match(/not a finite number/);
    expect(why.other).to.match(/shape/);
    // The result stays within the honest updates' range, weight by weight.
    const merged = weightsOf(r.file);
    const honestW = honest.map((u) => weightsOf(u.file));
    merged.forEach((w, i) => {
      const vals = honestW.map((h) => h[i]!);
      expect(w).to.be.within(Math.min(...vals) - 1e-12, Math.max(...vals) + 1e-12);
    });
  });

  it("a rejected update is exactly an absent one: it moves neither the centre, the scale nor the merge", () => {
    const rng = new Rng(11);
    // One honest update lies twice as far out as the others: it is clipped, against the centre and scale of the kept set.
    const spread = [0.1, 0.1, 0.1, 0.1, 0.25];
    const honest = spread.map((r, k): WeightUpdate => ({ from: `h${k}`, samples: 100 + 40 * k, file: shift(base, () => 0.1 + rng.uniform(-r, r)).file }));
    const garbage: WeightUpdate = { from: "bad", samples: 1e9, file: garbageUpdate(base, new Rng(9)).file };
    const without = aggregate(base.file, honest);
    for (const at of [0, 2, 5]) {
      const withIt = aggregate(base.file, [...honest.slice(0, at), garbage, ...honest.slice(at)]);
      expect(withIt.rejected.map((r) => r.from)).to.deep.equal(["bad"]);
      expect(withIt.accepted).to.deep.equal(without.accepted);
      expect(Array.from(weightsOf(withIt.file))).to.deep.equal(Array.from(weightsOf(without.file)));
      expect(withIt.file.baseline).to.deep.equal(without.file.baseline);
    }
    // Two garbage peers among five honest ones: still exactly the honest merge.
    const two = aggregate(base.file, [garbage, ...honest, { ...garbage, from: "bad2", file: garbageUpdate(base, new Rng(10)).file }]);
    expect(Array.from(weightsOf(two.file))).to.deep.equal(Array.from(weightsOf(without.file)));
  });

  it("bounds a poisoned update that stays under the outlier line: trimmed, clipped, its sample claim capped", () => {
    const rng = new Rng(4);
    const noise = Array.from({ length: 4 }, () => Array.from(w0, () => rng.uniform(-0.1, 0.1)));
    const honest = noise.map((z, k): WeightUpdate => ({ from: `h${k}`, samples: 100, file: shift(base, (i) => 0.1 + z[i]!).file }));
    // Sneaky: just inside the outlier line, pulling every weight the other way, claiming a billion samples.
    const sneaky: WeightUpdate = { from: "sneaky", samples: 1e9, file: shift(base, () => -0.1).file };
    const r = aggregate(base.file, [...honest, sneaky]);
    expect(r.accepted).to.include("sneaky");
    const merged = weightsOf(r.file);
    let pull = 0;
    merged.forEach((w, i) => {
      const vals = noise.map((z) => w0[i]! + 0.1 + z[i]!);
      expect(w).to.be.within(Math.min(...vals) - 1e-9, Math.max(...vals) + 1e-9);
      pull += w - w0[i]!;
    });
    expect(pull / merged.length).to.be.greaterThan(0.07); // the honest shift (0.1) survives, nearly whole
  });

  describe("on simulated agents", () => {
    const samples = simulatedSamples([21, 22], { providers: 12, rounds: 2, requestsPerRound: 30 });
    const agents: Sample[][] = [[], [], [], []];
    samples.forEach((s, i) => agents[i % 4]!.push(s));
    const opts = { rounds: 4, localIterations: 5, seed: 7, hiddenLayers: [6] };
    const heldOut = simulatedSamples([23], { providers: 12, rounds: 1, requestsPerRound: 30 });
    const error = (m: MatchModel) => heldOut.reduce((s, x) => s + (m.predict(x.candidate).pMet - (x.met ? 1 : 0)) ** 2, 0) / heldOut.length;
    const apart = (a: MatchModel, b: MatchModel) => heldOut.reduce((s, x) => s + Math.abs(a.predict(x.candidate).pMet - b.predict(x.candidate).pMet), 0) / heldOut.length;

    it("is deterministic: the same agents and seed give the same shared model", () => {
      const a = trainFederated(agents, opts).model;
      const b = trainFederated(agents, opts).model;
      expect(JSON.stringify(a.file.net)).to.equal(JSON.stringify(b.file.net));
    });

    it("averages the tail of the schedule: the mean of the last merges' weights", () => {
      const last = trainFederated(agents, opts).model;
      const shorter = trainFederated(agents, { ...opts, rounds: opts.rounds - 1 }).model;
      const tail2 = trainFederated(agents, { ...opts, averageLast: 2 }).model;
      const a = weightsOf(last.file);
      const b = weightsOf(shorter.file);
      weightsOf(tail2.file).forEach((w, i) => expectNear(w, (a[i]! + b[i]!) / 2, 1e-12));
      expect(JSON.stringify(trainFederated(agents, { ...opts, averageLast: 1 }).model.file.net)).to.equal(JSON.stringify(last.file.net));
    });

    it("one poisoned peer among four cannot wreck the shared model", () => {
      const clean = trainFederated(agents, opts);
      const poisoned = trainFederated(agents, { ...opts, poisoned: [3] });
      expect(poisoned.rejected).to.be.at.least(opts.rounds); // its garbage is caught every round
      expect(clean.rejected).to.equal(0);
      expect(error(poisoned.model)).to.be.lessThan(error(clean.model) + 0.01);
      expect(apart(poisoned.model, clean.model)).to.be.lessThan(0.05);
      // Without the guards the same garbage does wreck it: its predictions are far from the clean model's.
      const naive = trainFederated(agents, { ...opts, poisoned: [3], aggregate: { trim: 0, rejectFactor: Infinity, clipFactor: Infinity, sampleCap: Infinity } });
      expect(apart(naive.model, clean.model)).to.be.greaterThan(0.2);
      // Its garbage, rejected every round, leaves exactly the federation of the three others.
      const absent = trainFederated(agents.slice(0, 3), opts);
      expect(JSON.stringify(poisoned.model.file.net)).to.equal(JSON.stringify(absent.model.file.net));
      // Alone, an agent trains as many passes over its own samples only.
      expect(trainAlone(agents[0]!, opts).file.trainedOn).to.equal(agents[0]!.length);
    });
  });
});
