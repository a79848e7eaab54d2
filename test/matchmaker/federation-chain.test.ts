/**
 * Federated learning through the ModelUpdates contract on a Hardhat chain: each agent publishes
 * its weights as a content-addressed file and announces the hash on chain; a peer reads the
 * announcements, fetches each file, checks it against the announced hash and merges with the
 * outlier-robust aggregation. A poisoned peer (garbage weights, correctly hashed, claiming a
 * billion samples) and a forger (a file that is not what it announced) do not wreck the merge.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { keccak256, toUtf8Bytes, type Provider } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { marketFixture, registerProvider, type Fixture } from "../helpers/market.js";
import { ExplanationStore, canonicalJson } from "../../services/matchmaker/explanations.js";
import { Federation } from "../../services/matchmaker/federation.js";
import { garbageUpdate } from "../../services/matchmaker/federated-training.js";
import { weightsOf } from "../../services/matchmaker/federated.js";
import { MatchModel, type ModelFile } from "../../services/matchmaker/model.js";
import { OnlineTrainer } from "../../services/matchmaker/online-trainer.js";
import { simulatedSamples } from "../../services/matchmaker/bootstrap.js";
import { Rng } from "../../services/matchmaker/prng.js";
import { ChainBoard } from "../../services/matchmaker/update-board.js";
import { smallModel } from "./small-model.js";

describe("matchmaker federated learning through the ModelUpdates contract", function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), "federation-chain-"));
  const outcomes = simulatedSamples([52], { providers: 12, rounds: 2, requestsPerRound: 30 });
  let f: Fixture;
  let board: string;
  let owners: HardhatEthersSigner[];

  before(async () => {
    f = await marketFixture();
    // Six providers, each registered with its own host key; each is its own agent (the registry counts a provider as its own agent).
    owners = f.signers.slice(11, 17) as HardhatEthersSigner[];
    const hosts = f.signers.slice(1, 7) as HardhatEthersSigner[];
    for (const [i, owner] of owners.entries()) await registerProvider(f, owner, hosts[i]!);
    const contract = await f.ethers.deployContract("ModelUpdates", [f.deployment.addresses.registry]);
    board = await contract.getAddress();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function agent(owner: HardhatEthersSigner, name: string, offset: number) {
    const trainer = new OnlineTrainer(MatchModel.fromFile(smallModel().file), { retrainEvery: 1e9, iterations: 3 });
    for (const s of outcomes.slice(offset, offset + 50)) trainer.add(s);
    const federation = new Federation({
      board: new ChainBoard(board, f.ethers.provider as unknown as Provider, owner),
      store: new ExplanationStore(join(dir, name), "model-updates"),
      provider: owner.address,
      trainer,
      mergeEveryMs: 1_000,
    });
    return { trainer, federation };
  }

  it("announces content hashes on chain, fetches and checks the weights, and merges robustly past a poisoned peer", async () => {
    const honest = [agent(owners[0]!, "a", 0), agent(owners[1]!, "b", 50), agent(owners[2]!, "c", 100), agent(owners[3]!, "d", 150)];
    for (const x of honest) await x.trainer.retrain();
    const hashes: string[] = [];
    for (const x of honest.slice(0, 3)) hashes.push((await x.federation.publishIfNew())!);

    // The announcements are on chain, with the content hash and sender.
    const updates = new ChainBoard(board, f.ethers.provider as unknown as Provider);
    const { updates: seen } = await updates.since(0);
    expect(seen.map((u) => u.contentHash)).to.deep.equal(hashes);
    expect(seen.map((u) => u.provider)).to.deep.equal(owners.slice(0, 3).map((o) => o.address.toLowerCase()));
    expect(seen.every((u) => u.uri.startsWith("file:") && u.samples === 50 && u.round === 1)).to.equal(true);

    // A poisoned peer: garbage weights, hashed correctly, claiming a billion samples.
    const poison = new ExplanationStore(join(dir, "poison"), "model-updates");
    const g = poison.put(garbageUpdate(smallModel(), new Rng(9)).file);
    await new ChainBoard(board, f.ethers.provider as unknown as Provider, owners[4]!).publish({
      provider: owners[4]!.address, contentHash: g, uri: pathToFileURL(poison.pathOf(g)).href, samples: 1e9, round: 1,
    });
    // A forger: the file at the URI is not what the hash names.
    const forged = join(dir, "forged.json");
    writeFileSync(forged, canonicalJson(smallModel().file));
    await new ChainBoard(board, f.ethers.provider as unknown as Provider, owners[5]!).publish({
      provider: owners[5]!.address, contentHash: keccak256(toUtf8Bytes("something else")), uri: pathToFileURL(forged).href, samples: 50, round: 1,
    });
    // Someone who is not a provider's agent cannot announce at all.
    let refused = false;
    await new ChainBoard(board, f.ethers.provider as unknown as Provider, f.signers[18]!)
      .publish({ provider: owners[0]!.address, contentHash: g, uri: "file:///x", samples: 1, round: 9 })
      .catch(() => (refused = true));
    expect(refused).to.equal(true);

    const d = honest[3]!;
    const own = weightsOf(d.trainer.model.file);
    const probe = outcomes.slice(200, 220).map((s) => s.candidate);
    expect(probe).to.have.length(20);
    const honestP = probe.map((c) => honest.map((x) => x.trainer.model.predict(c).pMet));
    expect(await d.federation.merge()).to.equal(true);
    const last = d.federation.lastMerge!;
    expect(last.accepted).to.have.members([owners[3]!, ...owners.slice(0, 3)].map((o) => o.address.toLowerCase()));
    const why = Object.fromEntries(last.rejected.map((r) => [r.from, r.reason]));
    expect(why[owners[4]!.address.toLowerCase()]).to.match(/as far from the others as the median update/);
    expect(why[owners[5]!.address.toLowerCase()]).to.match(/hashes to 0x[0-9a-f]{64}, the board announced/);

    // The merge moved the model toward its honest peers, and it predicts like them.
    const merged = weightsOf(d.trainer.model.file);
    expect(merged.some((w, i) => Math.abs(w - own[i]!) > 1e-9)).to.equal(true);
    const garbage = weightsOf(poison.get(g) as ModelFile);
    const dist = (a: Float64Array, b: Float64Array) => Math.sqrt(a.reduce((sum, w, i) => sum + (w - b[i]!) ** 2, 0));
    expect(dist(merged, own)).to.be.lessThan(dist(garbage, own) / 10);
    probe.forEach((c, i) => {
      const ps = honestP[i]!;
      expect(d.trainer.model.predict(c).pMet).to.be.within(Math.min(...ps) - 0.05, Math.max(...ps) + 0.05);
    });
  });
});
