import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRpcNode, type RpcNode } from "../helpers/rpc-node.js";
import { loadSchemaModel } from "../../services/common/entity-model.js";
import { Indexer } from "../../services/indexer/indexer.js";
import { expectedCost, valueAtRiskBps } from "../../contracts/client/amounts.js";
import { claimKey } from "../../contracts/client/signing.js";
import { Ruling } from "../../contracts/client/status.js";
import { runMarketScenario, TOKEN, TRUTH, type Scenario } from "./market-scenario.js";

describe("indexer: a scripted market into SQLite", function () {
  this.timeout(120_000);
  let node: RpcNode;
  let scenario: Scenario;
  let indexer: Indexer;
  let dir: string;
  const warnings: string[] = [];

  const one = (entity: string, id: string) =>
    indexer.store.get(entity, id) ?? expect.fail(`${entity} ${id} was not indexed`);
  const all = (sql: string, ...params: unknown[]) => indexer.db.prepare(sql).all(...params) as Record<string, unknown>[];

  before(async () => {
    node = await startRpcNode();
    scenario = await runMarketScenario(node.provider);
    dir = mkdtempSync(join(tmpdir(), "troupe-indexer-"));
    indexer = new Indexer({
      provider: node.provider,
      addresses: scenario.deployment.addresses,
      startBlock: scenario.deployment.startBlock,
      dbPath: join(dir, "index.db"),
      schema: loadSchemaModel(),
      maxBlockRange: 25,
      warn: (m) => warnings.push(m),
    });
    await indexer.syncOnce();
  });

  after(async () => {
    indexer?.close();
    await node?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("reaches the head with no warnings", async () => {
    expect(warnings).to.deep.equal([]);
    expect(indexer.checkpoint()?.number).to.equal((await node.provider.getBlock("latest"))!.number);
  });

  it("indexes providers with stake, metadata, the value-weighted record, exposure, earnings and fuel", async () => {
    const { providerA, providerB, hostA, agent, verifiers } = scenario.signers;
    const { registry } = scenario.deployment;
    const a = one("Provider", providerA.address.toLowerCase());
    expect(a).to.include({ tier: 0, tierName: "cloud", region: 1, metadataURI: "ipfs://provider-a-v2", verifier: false });
    expect(a.hostKey).to.equal(hostA.address.toLowerCase());
    expect(a).to.include({ completed: 1, breached: 1, openAgreements: 0, disputesLost: 0 });
    const r1 = scenario.reports[scenario.ids.cosigned.toString()]!;
    expect(a.fuelReported).to.equal(r1.fuelUsed);
    const paid = (r1.fuelUsed * (TOKEN / 100n)) / 1_000_000n + TOKEN / 1000n;
    expect(a.earnings).to.equal(paid);
    expect(a.completedValue).to.equal(paid);
    const b = one("Provider", providerB.address.toLowerCase());
    expect(b).to.include({ tier: 1, tierName: "edge", completed: 1, disputesLost: 1 });
    expect(b.slashed).to.be.greaterThan(0n);
    expect(b.failedValue).to.be.greaterThan(0n);
    expect(one("Agent", `${providerB.address.toLowerCase()}-${agent.address.toLowerCase()}`)).to.include({ authorised: true });
    // v3 registered as a provider and staked in the court's pool.
    expect(one("Provider", verifiers[2]!.address.toLowerCase())).to.include({ verifier: true, tierName: "iot" });
    // Every field of the record as the registry holds it, the failure rate and reputation as it computes them.
    for (const owner of [providerA, providerB, verifiers[2]!]) {
      const p = one("Provider", owner.address.toLowerCase());
      const chain = await registry.providerOf(owner.address);
      expect(p, owner.address).to.include({
        stake: chain.stake, unbonding: chain.unbonding, exposure: chain.exposure, openAgreements: Number(chain.openAgreements),
        completedValue: chain.completedValue, failedValue: chain.failedValue, completed: Number(chain.completed),
        breached: Number(chain.breached), disputesWon: Number(chain.disputesWon), disputesLost: Number(chain.disputesLost),
        failureBps: Number(await registry.failureBpsOf(owner.address)), reputation: Number(await registry.reputationOf(owner.address)),
      });
    }
    expect(one("RegistryConfig", "registry")).to.include({ priorValue: 10n * TOKEN, priorFailureBps: 1000 });
    // The open request's bids hold stake in reserve only once awarded: nothing is exposed now.
    expect(a.exposure).to.equal(0n);
  });

  it("indexes offers with their updates and withdrawals", () => {
    const b = one("Offer", scenario.offers.b.toString());
    expect(b).to.include({ withdrawn: false, provider: scenario.signers.providerB.address.toLowerCase(), meteringVersion: 1 });
    expect(b.pricePerMFuel).to.equal(TOKEN / 200n);
    expect(b.fee).to.equal(0n);
    expect(one("Offer", scenario.offers.bWithdrawn.toString())).to.include({ withdrawn: true });
    expect(one("Offer", scenario.offers.bWithdrawn.toString()).expiresAt).to.equal(0n);
  });

  it("indexes requests, every bid placement with its failure rate and expected cost, and the live bid", async () => {
    const { ids, signers } = scenario;
    const { market } = scenario.deployment;
    const r = one("DeploymentRequest", ids.cosigned.toString());
    expect(r).to.include({ status: "Settled", bidCount: 3, agreement: ids.cosigned.toString(), execTime: 600n, meteringVersion: 1, closeReason: null });
    expect(r.valueAtRisk).to.equal(5n * TOKEN);
    expect(r.valueAtRiskBps).to.equal(Number(valueAtRiskBps(5n * TOKEN, r.escrow as bigint)));
    const bids = all(`SELECT id, provider, seq FROM Bid WHERE request = ? ORDER BY seq`, ids.cosigned.toString());
    expect(bids.map((b) => b.id)).to.deep.equal([1, 2, 3].map((s) => `${ids.cosigned}-${s}`));
    expect(one("Bid", `${ids.cosigned}-2`).agent).to.equal(signers.agent.address.toLowerCase());
    expect(one("Bid", `${ids.cosigned}-3`).total).to.equal((1_000_000_000n * (TOKEN / 100n)) / 1_000_000n + TOKEN / 1000n);
    expect(one("LiveBid", `${ids.cosigned}-${signers.providerA.address.toLowerCase()}`).bid).to.equal(`${ids.cosigned}-3`);
    // Every bid's expected cost exactly as contracts/client/amounts.ts computes it; newcomers bid at the prior (10%).
    let priced = 0;
    for (const row of all(`SELECT id FROM Bid`)) {
      const b = one("Bid", row.id as string);
      const req = one("DeploymentRequest", b.request as string);
      expect(b.expectedCost, b.id as string).to.equal(expectedCost(b.total as bigint, req.escrow as bigint, BigInt(req.valueAtRiskBps as number), BigInt(b.failureBps as number)));
      if ((b.expectedCost as bigint) > (b.total as bigint)) priced++;
    }
    expect(priced, "bids whose expected cost prices the provider's failure rate").to.be.greaterThan(2);
    expect(one("Bid", `${ids.cosigned}-1`).failureBps).to.equal(1000);
    // The open request's live bids as the contract ranks them now (A has a breach on its record).
    for (const p of [signers.providerA, signers.providerB]) {
      const live = one("LiveBid", `${ids.open}-${p.address.toLowerCase()}`);
      expect(one("Bid", live.bid as string).expectedCost).to.equal(await market.expectedCostOf(ids.open, p.address));
    }
    expect(one("DeploymentRequest", ids.cancelled.toString())).to.include({ status: "Cancelled", bidCount: 0, closeReason: "Cancelled" });
    expect(one("DeploymentRequest", ids.cancelled.toString()).refund).to.be.greaterThan(0n);
    expect(one("DeploymentRequest", ids.open.toString())).to.include({ status: "Open", bidCount: 2, agreement: null });
  });

  it("indexes agreements along their timelines", () => {
    const { ids, signers } = scenario;
    const cosigned = one("Agreement", ids.cosigned.toString());
    expect(cosigned).to.include({
      status: "Settled", provider: signers.providerA.address.toLowerCase(), winningBid: `${ids.cosigned}-3`,
      acceptedEarly: false, usageReport: ids.cosigned.toString(), settlement: ids.cosigned.toString(), dispute: null,
    });
    for (const k of ["requestedAt", "awardedAt", "reportedAt", "closedAt"]) expect(cosigned[k]).to.be.a("bigint");
    expect(one("Settlement", ids.cosigned.toString())).to.include({ kind: "Cosigned" });
    expect(one("Agreement", ids.afterWindow.toString())).to.include({ status: "Settled", acceptedEarly: true });
    expect(one("Settlement", ids.afterWindow.toString())).to.include({ kind: "AfterWindow" });
    const breached = one("Agreement", ids.breached.toString());
    expect(breached).to.include({ status: "Breached", reportedAt: null, providerPayment: 0n });
    expect(one("Settlement", ids.breached.toString()).slashed).to.equal(breached.penalty);
    const overturned = one("Agreement", ids.overturned.toString());
    expect(overturned).to.include({ status: "Overturned", dispute: ids.overturned.toString(), providerPayment: 0n });
    const settlement = one("Settlement", ids.overturned.toString());
    // The penalty and the provider's verification fee (the dispute bond) came from its stake.
    expect(settlement).to.include({ kind: "Overturned", providerPayment: 0n });
    expect(settlement.slashed).to.equal((overturned.penalty as bigint) + 10n * TOKEN);
    const report = one("UsageReport", ids.afterWindow.toString());
    expect(report).to.include({ outcomeName: "Exited", peakMemoryPages: 17, wallMs: 250, meteringVersion: 1 });
    expect(report.fuelUsed).to.equal(250_000_000n);
  });

  it("indexes the court: the dispute's rounds, drawn seats, commits, reveals, tally, appeal, ruling and every ballot's claim", async () => {
    const { ids, signers, dispute } = scenario;
    const { court, params } = scenario.deployment;
    const id = ids.overturned;
    const r4 = scenario.reports[id.toString()]!;
    const onChain = await court.caseOf(id);
    const d = one("Dispute", id.toString());
    expect(d).to.include({
      agreement: id.toString(), provider: signers.providerB.address.toLowerCase(), consumer: signers.consumer.address.toLowerCase(),
      round: 1, phase: "Closed", resolved: true, ruling: "Overturned", upheld: false, quorum: true,
      reportKey: claimKey(r4.fuelUsed, r4.outputHash), finalKey: claimKey(TRUTH.fuelUsed, TRUTH.outputHash),
      winner: signers.consumer.address.toLowerCase(),
    });
    expect(d.bond).to.equal(params.disputeBond);
    expect(d.finalKey).to.equal(onChain.finalKey);
    expect(Number(onChain.ruling)).to.equal(Ruling.Overturned);
    // Slashed stake: every seat of the colluding first round.
    const firstRound = await court.roundOf(id, 0);
    expect(d.slashedStake).to.equal(firstRound.totalLocked);

    const rounds = all(`SELECT id FROM DisputeRound WHERE dispute = ? ORDER BY round`, id.toString()).map((r) => one("DisputeRound", r.id as string));
    expect(rounds).to.have.length(2);
    for (const [i, r] of rounds.entries()) {
      const rd = await court.roundOf(id, i);
      expect(r, `round ${i}`).to.include({
        round: i, tallied: true, decided: true, committedVotes: rd.committedVotes, revealedVotes: rd.revealedVotes,
        totalVotes: rd.totalVotes, leadingVotes: rd.leadingVotes, decidedKey: rd.decidedKey,
        commitDeadline: rd.commitDeadline, revealDeadline: rd.revealDeadline, bond: rd.bond, appellant: rd.appellant.toLowerCase(),
      });
    }
    expect(rounds[0]).to.include({ panelSize: 3, fullCourt: false, seatsDrawn: 3, drawn: true, drawBlock: null, decidedForReport: true, appeal: null });
    expect(rounds[0]!.appealDeadline).to.equal(firstRound.appealDeadline);
    expect(rounds[1]).to.include({ panelSize: 0, fullCourt: true, decidedForReport: false, appeal: `${id}-1`, appealDeadline: null });
    expect(one("Appeal", `${id}-1`)).to.include({ round: 1, appellant: signers.consumer.address.toLowerCase(), bond: 2n * params.disputeBond });

    // Ballots as the court holds them: seats drawn, votes, commits, reveals, claims.
    const seatsOf = (v: string) => dispute.seats.filter((s) => s === v).length;
    let ballots = 0;
    for (const round of [0, 1]) {
      for (const v of signers.verifiers) {
        const chain = await court.ballotOf(id, round, v.address);
        const b = indexer.store.get("Ballot", `${id}-${round}-${v.address.toLowerCase()}`);
        if (chain.votes === 0n) {
          expect(b, `no ballot of ${v.address} in round ${round}`).to.equal(undefined);
          continue;
        }
        ballots++;
        expect(b, `ballot of ${v.address} in round ${round}`).to.include({
          roundNumber: round, seats: round === 0 ? seatsOf(v.address) : 0, votes: chain.votes, committed: chain.committed,
          revealed: chain.revealed, claimed: chain.claimed, claimKey: chain.key, coherent: round === 1, agreesWithReport: round === 0,
        });
        // The colluding first round loses its locks; the full court shares the pool.
        if (round === 0) expect(b!).to.include({ slashed: chain.locked, reward: 0n });
        else expect(b!.reward).to.be.greaterThan(0n);
      }
    }
    expect(ballots).to.equal(new Set(dispute.seats).size + 4);
    const verdicts = all(`SELECT round, agrees, fuelUsed FROM Verdict WHERE dispute = ? ORDER BY round`, id.toString());
    expect(verdicts.map((v) => [v.round, v.agrees])).to.deep.equal([
      ...[...new Set(dispute.seats)].map(() => [0, 1]), ...signers.verifiers.map(() => [1, 0]),
    ]);
    const rewards = all(`SELECT id FROM Ballot WHERE dispute = ?`, id.toString()).reduce((n, b) => n + (one("Ballot", b.id as string).reward as bigint), 0n);
    expect(rewards).to.be.at.most(d.rewardPool as bigint).and.to.be.greaterThan((d.rewardPool as bigint) - 10n);

    // Verifiers' stakes follow their claims; the market totals count them.
    let staked = 0n;
    for (const v of signers.verifiers) {
      const chain = await court.verifierOf(v.address);
      const row = one("Verifier", v.address.toLowerCase());
      expect(row, v.address).to.include({ stake: chain.stake, seats: seatsOf(v.address) });
      staked += chain.stake;
    }
    expect(one("MarketSummary", "market")).to.include({ verifiers: 4, verifierStake: staked });
    expect(staked).to.equal(await court.totalStake());
  });

  it("indexes model updates", () => {
    const { providerB, agent } = scenario.signers;
    const rows = all(`SELECT id FROM ModelUpdate`);
    expect(rows).to.have.length(1);
    const m = one("ModelUpdate", rows[0]!.id as string);
    expect(m).to.include({ provider: providerB.address.toLowerCase(), agent: agent.address.toLowerCase(), samples: 42n, round: 1n, uri: "https://provider-b.example/models/1" });
  });

  it("keeps daily stats per tier and region and the market totals", () => {
    const stats = all(`SELECT * FROM MarketStats ORDER BY tier`);
    const cloud = stats.filter((s) => s.tier === 0);
    const sum = (rows: Record<string, unknown>[], k: string) => rows.reduce((n, r) => n + (r[k] as number), 0);
    expect(sum(cloud, "agreementsCreated")).to.equal(2);
    expect(sum(cloud, "jobs")).to.equal(2);
    expect(sum(cloud, "breached")).to.equal(1);
    const edge = stats.filter((s) => s.tier === 1);
    expect(sum(edge, "settled")).to.equal(1);
    expect(sum(edge, "overturned")).to.equal(1);
    const summary = one("MarketSummary", "market");
    expect(summary).to.include({
      providers: 3, offers: 3, requests: 6, agreements: 4, settled: 2, breached: 1, overturned: 1, annulled: 0, disputes: 1, modelUpdates: 1,
    });
    expect(summary.fuel).to.equal(650_000_000n);
  });
});
