import { expect } from "chai";
import { explorerFixture, type ExplorerFixture } from "./explorer-fixture.js";

type Rows = Record<string, unknown>[];

describe("explorer: The Graph's query conventions over the indexed market", function () {
  this.timeout(120_000);
  let f: ExplorerFixture;
  let ids: ExplorerFixture["scenario"]["ids"];
  let providerA: string;
  let providerB: string;

  before(async () => {
    f = await explorerFixture();
    ids = f.scenario.ids;
    providerA = f.scenario.signers.providerA.address.toLowerCase();
    providerB = f.scenario.signers.providerB.address.toLowerCase();
  });
  after(async () => f?.close());

  it("serves a single entity by id, with relations and BigInts as strings", async () => {
    const d = await f.data(`{ agreement(id: "${ids.cosigned}") { id status pricePerMFuel acceptedEarly
      provider { id tierName } request { id bidCount } winningBid { seq } usageReport { fuelUsed outcomeName }
      settlement { kind } dispute { id } } }`);
    expect(d.agreement).to.deep.include({ id: ids.cosigned.toString(), status: "Settled", pricePerMFuel: "10000000000000000", acceptedEarly: false });
    expect(d.agreement).to.deep.include({
      provider: { id: providerA, tierName: "cloud" }, request: { id: ids.cosigned.toString(), bidCount: 3 }, winningBid: { seq: 3 },
      usageReport: { fuelUsed: "400000000", outcomeName: "Exited" }, settlement: { kind: "Cosigned" }, dispute: null,
    });
    expect((await f.data(`{ agreement(id: "999") { id } }`)).agreement).to.equal(null);
  });

  it("pages plural fields with first and skip in id order by default", async () => {
    const all = (await f.data(`{ deploymentRequests { id } }`)).deploymentRequests as Rows;
    expect(all.map((r) => r.id)).to.deep.equal(["1", "2", "3", "4", "5", "6"]);
    const page = (await f.data(`{ deploymentRequests(first: 2, skip: 3) { id } }`)).deploymentRequests as Rows;
    expect(page.map((r) => r.id)).to.deep.equal(["4", "5"]);
  });

  it("orders BigInts numerically, by nested fields, and in both directions", async () => {
    const offers = (await f.data(`{ offers(orderBy: pricePerMFuel) { id pricePerMFuel } }`)).offers as Rows;
    const prices = offers.map((o) => BigInt(o.pricePerMFuel as string));
    expect(prices).to.deep.equal([...prices].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(prices[0]).to.equal(5_000_000_000_000_000n);
    const bids = (await f.data(`{ bids(orderBy: total, orderDirection: desc) { total } }`)).bids as Rows;
    const totals = bids.map((b) => BigInt(b.total as string));
    expect(totals).to.deep.equal([...totals].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)));
    const byRep = (await f.data(`{ agreements(orderBy: provider__reputation, orderDirection: desc) { id provider { reputation } } }`))
      .agreements as Rows;
    const reps = byRep.map((a) => (a.provider as { reputation: number }).reputation);
    expect(reps).to.deep.equal([...reps].sort((a, b) => b - a));
  });

  it("filters with suffixes, nested filters and and/or", async () => {
    const q = async (where: string, entity = "deploymentRequests") =>
      ((await f.data(`{ ${entity}(where: ${where}) { id } }`))[entity] as Rows).map((r) => r.id);
    expect(await q(`{ status_in: ["Settled", "Breached"] }`)).to.deep.equal([ids.cosigned, ids.afterWindow, ids.breached].map(String));
    expect(await q(`{ status_not_in: ["Settled", "Breached", "Overturned"] }`)).to.deep.equal([ids.cancelled, ids.open].map(String));
    expect(await q(`{ bidCount_gt: 1 }`)).to.deep.equal([ids.cosigned, ids.open].map(String));
    expect(await q(`{ escrow_gte: "1", region: 2 }`)).to.deep.equal([String(ids.afterWindow)]);
    expect(await q(`{ status_not: "Open", refund: null }`)).to.have.length(4);
    expect(await q(`{ workloadURI_contains: "workload.wasm", workloadURI_starts_with: "file://", workloadURI_ends_with: ".wasm" }`)).to.have.length(6);
    expect(await q(`{ workloadURI_contains_nocase: "WORKLOAD", status: "Open" }`)).to.deep.equal([String(ids.open)]);
    expect(await q(`{ workloadURI_not_contains: "workload" }`)).to.deep.equal([]);
    expect(await q(`{ or: [{ status: "Cancelled" }, { status: "Breached" }] }`)).to.deep.equal([ids.breached, ids.cancelled].map(String));
    expect(await q(`{ and: [{ bidCount_gte: 1 }, { bidCount_lte: 1 }] }`)).to.have.length(3);
    expect(await q(`{ provider_: { tier: 1 } }`, "agreements")).to.deep.equal([ids.afterWindow, ids.overturned].map(String));
    expect(await q(`{ provider: "${providerA}", status: "Breached" }`, "agreements")).to.deep.equal([String(ids.breached)]);
    expect(await q(`{ bids_: { agent_not: "${providerA}", seq: 2 } }`)).to.deep.equal([ids.cosigned, ids.open].map(String));
    expect(await q(`{ agreement_: { status: "Overturned" } }`)).to.deep.equal([String(ids.overturned)]);
    expect(await q(`{ id_in: ["1", "3"], consumer_not: "0x0000000000000000000000000000000000000000" }`)).to.deep.equal(["1", "3"]);
  });

  it("resolves @derivedFrom lists with their own first, skip, where and orderBy", async () => {
    const d = await f.data(`{ provider(id: "${providerB}") {
      bids(orderBy: createdAt, orderDirection: desc, first: 2) { id provider { id } }
      agreements(where: { status: "Overturned" }) { id }
      offers(orderBy: id) { id withdrawn }
      agents { authorised }
    } }`);
    const p = d.provider as Record<string, Rows>;
    expect(p.bids).to.have.length(2);
    expect(p.bids!.every((b) => (b.provider as { id: string }).id === providerB)).to.equal(true);
    expect(p.agreements!.map((a) => a.id)).to.deep.equal([String(ids.overturned)]);
    expect(p.offers).to.deep.equal([{ id: "2", withdrawn: false }, { id: "3", withdrawn: true }]);
    expect(p.agents).to.deep.equal([{ authorised: true }]);
    const dispute = await f.data(`{ dispute(id: "${ids.overturned}") {
      verdicts(where: { round: 1 }) { agrees verifier { id } }
      rounds(orderBy: round, orderDirection: desc, first: 1) { round fullCourt ballots(where: { coherent: true }) { id } } } }`);
    const court = dispute.dispute as { verdicts: Rows; rounds: Rows };
    expect(court.verdicts).to.have.length(4);
    expect(court.verdicts.every((v) => v.agrees === false)).to.equal(true);
    expect(court.rounds).to.have.length(1);
    expect(court.rounds[0]).to.include({ round: 1, fullCourt: true });
    expect(court.rounds[0]!.ballots).to.have.length(4);
  });

  it("answers _meta with the indexed block and serves daily stats", async () => {
    const d = await f.data(`{ _meta { block { number hash timestamp } deployment hasIndexingErrors }
      marketStats_collection(orderBy: day) { tier jobs slaBreachRate averagePricePerMFuel } marketSummary(id: "market") { agreements volume } }`);
    const meta = d._meta as { block: { number: number; hash: string }; deployment: string; hasIndexingErrors: boolean };
    const cp = f.indexer.checkpoint()!;
    expect(meta.block).to.deep.include({ number: cp.number, hash: cp.hash });
    expect(meta.deployment).to.contain(f.scenario.deployment.addresses.market.toLowerCase());
    expect(meta.hasIndexingErrors).to.equal(false);
    const stats = d.marketStats_collection as Rows;
    expect(stats.find((s) => s.tier === 0)).to.include({ slaBreachRate: "0.5" });
    expect((d.marketSummary as { agreements: number }).agreements).to.equal(4);
    const ahead = await f.query(`{ _meta(block: { number_gte: ${cp.number + 10} }) { block { number } } }`);
    expect(ahead.body.errors?.[0]?.message).to.match(/only indexed up to block number/);
  });

  it("refuses bad arguments and over-limit queries with GraphQL errors, never a 500", async () => {
    const expectError = async (query: string, pattern: RegExp, variables?: Record<string, unknown>) => {
      const { status, body } = await f.query(query, variables);
      expect([200, 400], `status for ${query}`).to.include(status);
      expect(body.errors?.map((e) => e.message).join("; "), query).to.match(pattern);
    };
    await expectError(`{ agreements(first: 1001) { id } }`, /`first` argument must be between 0 and 1000/);
    await expectError(`{ agreements(skip: -1) { id } }`, /`skip` argument/);
    await expectError(`{ agreements(where: { maxFuel_gt: "12abc" }) { id } }`, /Invalid BigInt/);
    await expectError(`{ agreements(where: { nosuch: 1 }) { id } }`, /nosuch/);
    await expectError(`{ agreements { nosuch } }`, /Cannot query field "nosuch"/);
    await expectError(`{ agreements(orderBy: nosuch) { id } }`, /nosuch/);
    await expectError(`{ agreements { id `, /Syntax Error/);
    await expectError(`query ($n: Int) { agreements(first: $n) { id } }`, /`first` argument/, { n: 5000 });
    const deep = `{ agreements(first: 1) { provider { agreements(first: 1) { provider { agreements(first: 1) { provider {
      agreements(first: 1) { provider { agreements(first: 1) { provider { agreements(first: 1) { id } } } } } } } } } } } }`;
    await expectError(deep, /depth \d+ exceeds the maximum/);
    await expectError(`{ providers(first: 1000) { bids(first: 1000) { id } } }`, /more than the maximum/);
    await expectError(`query ($n: Int) { providers(first: $n) { bids(first: 1000) { id } } }`, /more than the maximum/, { n: 1000 });
    const bad = await fetch(`${f.explorer.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" });
    expect(bad.status).to.be.within(400, 499);
  });

  it("serves GraphiQL at /graphql to browsers", async () => {
    const res = await fetch(`${f.explorer.url}/graphql`, { headers: { accept: "text/html" } });
    expect(res.status).to.equal(200);
    const html = await res.text();
    expect(html).to.match(/GraphiQL/i);
    // Served from the npm package, whole: nothing is fetched from a CDN.
    expect(html).to.not.match(/<script[^>]+src=|<link[^>]+href="https?:|unpkg\.com|jsdelivr/);
  });
});
