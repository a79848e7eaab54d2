/**
 * Federated learning in the live agent, over the in-process update board (the ModelUpdates
 * contract's stand-in until it is merged): agents publish content-addressed weights, announce
 * the hash, and merge their peers' updates; a tampered file and a garbage peer are turned away.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { keccak256, toUtf8Bytes } from "ethers";
import { ExplanationStore, canonicalJson } from "../../services/matchmaker/explanations.js";
import { Federation, fetchUpdate } from "../../services/matchmaker/federation.js";
import { garbageUpdate } from "../../services/matchmaker/federated-training.js";
import { weightsOf } from "../../services/matchmaker/federated.js";
import { MatchModel } from "../../services/matchmaker/model.js";
import { OnlineTrainer } from "../../services/matchmaker/online-trainer.js";
import { simulatedSamples } from "../../services/matchmaker/bootstrap.js";
import { Rng } from "../../services/matchmaker/prng.js";
import { InProcessBoard } from "../../services/matchmaker/update-board.js";
import { smallModel } from "./small-model.js";

describe("matchmaker federation between live agents", function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), "federation-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const outcomes = simulatedSamples([51], { providers: 12, rounds: 2, requestsPerRound: 30 });

  function agent(name: string, board: InProcessBoard, offset: number) {
    const trainer = new OnlineTrainer(MatchModel.fromFile(smallModel().file), { retrainEvery: 1e9, iterations: 3 });
    for (const s of outcomes.slice(offset, offset + 60)) trainer.add(s);
    const federation = new Federation({
      board: board.as(`agent-${name}`),
      store: new ExplanationStore(join(dir, name), "model-updates"),
      provider: `0xprovider-${name}`,
      trainer,
      mergeEveryMs: 1_000,
    });
    return { trainer, federation };
  }

  it("publishes only after its own training, and merges its peers' updates on schedule", async () => {
    const board = new InProcessBoard();
    const a = agent("a", board, 0);
    const b = agent("b", board, 60);
    expect(await a.federation.publishIfNew()).to.equal(undefined); // nothing learned yet
    await a.trainer.retrain();
    await b.trainer.retrain();
    const hash = await a.federation.publishIfNew();
    expect(hash).to.match(/^0x[0-9a-f]{64}$/);
    expect(await a.federation.publishIfNew()).to.equal(undefined); // nothing new since
    const { updates } = await board.since(0);
    expect(updates).to.have.length(1);
    expect(updates[0]).to.include({ provider: "0xprovider-a", agent: "agent-a", contentHash: hash, samples: 60, round: 1 });
    expect(updates[0]!.uri).to.match(/^file:/);
    // The announced file is the weights, and only them: no outcome leaves the agent.
    const file = await fetchUpdate(updates[0]!);
    expect(Object.keys(file).sort()).to.deep.equal(["baseline", "features", "format", "net", "trainedOn"]);

    const before = weightsOf(b.trainer.model.file);
    await b.federation.tick(10_000);
    expect(b.federation.merges).to.equal(1);
    expect(b.federation.lastMerge!.accepted).to.deep.equal(["0xprovider-b", "0xprovider-a"]);
    const after = weightsOf(b.trainer.model.file);
    const fromA = weightsOf(a.trainer.model.file);
    // Equal samples, two updates: the plain mean, weight by weight.
    after.forEach((w, i) => expect(Math.abs(w - (before[i]! + fromA[i]!) / 2)).to.be.lessThan(1e-9));
    // Not again before the schedule says so.
    await b.federation.tick(10_500);
    expect(b.federation.merges).to.equal(1);
  });

  it("turns away a file that is not what the board announced, and a peer publishing garbage", async () => {
    const board = new InProcessBoard();
    const agents = ["p", "q", "r", "s"].map((n, k) => agent(n, board, k * 40));
    for (const x of agents) await x.trainer.retrain();
    for (const x of agents.slice(0, 3)) await x.federation.publishIfNew();
    // A peer whose file does not hash to its announcement.
    const forged = join(dir, "forged.json");
    writeFileSync(forged, canonicalJson(smallModel().file));
    await board.as("agent-forger").publish({ provider: "0xforger", contentHash: keccak256(toUtf8Bytes("something else")), uri: pathToFileURL(forged).href, samples: 50, round: 1 });
    // A peer that publishes garbage weights, correctly hashed, claiming a billion samples.
    const garbage = new ExplanationStore(join(dir, "garbage"), "model-updates");
    const g = garbage.put(garbageUpdate(smallModel(), new Rng(3)).file);
    await board.as("agent-garbage").publish({ provider: "0xgarbage", contentHash: g, uri: pathToFileURL(garbage.pathOf(g)).href, samples: 1e9, round: 1 });

    const s = agents[3]!;
    expect(await s.federation.merge()).to.equal(true);
    const last = s.federation.lastMerge!;
    expect(last.accepted).to.have.members(["0xprovider-s", "0xprovider-p", "0xprovider-q", "0xprovider-r"]);
    const why = Object.fromEntries(last.rejected.map((r) => [r.from, r.reason]));
    expect(why["0xforger"]).to.match(/hashes to 0x[0-9a-f]{64}, the board announced/);
    expect(why["0xgarbage"]).to.match(/as far from the others as the median update/);
    // The merged model still predicts like its honest parts.
    const c = outcomes[0]!.candidate;
    const honest = agents.map((x) => x.trainer.model.predict(c).pMet);
    expect(s.trainer.model.predict(c).pMet).to.be.within(Math.min(...honest) - 0.05, Math.max(...honest) + 0.05);
  });
});
