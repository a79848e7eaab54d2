/**
 * The consumer's own agent against the market contracts: it reads the live bids, their offers
 * and the providers' records from the chain, scores them with the brain.js model, stores its
 * explanation under the hash it returns, and the bid it names is the one the consumer accepts.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256, toUtf8Bytes, type Provider } from "ethers";
import { marketFixture, registerProvider, postRequest, TOKEN, type Fixture } from "../helpers/market.js";
import { ConsumerAgent } from "../../services/matchmaker/consumer-agent.js";
import { ExplanationStore } from "../../services/matchmaker/explanations.js";
import type { Predictor } from "../../services/matchmaker/evaluate.js";
import { Tier } from "../../contracts/client/status.js";
import { smallModel } from "./small-model.js";
import { expectNear } from "./near.js";

describe("the consumer's agent against the market contracts", function () {
  this.timeout(60_000);
  let f: Fixture;
  let dir: string;
  let offerA: bigint;
  let offerB: bigint;

  before(async () => {
    f = await marketFixture();
    offerA = await registerProvider(f, f.providerA, f.hostA, { tier: Tier.Edge, region: 1, offer: { pricePerMFuel: TOKEN / 100n, fee: TOKEN / 1000n } });
    offerB = await registerProvider(f, f.providerB, f.hostB, { tier: Tier.Cloud, region: 1, offer: { pricePerMFuel: TOKEN / 200n, fee: TOKEN / 2000n, latencyClass: 2 } });
    dir = mkdtempSync(join(tmpdir(), "consumer-agent-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const agentWith = (model: Predictor & { file?: { trainedOn: number } }) =>
    new ConsumerAgent({ provider: f.ethers.provider as unknown as Provider, addresses: f.deployment.addresses, model, store: new ExplanationStore(dir, "consumer-choices") });

  it("scores every live bid with the model, stores its explanation under the returned hash, and its choice can be accepted", async () => {
    const id = await postRequest(f);
    const { market } = f.deployment;
    await (await market.connect(f.providerA).bid(id, offerA, TOKEN / 50n, TOKEN / 1000n, keccak256("0x01"))).wait();
    await (await market.connect(f.providerB).bid(id, offerB, TOKEN / 100n, TOKEN / 1000n, keccak256("0x02"))).wait();
    // B replaces its bid with a cheaper one: the agent scores the live one.
    await (await market.connect(f.providerB).bid(id, offerB, TOKEN / 120n, TOKEN / 1000n, keccak256("0x03"))).wait();
    const agent = agentWith(smallModel());
    const bids = await agent.liveBids(id, 0);
    expect(bids.map((b) => b.provider)).to.have.members([f.providerA.address, f.providerB.address]);
    const b = bids.find((x) => x.provider === f.providerB.address)!;
    // B's replacement is its live bid, and it came after A's: second in the rule's tie order.
    expect(b.seq).to.equal(2);
    expect(b.failureBps).to.equal(1_000); // a newcomer: the registry's prior
    expect(b.ruleCostWei).to.equal(await market.expectedCostOf(id, f.providerB.address));
    expectNear(b.pricePerMFuel, Number(TOKEN / 120n) / 1e18, 1e-15);
    expect(b.offer).to.include({ tier: Tier.Cloud, latencyClass: 2, region: 1 });

    const d = await agent.decide(id, { valueAtRisk: 40, expectedFuel: 8e8 });
    expect(d.provider).to.be.oneOf([f.providerA.address, f.providerB.address]);
    const text = new ExplanationStore(dir, "consumer-choices").getText(d.explanationHash!)!;
    expect(keccak256(toUtf8Bytes(text))).to.equal(d.explanationHash);
    const e = JSON.parse(text) as { format: string; requestId: string; chosen: string; bids: { pMet: number; expectedWelfare: number }[]; valueAtRisk: number };
    expect(e).to.include({ format: "troupe-consumer-choice/1", requestId: id.toString(), mode: "auto", chosen: d.provider, valueAtRisk: 40 });
    expect(e.bids).to.have.length(2);
    expect(e.bids[0]!.expectedWelfare).to.be.at.least(e.bids[1]!.expectedWelfare);
    expect(d.summary).to.match(new RegExp(`chose bid \\d of ${d.provider}: P\\(SLA met\\)`));

    await (await market.connect(f.consumer).acceptBid(id, d.provider!)).wait();
    expect((await market.request(id)).winner).to.equal(d.provider);
  });

  it("picks the provider the model trusts over a cheaper one, against the contract's rule of the lowest total", async () => {
    const id = await postRequest(f);
    const { market } = f.deployment;
    await (await market.connect(f.providerA).bid(id, offerA, TOKEN / 50n, TOKEN / 1000n, keccak256("0x04"))).wait();
    await (await market.connect(f.providerB).bid(id, offerB, TOKEN / 200n, TOKEN / 2000n, keccak256("0x05"))).wait();
    const trusting: Predictor = {
      predictBatch: (cs) => Float64Array.from(cs.flatMap((c) => [c.offer.provider === f.providerA.address ? 0.99 : 0.5, 0.5])),
      explain: () => [],
    };
    const d = await agentWith(trusting).decide(id, { valueAtRisk: 100 });
    expect(d.provider).to.equal(f.providerA.address);
    expect((await market.request(id)).winner).to.equal(f.providerB.address); // what the rule alone would award
  });

  it("in rule mode picks what the contract's award rule would: expected cost with the request's value at risk, then the earlier bid", async () => {
    const { market, registry } = f.deployment;
    // A value at risk of 200 tokens: B's failure rate now weighs more than its lower price.
    const id = await postRequest(f, { valueAtRisk: 200n * TOKEN });
    await (await market.connect(f.providerA).bid(id, offerA, TOKEN / 100n, TOKEN / 1000n, keccak256("0x06"))).wait();
    await (await market.connect(f.providerB).bid(id, offerB, TOKEN / 110n, TOKEN / 1000n, keccak256("0x07"))).wait();
    const trustsA: Predictor = {
      predictBatch: (cs) => Float64Array.from(cs.flatMap((c) => [c.offer.provider === f.providerA.address ? 0.99 : 0.5, 0.5])),
      explain: () => [],
    };
    const agent = agentWith(trustsA); // the model would pick A: the rule mode does not ask it
    const byRule = await agent.decide(id, { valueAtRisk: 1 }, 0, "rule");
    // Both are newcomers at the prior rate, so the lower total wins by the rule: B.
    expect(await registry.failureBpsOf(f.providerA.address)).to.equal(await registry.failureBpsOf(f.providerB.address));
    expect(byRule.provider).to.equal(f.providerB.address);
    expect(byRule.explanation).to.include({ mode: "rule", ruleChoice: f.providerB.address });
    // The rule weighs the request's own value at risk as the contract stores it (escrow x bps), whatever the consumer says.
    expect(byRule.explanation.valueAtRisk).to.equal(Number(await market.valueAtRiskOf(id)) / 1e18);
    const costs = byRule.explanation.bids.map((b) => b.ruleExpectedCost!);
    expect(costs[0]).to.be.lessThan(costs[1]!);
    expect(byRule.summary).to.match(/by the award rule: expected cost/);
    // Closing the auction awards the same bid.
    await f.networkHelpers.time.increase(61);
    await (await market.closeAuction(id)).wait();
    expect((await market.request(id)).winner).to.equal(byRule.provider);
  });

  it("names no bid when there is none", async () => {
    const id = await postRequest(f);
    const d = await agentWith(smallModel()).decide(id, { valueAtRisk: 10 });
    expect(d.provider).to.equal(undefined);
    expect(d.summary).to.match(/no bids to choose from/);
  });
});
