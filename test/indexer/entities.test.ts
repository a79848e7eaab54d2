import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRpcNode, type RpcNode } from "../helpers/rpc-node.js";
import { loadSchemaModel } from "../../services/common/entity-model.js";
import { Indexer } from "../../services/indexer/indexer.js";
import { runMarketScenario, TOKEN, type Scenario } from "./market-scenario.js";

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

  it("indexes providers with stake, metadata, reputation, earnings and fuel", async () => {
    const { providerA, providerB, hostA, agent, verifiers } = scenario.signers;
    const a = one("Provider", providerA.address.toLowerCase());
    expect(a).to.include({ tier: 0, tierName: "cloud", region: 1, metadataURI: "ipfs://provider-a-v2", verifier: false });
    expect(a.hostKey).to.equal(hostA.address.toLowerCase());
    expect(a.stake).to.equal(1200n * TOKEN - (a.slashed as bigint));
    expect(a).to.include({ completed: 1, breached: 1, openAgreements: 0, disputesLost: 0, reputation: 5000 });
    const r1 = scenario.reports[scenario.ids.cosigned.toString()]!;
    expect(a.fuelReported).to.equal(r1.fuelUsed);
    expect(a.earnings).to.equal((r1.fuelUsed * (TOKEN / 100n)) / 1_000_000n + TOKEN / 1000n);
    const b = one("Provider", providerB.address.toLowerCase());
    expect(b).to.include({ tier: 1, tierName: "edge", completed: 1, disputesLost: 1, reputation: Math.floor(20_000 / 4) });
    expect(b.slashed).to.be.greaterThan(0n);
    expect(one("Agent", `${providerB.address.toLowerCase()}-${agent.address.toLowerCase()}`)).to.include({ authorised: true });
    expect(one("Provider", verifiers[0]!.address.toLowerCase())).to.include({ verifier: true, tierName: "iot" });
  });

  it("indexes offers with their updates and withdrawals", () => {
    const b = one("Offer", scenario.offers.b.toString());
    expect(b).to.include({ withdrawn: false, provider: scenario.signers.providerB.address.toLowerCase() });
    expect(b.pricePerMFuel).to.equal(TOKEN / 200n);
    expect(b.fee).to.equal(0n);
    expect(one("Offer", scenario.offers.bWithdrawn.toString())).to.include({ withdrawn: true });
    expect(one("Offer", scenario.offers.bWithdrawn.toString()).expiresAt).to.equal(0n);
  });

  it("indexes requests, every bid placement and the live bid", () => {
    const { ids, signers } = scenario;
    const r = one("DeploymentRequest", ids.cosigned.toString());
    expect(r).to.include({ status: "Settled", bidCount: 3, agreement: ids.cosigned.toString() });
    const bids = all(`SELECT id, provider, seq FROM Bid WHERE request = ? ORDER BY seq`, ids.cosigned.toString());
    expect(bids.map((b) => b.id)).to.deep.equal([1, 2, 3].map((s) => `${ids.cosigned}-${s}`));
    expect(one("Bid", `${ids.cosigned}-2`).agent).to.equal(signers.agent.address.toLowerCase());
    expect(one("Bid", `${ids.cosigned}-3`).total).to.equal((1_000_000_000n * (TOKEN / 100n)) / 1_000_000n + TOKEN / 1000n);
    expect(one("LiveBid", `${ids.cosigned}-${signers.providerA.address.toLowerCase()}`).bid).to.equal(`${ids.cosigned}-3`);
    expect(one("DeploymentRequest", ids.cancelled.toString())).to.include({ status: "Cancelled", bidCount: 0 });
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
    expect(one("Agreement", ids.overturned.toString())).to.include({ status: "Overturned", dispute: ids.overturned.toString() });
    expect(one("Dispute", ids.overturned.toString())).to.include({ resolved: true, upheld: false, quorum: true });
    expect(one("Settlement", ids.overturned.toString())).to.include({ kind: "Overturned", providerPayment: 0n });
    const verdicts = all(`SELECT agrees FROM Verdict WHERE dispute = ?`, ids.overturned.toString());
    expect(verdicts).to.deep.equal([{ agrees: 0 }, { agrees: 0 }]);
    const report = one("UsageReport", ids.afterWindow.toString());
    expect(report).to.include({ outcomeName: "Exited", peakMemoryPages: 17, wallMs: 250, meteringVersion: 1 });
    expect(report.fuelUsed).to.equal(250_000_000n);
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
    expect(summary).to.include({ providers: 5, offers: 3, requests: 6, agreements: 4, settled: 2, breached: 1, overturned: 1, disputes: 1 });
    expect(summary.fuel).to.equal(650_000_000n);
  });
});
