import { expect } from "chai";
import { expectNear } from "./near.js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MatchModel, StaleModelError } from "../../services/matchmaker/model.js";
import { OnlineTrainer } from "../../services/matchmaker/online-trainer.js";
import { simulatedSamples } from "../../services/matchmaker/bootstrap.js";
import { features, FEATURE_NAMES } from "../../services/matchmaker/features.js";
import { FastNet } from "../../services/matchmaker/fast-net.js";
import { smallModel } from "./small-model.js";

describe("matchmaker model", function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), "matchmaker-model-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const heldOut = simulatedSamples([901], { providers: 15, rounds: 2, requestsPerRound: 40 });

  it("learns from the simulator: better than always guessing the majority on held-out seeds", () => {
    const model = smallModel();
    const metRate = heldOut.filter((s) => s.met).length / heldOut.length;
    let correct = 0;
    for (const s of heldOut) if (model.predict(s.candidate).pMet > 0.5 === s.met) correct++;
    expect(correct / heldOut.length).to.be.greaterThan(Math.max(metRate, 1 - metRate) + 0.05);
  });

  it("saves to JSON and reloads with the same predictions", () => {
    const model = smallModel();
    const path = join(dir, "model.json");
    model.save(path);
    const again = MatchModel.load(path);
    for (const s of heldOut.slice(0, 50)) expect(again.predict(s.candidate)).to.deep.equal(model.predict(s.candidate));
  });

  it("its fast forward pass gives brain.js's outputs", () => {
    const model = smallModel();
    const net = model.brainNet();
    const batch = heldOut.slice(0, 100).map((s) => s.candidate);
    const y = model.predictBatch(batch);
    batch.forEach((c, i) => {
      const expected = net.run(Array.from(features(c))) as ArrayLike<number>;
      expectNear(y[2 * i], expected[0]!, 1e-6);
      expectNear(y[2 * i + 1], expected[1]!, 1e-6);
    });
  });

  it("explains a prediction by its top factors, largest effect first", () => {
    const factors = smallModel().explain(heldOut[0]!.candidate, 4);
    expect(factors).to.have.length(4);
    for (const f of factors) expect(FEATURE_NAMES).to.include(f.feature);
    for (let i = 1; i < factors.length; i++) expect(Math.abs(factors[i - 1]!.effect)).to.be.at.least(Math.abs(factors[i]!.effect));
  });

  it("rejects a file that is not a model, naming the problem", () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ format: "something-else" }));
    expect(() => MatchModel.load(bad)).to.throw(/unknown model format something-else/);
    writeFileSync(bad, "{ not json");
    expect(() => MatchModel.load(bad)).to.throw(/cannot read the model/);
    writeFileSync(bad, JSON.stringify({ ...smallModel().file, features: undefined }));
    expect(() => MatchModel.load(bad)).to.throw(/feature list is missing/);
    expect(() => new FastNet({ sizes: [2, 1], layers: [{}, {}], activation: "relu" })).to.throw(/sigmoid networks only/);
  });

  it("rejects a model saved for an older feature set as stale, naming the new features", () => {
    const old = join(dir, "old.json");
    writeFileSync(old, JSON.stringify({ ...smallModel().file, features: FEATURE_NAMES.slice(0, -2) }));
    expect(() => MatchModel.load(old)).to.throw(StaleModelError, /input size, value-weighted failure rate new\); retrain it/);
  });

  it("retrains online in the background and swaps the model in one step", async () => {
    const start = MatchModel.fromFile(smallModel().file);
    let swapped: MatchModel | undefined;
    const trainer = new OnlineTrainer(start, { retrainEvery: 50, iterations: 20 }, (m) => (swapped = m));
    for (const s of heldOut.slice(0, 49)) trainer.add(s);
    expect(trainer.training).to.equal(false);
    trainer.add(heldOut[49]!); // the 50th outcome starts a retraining
    expect(trainer.training).to.equal(true);
    // While it trains, bidding keeps its model and the event loop keeps turning.
    expect(trainer.model).to.equal(start);
    let turns = 0;
    while (trainer.training) {
      await new Promise((resolve) => setImmediate(resolve));
      turns++;
      expect(trainer.model === start || trainer.model === swapped).to.equal(true);
    }
    expect(turns).to.be.greaterThan(5);
    expect(trainer.generation).to.equal(1);
    expect(swapped).to.not.equal(undefined);
    expect(trainer.model).to.equal(swapped);
    expect(swapped!.file.trainedOn).to.equal(start.file.trainedOn + 50);
    const c = heldOut[0]!.candidate;
    expect(swapped!.predict(c).pMet).to.not.equal(start.predict(c).pMet);
  });
});
