import { expect } from "chai";
import { STATUS_NAMES } from "../../contracts/client/status.js";
import { explorerFixture, type ExplorerFixture } from "./explorer-fixture.js";

type Rows = Record<string, unknown>[];

/**
 * The explorer's past-block answers against the chain's own state at those blocks: the scripted
 * market (bids, early acceptance, reports, a breach, a dispute overturned by verifiers, a
 * cancellation) is queried with `block: { number }` at blocks across its history, and every
 * request, provider, offer and report is compared with the contracts' views at that block tag.
 */
describe("explorer: time travel against the chain's state at past blocks", function () {
  this.timeout(180_000);
  let f: ExplorerFixture;
  let blocks: number[];

  before(async () => {
    f = await explorerFixture();
    const start = f.scenario.deployment.startBlock;
    const head = f.indexer.checkpoint()!.number;
    // Twelve blocks spread over the market's history, the head included.
    blocks = [...new Set([...Array(12).keys()].map((i) => Math.round(start + ((head - start) * (i + 1)) / 12)))];
  });
  after(async () => f?.close());

  it("answers every request, agreement, provider, offer and report as the contracts held them at each block", async () => {
    const { market, registry, offers } = f.scenario.deployment;
    const providerAddresses = [f.scenario.signers.providerA, f.scenario.signers.providerB, ...f.scenario.signers.verifiers].map((s) => s.address.toLowerCase());
    let compared = 0;
    for (const b of blocks) {
      const d = await f.data(`query ($b: Int!) {
        deploymentRequests(first: 1000, block: { number: $b }) { id status bidCount agreement { id status } }
        providers(first: 1000, block: { number: $b }) { id stake unbonding verifier openAgreements completed breached disputesWon disputesLost reputation }
        offers(first: 1000, block: { number: $b }) { id pricePerMFuel fee maxFuel expiresAt }
        usageReports(first: 1000, block: { number: $b }) { id fuelUsed outputHash }
        _meta(block: { number: $b }) { block { number hash parentHash } }
      }`, { b });
      const chainBlock = (await f.node.provider.getBlock(b))!;
      expect(d._meta).to.deep.equal({ block: { number: b, hash: chainBlock.hash, parentHash: chainBlock.parentHash } });

      const requests = d.deploymentRequests as Rows;
      expect(requests.length, `requests at block ${b}`).to.equal(Number(await market.requestCount({ blockTag: b })));
      for (const r of requests) {
        const onChain = await market.request(BigInt(r.id as string), { blockTag: b });
        expect(r.status, `request ${r.id} at block ${b}`).to.equal(STATUS_NAMES[Number(onChain.status)]);
        expect(r.bidCount, `request ${r.id} bids at block ${b}`).to.equal(Number(onChain.bidCount));
        const agreement = r.agreement as { id: string; status: string } | null;
        if (agreement) expect(agreement.status).to.equal(r.status);
        else expect(["Open", "Cancelled", "Expired"]).to.include(r.status);
        compared++;
      }

      const providers = new Map((d.providers as Rows).map((p) => [p.id as string, p]));
      for (const address of providerAddresses) {
        const onChain = await registry.providerOf(address, { blockTag: b });
        const p = providers.get(address);
        if (onChain.hostKey === "0x0000000000000000000000000000000000000000") {
          expect(p, `provider ${address} is not registered at block ${b}`).to.equal(undefined);
          continue;
        }
        expect(p, `provider ${address} at block ${b}`).to.not.equal(undefined);
        expect(p).to.deep.include({
          stake: onChain.stake.toString(),
          unbonding: onChain.unbonding.toString(),
          verifier: onChain.verifier,
          openAgreements: Number(onChain.openAgreements),
          completed: Number(onChain.completed),
          breached: Number(onChain.breached),
          disputesWon: Number(onChain.disputesWon),
          disputesLost: Number(onChain.disputesLost),
          reputation: Number(await registry.reputationOf(address, { blockTag: b })),
        });
        compared++;
      }

      const offerRows = d.offers as Rows;
      expect(offerRows.length).to.equal(Number(await offers.offerCount({ blockTag: b })));
      for (const o of offerRows) {
        const onChain = await offers.offer(BigInt(o.id as string), { blockTag: b });
        expect(o, `offer ${o.id} at block ${b}`).to.deep.include({
          pricePerMFuel: onChain.pricePerMFuel.toString(),
          fee: onChain.fee.toString(),
          maxFuel: onChain.maxFuel.toString(),
          expiresAt: onChain.expiresAt.toString(),
        });
        compared++;
      }

      for (const u of d.usageReports as Rows) {
        // The contract keeps a report only while it can still be disputed.
        const onChain = await market.reportOf(BigInt(u.id as string), { blockTag: b });
        if (onChain.reportedAt === 0n) continue;
        expect(u.fuelUsed, `report ${u.id} at block ${b}`).to.equal(onChain.fuelUsed.toString());
        expect(u.outputHash).to.equal(onChain.outputHash);
        compared++;
      }
    }
    expect(compared).to.be.greaterThan(80);
    // The history really differs between the blocks compared.
    const statuses = await Promise.all(blocks.map(async (b) => JSON.stringify((await f.data(`{ deploymentRequests(block: { number: ${b} }) { status } }`)).deploymentRequests)));
    expect(new Set(statuses).size).to.be.greaterThan(3);
  });

  it("answers by block hash like by number, and refuses unknown hashes and future blocks", async () => {
    const b = blocks[3]!;
    const hash = (await f.node.provider.getBlock(b))!.hash!;
    const q = (block: string) => `{ providers(block: ${block}) { id stake completed } agreements(block: ${block}) { id status } _meta(block: ${block}) { block { number } } }`;
    expect(await f.data(q(`{ hash: "${hash}" }`))).to.deep.equal(await f.data(q(`{ number: ${b} }`)));
    const unknown = await f.query(q(`{ hash: "0x${"ab".repeat(32)}" }`));
    expect(unknown.body.errors?.[0]?.message).to.match(/no block with hash 0xabab.* has been indexed/);
    const head = f.indexer.checkpoint()!.number;
    const future = await f.query(`{ agreements(block: { number: ${head + 5} }) { id } }`);
    expect(future.body.errors?.[0]?.message).to.match(new RegExp(`only indexed up to block number ${head} and data for block number ${head + 5}`));
  });

  it("filters by the block of the last change with _change_block", async () => {
    const fields = "id status bidCount refund closedAt agreement { id }";
    const now = (await f.data(`{ deploymentRequests { ${fields} } }`)).deploymentRequests as Rows;
    let partial = 0;
    for (const b of blocks) {
      const changed = (await f.data(`{ deploymentRequests(where: { _change_block: { number_gte: ${b} } }) { id } }`)).deploymentRequests as Rows;
      const before = (await f.data(`{ deploymentRequests(block: { number: ${b - 1} }) { ${fields} } }`)).deploymentRequests as Rows;
      const expected = now.filter((r) => JSON.stringify(r) !== JSON.stringify(before.find((x) => x.id === r.id))).map((r) => r.id);
      expect(changed.map((r) => r.id), `changed since block ${b}`).to.deep.equal(expected);
      if (expected.length > 0 && expected.length < now.length) partial++;
    }
    expect(partial, "blocks after which some but not all requests changed").to.be.greaterThan(0);
  });
});
