import { expect } from "chai";
import { ZeroHash } from "ethers";
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
    const { market, registry, offers, court } = f.scenario.deployment;
    const providerAddresses = [f.scenario.signers.providerA, f.scenario.signers.providerB, ...f.scenario.signers.verifiers].map((s) => s.address.toLowerCase());
    let compared = 0;
    for (const b of blocks) {
      const d = await f.data(`query ($b: Int!) {
        deploymentRequests(first: 1000, block: { number: $b }) { id status bidCount agreement { id status } }
        providers(first: 1000, block: { number: $b }) { id stake unbonding verifier openAgreements exposure completed breached disputesWon disputesLost completedValue failedValue failureBps reputation }
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
          verifier: (await court.verifierOf(address, { blockTag: b })).stake > 0n,
          openAgreements: Number(onChain.openAgreements),
          exposure: onChain.exposure.toString(),
          completedValue: onChain.completedValue.toString(),
          failedValue: onChain.failedValue.toString(),
          failureBps: Number(await registry.failureBpsOf(address, { blockTag: b })),
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
    expect(compared).to.be.greaterThan(60);
    // The history really differs between the blocks compared.
    const statuses = await Promise.all(blocks.map(async (b) => JSON.stringify((await f.data(`{ deploymentRequests(block: { number: ${b} }) { status } }`)).deploymentRequests)));
    expect(new Set(statuses).size).to.be.greaterThan(3);
  });

  it("answers the dispute, its rounds, ballots and the verifiers' stakes as the court held them at every step", async () => {
    const { court } = f.scenario.deployment;
    const id = f.scenario.ids.overturned;
    const steps = f.scenario.dispute.blocks;
    const verifiers = f.scenario.signers.verifiers.map((v) => v.address);
    const phases: string[] = [];
    for (const [step, b] of Object.entries(steps)) {
      for (const at of [b - 1, b]) {
        const d = await f.data(`query ($id: ID!, $b: Int!) {
          dispute(id: $id, block: { number: $b }) { round phase ruling resolved
            rounds(orderBy: round) { round committedVotes revealedVotes tallied decidedKey bond appellant commitDeadline }
            ballots(first: 100) { id roundNumber votes committed revealed claimed claimKey } }
          verifiers(block: { number: $b }) { id stake seats }
        }`, { id: id.toString(), b: at });
        const caseOnChain = await court.caseOf(id, { blockTag: at });
        const dispute = d.dispute as { round: number; phase: string; ruling: string | null; rounds: Rows; ballots: Rows } | null;
        if (caseOnChain.provider === "0x0000000000000000000000000000000000000000") {
          expect(dispute, `no dispute before it opened (${step}, block ${at})`).to.equal(null);
          continue;
        }
        expect(dispute, `${step} at block ${at}`).to.not.equal(null);
        phases.push(dispute!.phase);
        expect(dispute!.round, `${step} at block ${at}`).to.equal(Number(caseOnChain.round));
        expect(dispute!.ruling ?? "None").to.equal(["None", "Upheld", "Overturned", "ContentWithheld", "Void"][Number(caseOnChain.ruling)]);
        expect(dispute!.rounds).to.have.length(Number(caseOnChain.round) + 1);
        for (const r of dispute!.rounds) {
          const rd = await court.roundOf(id, r.round as number, { blockTag: at });
          expect(r, `round ${r.round} at ${step} (block ${at})`).to.deep.include({
            committedVotes: rd.committedVotes.toString(), revealedVotes: rd.revealedVotes.toString(), tallied: rd.tallied,
            bond: rd.bond.toString(), commitDeadline: rd.commitDeadline === 0n ? null : rd.commitDeadline.toString(),
            decidedKey: rd.decidedKey === ZeroHash ? null : rd.decidedKey,
          });
        }
        for (const ballot of dispute!.ballots) {
          const [, , verifier] = (ballot.id as string).split("-");
          const chain = await court.ballotOf(id, ballot.roundNumber as number, verifier!, { blockTag: at });
          expect(ballot, `ballot ${ballot.id} at ${step} (block ${at})`).to.deep.include({
            votes: chain.votes.toString(), committed: chain.committed, revealed: chain.revealed, claimed: chain.claimed,
            claimKey: chain.key === ZeroHash ? null : chain.key,
          });
        }
        const stakes = new Map((d.verifiers as Rows).map((v) => [v.id as string, v.stake as string]));
        for (const v of verifiers) {
          expect(stakes.get(v.toLowerCase()) ?? "0", `stake of ${v} at ${step} (block ${at})`).to.equal((await court.verifierOf(v, { blockTag: at })).stake.toString());
        }
      }
    }
    expect(new Set(phases)).to.include.members(["Drawing", "Committing", "Revealing", "Appealable", "Closed"]);
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
