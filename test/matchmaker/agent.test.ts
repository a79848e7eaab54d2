import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256, toUtf8Bytes, type Provider } from "ethers";
import { marketFixture, registerProvider, postRequest as postBare, TOKEN, type Fixture } from "../helpers/market.js";
import type { RequestParamsStruct } from "../../types/ethers-contracts/TroupeMarket.js";
import { MatchmakerAgent } from "../../services/matchmaker/agent.js";
import { MarketChain } from "../../services/matchmaker/chain.js";
import { ExplanationStore } from "../../services/matchmaker/explanations.js";
import { OnlineTrainer } from "../../services/matchmaker/online-trainer.js";
import { formatWhyNoBid } from "../../services/matchmaker/why-no-bid.js";
import { Tier } from "../../contracts/client/status.js";
import { signUsageAcceptance, signUsageReport } from "../../contracts/client/signing.js";
import { Outcome, type UsageReport } from "../../contracts/client/typed-data.js";
import { smallModel } from "./small-model.js";
import { ContentGate } from "../../services/matchmaker/content-gate.js";
import { ContentStore } from "../../runtime/host/content-store.js";
import { contentFields, publish, sha256Bytes32 } from "./content.js";
import { ExplorerClient } from "../../services/matchmaker/history.js";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";

/** A gate over a fresh store in `dir`: the agent fetches and checks content before it bids. */
function gate(dir: string, published: string, log: (m: string) => void): ContentGate {
  // the agent may read file: URIs where the tests publish, and nowhere else
  return new ContentGate({
    store: new ContentStore(join(dir, "store")), maxModuleBytes: 1 << 20, maxInputBytes: 1 << 20, retryMs: 0, log,
    fetch: { policy: { contentDirs: [published], allowAddresses: [] } },
  });
}

/** Wraps a provider so its first `failures` getLogs calls fail like a dropped connection. */
function flaky(provider: Provider, failures: number): { provider: Provider; failed: () => number } {
  let failed = 0;
  const wrapped = new Proxy(provider, {
    get(target, prop, receiver) {
      if (prop === "getLogs") {
        return async (...args: unknown[]) => {
          if (failed < failures) {
            failed++;
            throw Object.assign(new Error("connect ECONNRESET 127.0.0.1:8545"), { code: "NETWORK_ERROR" });
          }
          return (target.getLogs as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { provider: wrapped, failed: () => failed };
}

describe("matchmaker agent against the market contracts", function () {
  this.timeout(60_000);
  let f: Fixture;
  let dataDir: string;
  let agent: MatchmakerAgent;
  let offerA: bigint;
  let offerB: bigint;
  let rpc: ReturnType<typeof flaky>;
  let trainer: OnlineTrainer;
  const logs: string[] = [];
  let contentDir: string;
  let good: Partial<RequestParamsStruct>;
  /** Posts a request whose module and input are published (the agent checks them before it bids). */
  const postRequest = (fx: Fixture, overrides: Partial<RequestParamsStruct> = {}) => postBare(fx, { ...good, ...overrides });

  before(async () => {
    f = await marketFixture();
    const { registry } = f.deployment;
    // Provider A (the agent's): an edge box with one job slot, floor 0.01 token per Mfuel.
    offerA = await registerProvider(f, f.providerA, f.hostA, {
      tier: Tier.Edge,
      region: 1,
      offer: { pricePerMFuel: TOKEN / 100n, fee: TOKEN / 1000n, concurrentJobs: 1 },
    });
    await (await registry.connect(f.providerA).authoriseAgent(f.agent.address, true)).wait();
    // Provider B: a competitor that bids for itself, and can go cheaper.
    offerB = await registerProvider(f, f.providerB, f.hostB, {
      tier: Tier.Edge,
      region: 1,
      offer: { pricePerMFuel: TOKEN / 400n, fee: TOKEN / 4000n, concurrentJobs: 4 },
    });
    trainer = new OnlineTrainer(smallModel(), { retrainEvery: 1000 });
    dataDir = mkdtempSync(join(tmpdir(), "matchmaker-agent-"));
    contentDir = join(dataDir, "published");
    good = contentFields(contentDir, "good");
    rpc = flaky(f.ethers.provider as unknown as Provider, 2);
    const chain = new MarketChain(rpc.provider, f.deployment.addresses, f.agent, { baseMs: 1, retries: 4 });
    agent = new MatchmakerAgent({
      chain,
      signer: f.agent,
      providers: [f.providerA.address],
      store: new ExplanationStore(dataDir),
      trainer,
      content: gate(dataDir, contentDir, (m) => logs.push(m)),
      startBlock: f.deployment.startBlock,
      log: (m) => logs.push(m),
    });
  });

  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it("bids on an open request through RPC errors, with its explanation stored under the bid's hash", async () => {
    const id = await postRequest(f);
    expect(await agent.tick()).to.equal(1);
    expect(rpc.failed()).to.equal(2);
    const [event] = await f.deployment.market.queryFilter(f.deployment.market.filters.BidPlaced(id));
    expect(event!.args.provider).to.equal(f.providerA.address);
    expect(event!.args.agent).to.equal(f.agent.address);
    expect(event!.args.offerId).to.equal(offerA);
    expect(event!.args.pricePerMFuel).to.be.gte(TOKEN / 100n).and.lte(5n * TOKEN / 100n);
    const hash = event!.args.explanationHash;
    const store = new ExplanationStore(dataDir);
    const text = store.getText(hash)!;
    expect(keccak256(toUtf8Bytes(text))).to.equal(hash);
    const explanation = JSON.parse(text) as { requestId: string; topFactors: { feature: string }[] };
    expect(explanation.requestId).to.equal(id.toString());
    expect(explanation.topFactors).to.have.length.greaterThan(0);
    // The next tick does not bid again on the same request.
    expect(await agent.tick()).to.equal(0);
  });

  it("wins the request when nobody bids lower", async () => {
    await f.networkHelpers.time.increase(61);
    await (await f.deployment.market.closeAuction(1n)).wait();
    const r = await f.deployment.market.request(1n);
    expect(r.winner).to.equal(f.providerA.address);
  });

  it("respects capacity: the offer's only slot is running request 1, so it does not bid", async () => {
    const id = await postRequest(f);
    expect(await agent.tick()).to.equal(0);
    const why = await agent.whyNoBid(id);
    const d = why.decisions.find((x) => x.offerId === offerA)!;
    expect(d.kind).to.equal("constraint");
    expect(d.kind === "constraint" && d.code).to.equal("capacity");
    expect(formatWhyNoBid(why)).to.match(/constraint capacity/);
    // Let it expire unbid, so it holds no slot in the next test.
    await f.networkHelpers.time.increase(61);
    await (await f.deployment.market.closeAuction(id)).wait();
  });

  it("loses a request to a cheaper competitor", async () => {
    // Free provider A's slot: its host reports request 1 and the consumer cosigns, so it settles.
    const report: UsageReport = {
      agreementId: 1n, fuelUsed: 400_000_000n, peakMemoryPages: 3, wallMs: 900, outcome: Outcome.Exited,
      exitCode: 0, outputHash: keccak256("0x01"), meteringVersion: 1, nonce: 1n,
    };
    const hostSig = await signUsageReport(f.hostA, f.signing, report);
    const consumerSig = await signUsageAcceptance(f.consumer, f.signing, report);
    await (await f.deployment.market.reportAndSettle(report, hostSig, consumerSig)).wait();
    const id = await postRequest(f);
    expect(await agent.tick()).to.be.greaterThan(0);
    expect(trainer.samples).to.equal(1); // the settled agreement became a training outcome
    const bidA = await f.deployment.market.bidOf(id, f.providerA.address);
    expect(bidA.offerId).to.not.equal(0n);
    // Provider B undercuts: below provider A's floor, so A cannot follow.
    await (await f.deployment.market.connect(f.providerB).bid(id, offerB, TOKEN / 400n, TOKEN / 4000n, keccak256("0x02"))).wait();
    await f.networkHelpers.time.increase(61);
    await (await f.deployment.market.closeAuction(id)).wait();
    expect((await f.deployment.market.request(id)).winner).to.equal(f.providerB.address);
  });

  it("never bids once the window has closed, and says so", async () => {
    const id = await postRequest(f, { bidWindow: 30 });
    await f.networkHelpers.time.increase(31);
    expect(await agent.tick()).to.equal(0);
    expect((await f.deployment.market.bidOf(id, f.providerA.address)).offerId).to.equal(0n);
    const why = await agent.whyNoBid(id);
    expect(why.decisions.every((d) => d.kind === "constraint" && d.code === "window-closed")).to.equal(true);
  });

  it("explains a tier it cannot serve", async () => {
    const id = await postRequest(f, { allowedTiers: 0b001 });
    expect(await agent.tick()).to.equal(0);
    const why = await agent.whyNoBid(id);
    const d = why.decisions[0]!;
    expect(d.kind === "constraint" && d.code).to.equal("tier");
    expect(d.reason).to.match(/edge is not in the allowed tiers/);
  });

  it("with one free slot and two open requests, bids on the one that earns more", async () => {
    const small = await postRequest(f, { maxFuel: 100_000_000n });
    const large = await postRequest(f, { maxFuel: 2_000_000_000n });
    expect(await agent.tick()).to.equal(1);
    expect((await f.deployment.market.bidOf(large, f.providerA.address)).offerId).to.not.equal(0n);
    expect((await f.deployment.market.bidOf(small, f.providerA.address)).offerId).to.equal(0n);
    const why = await agent.whyNoBid(small);
    expect(why.decisions[0]).to.include({ kind: "constraint", code: "capacity" });
  });

  it("keeps the slot of an undercut bid until its window closes (the consumer may still accept it), then bids elsewhere", async () => {
    const large = await f.deployment.market.requestCount();
    const small = large - 1n;
    await (await f.deployment.market.connect(f.providerB).bid(large, offerB, TOKEN / 400n, TOKEN / 4000n, keccak256("0x03"))).wait();
    expect(await agent.tick()).to.equal(0);
    // Past the window (nobody closed the auction yet) the undercut bid can no longer win.
    const r = await f.deployment.market.request(large);
    await f.networkHelpers.time.increaseTo(r.bidWindowEnd);
    const next = await postRequest(f);
    expect(await agent.tick()).to.equal(1);
    expect((await f.deployment.market.bidOf(next, f.providerA.address)).offerId).to.not.equal(0n);
    expect((await f.deployment.market.bidOf(small, f.providerA.address)).offerId).to.equal(0n); // its window closed too
  });

  it("does not bid where a competitor already bids lower than it would, and says why", async () => {
    // Free A's slot: its last bid is undercut and that window has closed.
    const previous = await f.deployment.market.requestCount();
    await (await f.deployment.market.connect(f.providerB).bid(previous, offerB, TOKEN / 400n, TOKEN / 4000n, keccak256("0x04"))).wait();
    await f.networkHelpers.time.increaseTo((await f.deployment.market.request(previous)).bidWindowEnd);
    const id = await postRequest(f);
    await (await f.deployment.market.connect(f.providerB).bid(id, offerB, TOKEN / 400n, TOKEN / 4000n, keccak256("0x05"))).wait();
    expect(await agent.tick()).to.equal(0);
    expect((await f.deployment.market.bidOf(id, f.providerA.address)).offerId).to.equal(0n);
    const why = await agent.whyNoBid(id);
    expect(why.summary).to.match(new RegExp(`${f.providerB.address.toLowerCase()} already bids .*passes over the better one`));
    // Without B's bid it would have bid: a request of the same shape gets A's bid.
    const other = await postRequest(f);
    expect(await agent.tick()).to.equal(1);
    expect((await f.deployment.market.bidOf(other, f.providerA.address)).offerId).to.not.equal(0n);
  });

  it("records a bid the chain refuses and does not send it again", async () => {
    const { registry, market } = f.deployment;
    // Free A's slot (its last bid undercut, that window closed), then take its agent's authority away.
    const previous = await market.requestCount();
    await (await market.connect(f.providerB).bid(previous, offerB, TOKEN / 400n, TOKEN / 4000n, keccak256("0x06"))).wait();
    await f.networkHelpers.time.increaseTo((await market.request(previous)).bidWindowEnd);
    await (await registry.connect(f.providerA).authoriseAgent(f.agent.address, false)).wait();
    try {
      const id = await postRequest(f);
      expect(await agent.tick()).to.equal(0);
      expect(agent.refused.get(id)).to.match(/UnauthorisedAgent/);
      const why = await agent.whyNoBid(id);
      expect(why.summary).to.match(/refused on chain/);
      expect(await agent.tick()).to.equal(0);
      expect(logs.filter((l) => l.startsWith(`bid on request ${id} refused`))).to.have.length(1);
    } finally {
      await (await registry.connect(f.providerA).authoriseAgent(f.agent.address, true)).wait();
    }
  });

  it("bids only on content it fetched and checked: a missing module or a mismatched input gets no bid, a good request does", async () => {
    const { market } = f.deployment;
    // Free A's slot: its last bid is undercut and that window has closed.
    const previous = await market.requestCount();
    await (await market.connect(f.providerB).bid(previous, offerB, TOKEN / 400n, TOKEN / 4000n, keccak256("0x07"))).wait();
    await f.networkHelpers.time.increaseTo((await market.request(previous)).bidWindowEnd);
    // A module that is not where the request says (published, then gone), and an input that is not what its hash names.
    const gone = contentFields(contentDir, "gone");
    rmSync(new URL(gone.workloadURI));
    const missing = await postRequest(f, gone);
    const other = publish(contentDir, "other.input", new TextEncoder().encode("not the input the hash names"));
    const mismatched = await postRequest(f, { ...contentFields(contentDir, "mismatched"), inputURI: other.uri });
    // An empty module is no module (the host would report it unavailable): its hash matches, but no bid.
    const nothing = publish(contentDir, "nothing.wasm", new Uint8Array());
    const empty = await postRequest(f, { ...contentFields(contentDir, "empty"), workloadHash: nothing.hash, workloadURI: nothing.uri });
    const ok = await postRequest(f, contentFields(contentDir, "fresh"));
    expect(await agent.tick()).to.equal(1);
    expect((await market.bidOf(ok, f.providerA.address)).offerId).to.equal(offerA);
    for (const id of [missing, mismatched, empty]) expect((await market.bidOf(id, f.providerA.address)).offerId).to.equal(0n);
    expect(logs.find((l) => l.startsWith(`request ${missing} skipped: the module cannot be fetched and checked`))).to.match(/gone\.wasm|ENOENT/);
    expect(logs.find((l) => l.startsWith(`request ${mismatched} skipped: the input cannot be fetched and checked`))).to.match(/hash mismatch/);
    expect(logs.find((l) => l.startsWith(`request ${empty} skipped: the module cannot be fetched and checked`))).to.match(/the module is empty/);
    expect((await agent.whyNoBid(missing)).summary).to.match(/no bid on content that cannot be run: the module/);
  });

  it("ranks by the contract's expected cost: its view of the best bid is what the contract computes", async () => {
    const { market } = f.deployment;
    const id = await postRequest(f, { valueAtRisk: 30n * TOKEN });
    await (await market.connect(f.providerB).bid(id, offerB, TOKEN / 400n, TOKEN / 4000n, keccak256("0x09"))).wait();
    await agent.sync();
    const best = agent.state.open.get(id)!.best!;
    expect(best.provider).to.equal(f.providerB.address.toLowerCase());
    expect(best.score).to.equal(await market.expectedCostOf(id, f.providerB.address));
    expect(best.score).to.be.greaterThan(best.total); // the value at risk weighs B's failure rate
  });

  it("does not bid from an offer of another metering version", async () => {
    const id = await postRequest(f, { meteringVersion: 2 });
    expect(await agent.tick()).to.equal(0);
    const why = await agent.whyNoBid(id);
    expect(why.decisions.find((d) => d.offerId === offerA)).to.include({ kind: "constraint", code: "metering" });
  });

  it("skips a request whose reserve (penalty + dispute bond) the provider's free stake cannot cover", async () => {
    const { registry } = f.deployment;
    // A provider with the minimum stake, 100 tokens: a bid of 100 tokens reserves 100 + a 10-token bond.
    const offerC = await registerProvider(f, f.outsider, f.verifiers[0]!, { tier: Tier.Edge, region: 1, stake: 100n * TOKEN });
    expect((await registry.bidderProfile(f.outsider.address, f.outsider.address)).freeStake).to.equal(100n * TOKEN);
    const small = mkdtempSync(join(tmpdir(), "matchmaker-agent-c-"));
    try {
      const agentC = new MatchmakerAgent({
        chain: new MarketChain(f.ethers.provider as unknown as Provider, f.deployment.addresses, f.outsider),
        signer: f.outsider,
        providers: [f.outsider.address],
        store: new ExplanationStore(small),
        trainer: new OnlineTrainer(smallModel(), { retrainEvery: 1000 }),
        content: gate(small, contentDir, () => {}),
        startBlock: f.deployment.startBlock,
        log: () => {},
      });
      const large = await postRequest(f, { maxFuel: 10_000_000_000n });
      const fits = await postRequest(f, { maxFuel: 1_000_000_000n });
      // With slots and stake to spare, missing content is still no bid (a floor bid on it would reserve ~20 of the ~40 left).
      const gone = contentFields(contentDir, "gone-c");
      rmSync(new URL(gone.workloadURI));
      const missing = await postRequest(f, { ...gone, maxFuel: 1_000_000_000n });
      expect(await agentC.tick()).to.equal(1);
      expect((await f.deployment.market.bidOf(missing, f.outsider.address)).offerId).to.equal(0n);
      expect((await agentC.whyNoBid(missing)).summary).to.match(/no bid on content that cannot be run/);
      expect((await f.deployment.market.bidOf(fits, f.outsider.address)).offerId).to.equal(offerC);
      expect((await f.deployment.market.bidOf(large, f.outsider.address)).offerId).to.equal(0n);
      const d = (await agentC.whyNoBid(large)).decisions.find((x) => x.offerId === offerC)!;
      expect(d).to.include({ kind: "constraint", code: "stake" });
      expect(d.reason).to.match(/free stake .* does not cover/);
    } finally {
      rmSync(small, { recursive: true, force: true });
    }
  });

  /**
   * A provider with 64 job slots and its own agent, bidding for it alone; `run` gets the agent,
   * and its data directory is removed afterwards.
   */
  async function withAmpleProvider(
    [owner, host]: [HardhatEthersSigner, HardhatEthersSigner],
    options: { allowLocalHttp?: boolean; explorer?: ExplorerClient; log?: (m: string) => void },
    run: (agent: MatchmakerAgent, offerId: bigint) => Promise<void>,
  ): Promise<void> {
    const offerId = await registerProvider(f, owner, host, {
      tier: Tier.Edge, region: 1, stake: 5_000n * TOKEN, offer: { pricePerMFuel: TOKEN / 100n, fee: TOKEN / 1000n, concurrentJobs: 64 },
    });
    const dir = mkdtempSync(join(tmpdir(), "matchmaker-agent-ample-"));
    const log = options.log ?? (() => {});
    try {
      const content = options.allowLocalHttp
        ? new ContentGate({
          store: new ContentStore(join(dir, "store")), maxModuleBytes: 1 << 20, maxInputBytes: 1 << 20, retryMs: 0, log,
          fetch: { policy: { contentDirs: [contentDir], allowAddresses: ["127.0.0.0/8"] } },
        })
        : gate(dir, contentDir, log);
      const agent = new MatchmakerAgent({
        chain: new MarketChain(f.ethers.provider as unknown as Provider, f.deployment.addresses, owner),
        signer: owner,
        providers: [owner.address],
        store: new ExplanationStore(dir),
        trainer: new OnlineTrainer(smallModel(), { retrainEvery: 1000 }),
        content,
        startBlock: f.deployment.startBlock,
        log,
        ...(options.explorer ? { explorer: options.explorer } : {}),
      });
      await run(agent, offerId);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("bids in one tick on every request of a burst larger than a batch, nonces in order across the batches", async () => {
    const owner = f.verifiers[1]!;
    await withAmpleProvider([owner, f.verifiers[2]!], {}, async (agentD, offerD) => {
      // More than two batches' worth, all open at once.
      const burst: bigint[] = [];
      for (let i = 0; i < 37; i++) burst.push(await postRequest(f));
      expect(await agentD.tick()).to.be.at.least(37);
      const blocks = new Set<number>();
      for (const id of burst) {
        const [bid] = await f.deployment.market.queryFilter(f.deployment.market.filters.BidPlaced(id, owner.address));
        expect(bid, `a bid on request ${id}`).to.not.equal(undefined);
        expect(bid!.args.offerId).to.equal(offerD);
        blocks.add(bid!.blockNumber);
      }
      // The node mines each transaction on arrival: 37 bids, 37 blocks, nonces in order.
      expect(blocks.size).to.equal(37);
      expect(await agentD.tick()).to.equal(0);
    });
  });

  it("with a slot for every request, bids first on the one whose window closes first, not the one that earns more", async () => {
    const owner = f.signers[11]!;
    await withAmpleProvider([owner, f.signers[12]!], {}, async (agentE) => {
      const large = await postRequest(f, { maxFuel: 1_000_000_000n, bidWindow: 120 });
      const small = await postRequest(f, { maxFuel: 100_000_000n, bidWindow: 30 });
      expect(await agentE.tick()).to.be.at.least(2);
      const blockOf = async (id: bigint) => (await f.deployment.market.queryFilter(f.deployment.market.filters.BidPlaced(id, owner.address)))[0]!.blockNumber;
      expect(await blockOf(small)).to.be.lessThan(await blockOf(large));
    });
  });

  it("among windows that close together, bids first where no rival has bid yet", async () => {
    const owner = f.signers[17]!;
    await withAmpleProvider([owner, f.signers[18]!], {}, async (agentH) => {
      // Six requests whose windows close at the same second; a rival bids, dearly, on three of them.
      const ids = [await postRequest(f, { bidWindow: 90 })];
      const end = (await f.deployment.market.request(ids[0]!)).bidWindowEnd;
      for (let i = 1; i < 6; i++) {
        const at = (await f.networkHelpers.time.latest()) + 1;
        await f.networkHelpers.time.setNextBlockTimestamp(at);
        ids.push(await postRequest(f, { bidWindow: Number(end) - at }));
      }
      for (const id of ids) expect((await f.deployment.market.request(id)).bidWindowEnd).to.equal(end);
      const covered = [ids[0]!, ids[2]!, ids[4]!];
      for (const id of covered) {
        await (await f.deployment.market.connect(f.providerB).bid(id, offerB, 5n * TOKEN / 100n, TOKEN / 100n, keccak256("0x0a"))).wait();
      }
      await agentH.tick();
      const blockOf = async (id: bigint) => (await f.deployment.market.queryFilter(f.deployment.market.filters.BidPlaced(id, owner.address)))[0]?.blockNumber;
      const uncovered = await Promise.all(ids.filter((id) => !covered.includes(id)).map(blockOf));
      const undercut = await Promise.all(covered.map(blockOf));
      expect(uncovered.every((b) => b !== undefined), "a bid on every request nobody had bid on").to.equal(true);
      expect(undercut.every((b) => b !== undefined), "and an undercutting one on the others").to.equal(true);
      expect(Math.max(...(uncovered as number[]))).to.be.lessThan(Math.min(...(undercut as number[])));
    });
  });

  it("does not bid on a request whose window came within its margin while the tick fetched its content", async () => {
    const owner = f.signers[13]!;
    // The input is served over HTTP, 2.5 s late: the window (4 s, margin 2 s) is open when the tick
    // starts and within the margin when the content is checked.
    const input = new TextEncoder().encode("input served late");
    const server = createServer((_req, res) => void setTimeout(() => res.end(input), 2_500));
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const lines: string[] = [];
    try {
      await withAmpleProvider([owner, f.signers[14]!], { allowLocalHttp: true, log: (m) => lines.push(m) }, async (agentF) => {
        const { port } = server.address() as AddressInfo;
        const id = await postRequest(f, { bidWindow: 4, inputHash: sha256Bytes32(input), inputURI: `http://127.0.0.1:${port}/input` });
        await agentF.tick();
        expect(await f.deployment.market.queryFilter(f.deployment.market.filters.BidPlaced(id, owner.address))).to.have.length(0);
        // Not sent and refused: never sent.
        expect(agentF.refused.has(id)).to.equal(false);
        expect(lines.join("\n")).to.match(/[1-9]\d* of this tick's \d+ requests not bid on: their windows closed/);
      });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("bids while the explorer has not answered: the providers' records are read beside the ticks", async () => {
    const owner = f.signers[15]!;
    // An explorer that takes every query and answers none until the test ends.
    const pending: ServerResponse[] = [];
    const server = createServer((_req, res) => void pending.push(res));
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    try {
      const { port } = server.address() as AddressInfo;
      const explorer = new ExplorerClient(`http://127.0.0.1:${port}/graphql`, 120_000);
      await withAmpleProvider([owner, f.signers[16]!], { explorer }, async (agentG) => {
        const id = await postRequest(f);
        expect(await agentG.tick()).to.equal(1);
        expect((await f.deployment.market.bidOf(id, owner.address)).offerId).to.not.equal(0n);
        expect(pending.length, "the explorer was asked").to.equal(1);
        expect(pending[0]!.writableEnded, "and has not answered").to.equal(false);
      });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe("matchmaker agents whose stake cannot take a whole burst", function () {
  this.timeout(60_000);

  it("spread over alike requests: two agents bid on different ones, so that together they leave fewer unbid", async () => {
    const f = await marketFixture();
    const dir = mkdtempSync(join(tmpdir(), "matchmaker-agent-spread-"));
    const published = join(dir, "published");
    const good = contentFields(published, "good");
    try {
      // Each provider stakes the minimum (100 tokens): a bid here reserves about 20 (the price plus the dispute bond), so each can hold 5 bids.
      const agents = [] as { agent: MatchmakerAgent; owner: HardhatEthersSigner }[];
      for (const [i, [owner, host]] of ([[f.providerA, f.hostA], [f.providerB, f.hostB]] as const).entries()) {
        await registerProvider(f, owner, host, { tier: Tier.Edge, region: 1, stake: 100n * TOKEN, offer: { pricePerMFuel: TOKEN / 100n, fee: TOKEN / 1000n, concurrentJobs: 64 } });
        const agent = new MatchmakerAgent({
          chain: new MarketChain(f.ethers.provider as unknown as Provider, f.deployment.addresses, owner),
          signer: owner, providers: [owner.address], store: new ExplanationStore(join(dir, `agent-${i}`)),
          trainer: new OnlineTrainer(smallModel(), { retrainEvery: 1000 }), content: gate(join(dir, `agent-${i}`), published, () => {}),
          startBlock: f.deployment.startBlock, log: () => {},
        });
        agents.push({ agent, owner });
      }
      const burst: bigint[] = [];
      for (let i = 0; i < 8; i++) burst.push(await postBare(f, good));
      // They bid at the same time, each not yet seeing the other's bids (which would steer it elsewhere).
      await Promise.all(agents.map(({ agent }) => agent.tick()));
      const bidBy = new Map<string, Set<bigint>>();
      for (const { owner } of agents) {
        const mine = new Set<bigint>();
        for (const id of burst) if ((await f.deployment.market.bidOf(id, owner.address)).offerId !== 0n) mine.add(id);
        expect(mine.size, "what the stake holds").to.be.within(3, 6);
        bidBy.set(owner.address, mine);
      }
      const [a, b] = [...bidBy.values()] as [Set<bigint>, Set<bigint>];
      const covered = new Set([...a, ...b]);
      expect(covered.size, `requests bid on by either agent (${[...a]} and ${[...b]})`).to.be.greaterThan(Math.max(a.size, b.size));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
