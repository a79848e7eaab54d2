import { ZeroHash, hexlify, id as keccakText, randomBytes, type JsonRpcProvider, type JsonRpcSigner } from "ethers";
import { deployMarket, type MarketDeployment } from "../../contracts/client/deploy.js";
import { claimKey, signHostKeyProof, signUsageAcceptance, signUsageReport, verdictCommitment } from "../../contracts/client/signing.js";
import { Outcome, type UsageReport } from "../../contracts/client/typed-data.js";

export const TOKEN = 10n ** 18n;
const DAY = 24 * 3600;
export const METERING_VERSION = 1;
/** The scenario's court: a three-seat first round, then the full court; short windows. */
export const COURT = {
  verifierPanel: 3, sampledRounds: 1, commitWindow: 100, revealWindow: 100, appealWindow: 100,
  disputeBond: 10n * TOKEN, seatStake: 20n * TOKEN,
};
/** What the verifiers found the overturned job really did. */
export const TRUTH = { fuelUsed: 123_000_000n, outputHash: keccakText("truth") };

/** The blocks of the dispute's steps, for past-block queries. */
export interface DisputeBlocks {
  opened: number;
  drawn: number;
  committed: number;
  revealed: number;
  tallied: number;
  appealed: number;
  courtRevealed: number;
  closed: number;
  claimed: number;
}

/** Everything a scenario did, to check the indexed entities against. */
export interface Scenario {
  deployment: MarketDeployment;
  signers: { deployer: JsonRpcSigner; consumer: JsonRpcSigner; providerA: JsonRpcSigner; providerB: JsonRpcSigner;
    hostA: JsonRpcSigner; hostB: JsonRpcSigner; agent: JsonRpcSigner; verifiers: JsonRpcSigner[] };
  offers: { a: bigint; b: bigint; bWithdrawn: bigint };
  /** Request ids by what happened to them. */
  ids: { cosigned: bigint; afterWindow: bigint; breached: bigint; overturned: bigint; cancelled: bigint; open: bigint };
  reports: Record<string, UsageReport>;
  /** The overturned request's dispute: the first round's seats (one address per seat) and its steps' blocks. */
  dispute: { seats: string[]; blocks: DisputeBlocks };
}

async function mine(provider: JsonRpcProvider, seconds: number): Promise<void> {
  await provider.send("evm_increaseTime", [seconds]);
  await provider.send("evm_mine", []);
}

async function now(provider: JsonRpcProvider): Promise<number> {
  return (await provider.getBlock("latest"))!.timestamp;
}

function report(agreementId: bigint, fuelUsed: bigint, nonce: bigint): UsageReport {
  return {
    agreementId, fuelUsed, peakMemoryPages: 17, wallMs: 250, outcome: Outcome.Exited, exitCode: 0,
    outputHash: keccakText(`output ${agreementId}`), meteringVersion: METERING_VERSION, nonce,
  };
}

function offer(now: number, overrides: Record<string, unknown> = {}) {
  return {
    provider: "0x0000000000000000000000000000000000000000", pricePerMFuel: TOKEN / 100n, fee: TOKEN / 1000n,
    maxFuel: 10_000_000_000n, memoryMiB: 256, meteringVersion: METERING_VERSION, concurrentJobs: 4, latencyClass: 1,
    expiresAt: now + 30 * DAY, ...overrides,
  };
}

function request(now: number, overrides: Record<string, unknown> = {}) {
  return {
    workloadHash: keccakText("workload"), workloadURI: "file:///tmp/workload.wasm", inputHash: ZeroHash, inputURI: "",
    maxFuel: 1_000_000_000n, maxPricePerMFuel: 5n * TOKEN / 100n, maxFee: TOKEN / 100n, minMemoryMiB: 64,
    allowedTiers: 0b111, region: 1, maxLatencyClass: 3, bidWindow: 60, execTime: 600, deadline: now + 3600,
    meteringVersion: METERING_VERSION, valueAtRisk: 0n, ...overrides,
  };
}

/**
 * Deploys the market on `provider`'s chain and plays every path of the lifecycle: registration,
 * agents, verifiers, offers (published, updated, withdrawn), requests that settle cosigned, settle
 * after the window, breach, get overturned by the verifier court (a colluding first panel upholds
 * the inflated report, the consumer appeals, the full court overturns it, ballots are claimed),
 * get cancelled, one left open with bids, and a model update.
 */
export async function runMarketScenario(provider: JsonRpcProvider): Promise<Scenario> {
  const s = await Promise.all([...Array(12).keys()].map((i) => provider.getSigner(i)));
  const [deployer, consumer, providerA, providerB, hostA, hostB, agent, v1, v2, v3, v4] = s as [
    JsonRpcSigner, JsonRpcSigner, JsonRpcSigner, JsonRpcSigner, JsonRpcSigner, JsonRpcSigner, JsonRpcSigner,
    JsonRpcSigner, JsonRpcSigner, JsonRpcSigner, JsonRpcSigner,
  ];
  const deployment = await deployMarket(deployer, COURT);
  const { token, registry, offers, market, court, models } = deployment;
  const { chainId } = await provider.getNetwork();
  const signing = { chainId, market: deployment.addresses.market };
  const { addresses } = deployment;
  for (const who of [consumer, providerA, providerB, v1, v2, v3, v4]) {
    await (await token.transfer(who.address, 100_000n * TOKEN)).wait();
    for (const spender of [addresses.market, addresses.registry, addresses.court]) {
      await (await token.connect(who).approve(spender, 2n ** 255n)).wait();
    }
  }
  const register = async (owner: JsonRpcSigner, host: JsonRpcSigner, tier: number, region: number, stake: bigint, uri: string) => {
    const proof = await signHostKeyProof(host, chainId, addresses.registry, owner.address);
    await (await registry.connect(owner).register(host.address, tier, region, stake, uri, proof)).wait();
  };

  await register(providerA, hostA, 0, 1, 1000n * TOKEN, "ipfs://provider-a");
  await register(providerB, hostB, 1, 2, 500n * TOKEN, "https://provider-b.example/");
  await (await registry.connect(providerB).authoriseAgent(agent.address, true)).wait();
  await (await registry.connect(providerA).addStake(200n * TOKEN)).wait();
  await (await registry.connect(providerA).setMetadata("ipfs://provider-a-v2")).wait();
  // v3 is a provider too; every verifier stakes in the court's pool, v4 the most.
  await register(v3, v3, 2, 3, 200n * TOKEN, "ipfs://verifier");
  for (const v of [v1, v2, v3]) await (await court.connect(v).stake(100n * TOKEN)).wait();
  await (await court.connect(v4).stake(1000n * TOKEN)).wait();
  await (await court.connect(v1).stake(50n * TOKEN)).wait();

  let t = await now(provider);
  await (await offers.connect(providerA).publish(offer(t))).wait();
  await (await offers.connect(providerB).publish(offer(t, { pricePerMFuel: TOKEN / 50n }))).wait();
  await (await offers.connect(providerB).publish(offer(t, { latencyClass: 2 }))).wait();
  const offerA = 1n;
  const offerB = 2n;
  await (await offers.connect(providerB).update(offerB, offer(t, { pricePerMFuel: TOKEN / 200n, fee: 0n }))).wait();
  await (await offers.connect(providerB).withdraw(3n)).wait();

  const post = async (overrides: Record<string, unknown> = {}) => {
    await (await market.connect(consumer).postRequest(request(await now(provider), overrides))).wait();
    return await market.requestCount();
  };
  const reports: Record<string, UsageReport> = {};

  // 1: two bids, A lowers its bid; the consumer states a value at risk; the auction closes; the report settles cosigned.
  const cosigned = await post({ valueAtRisk: 5n * TOKEN });
  await (await market.connect(providerA).bid(cosigned, offerA, 3n * TOKEN / 100n, TOKEN / 1000n, keccakText("why a"))).wait();
  await (await market.connect(agent).bid(cosigned, offerB, 2n * TOKEN / 100n, TOKEN / 1000n, ZeroHash)).wait();
  await (await market.connect(providerA).bid(cosigned, offerA, TOKEN / 100n, TOKEN / 1000n, keccakText("why a, lower"))).wait();
  await mine(provider, 61);
  await (await market.closeAuction(cosigned)).wait();
  const r1 = (reports[cosigned.toString()] = report(cosigned, 400_000_000n, 1n));
  await (await market.reportAndSettle(r1, await signUsageReport(hostA, signing, r1), await signUsageAcceptance(consumer, signing, r1))).wait();

  // 2: the consumer accepts B's bid early; the report settles after the dispute window.
  const afterWindow = await post({ region: 2 });
  await (await market.connect(agent).bid(afterWindow, offerB, TOKEN / 100n, 0n, keccakText("agent"))).wait();
  await (await market.connect(consumer).acceptBid(afterWindow, providerB.address)).wait();
  const r2 = (reports[afterWindow.toString()] = report(afterWindow, 250_000_000n, 1n));
  await (await market.submitReport(r2, await signUsageReport(hostB, signing, r2))).wait();
  await mine(provider, 3601);
  await (await market.settle(afterWindow)).wait();

  // 3: A wins but never reports: breached after the agreement's deadline.
  t = await now(provider);
  const breached = await post({ execTime: 300, deadline: t + 600 });
  await (await market.connect(providerA).bid(breached, offerA, 2n * TOKEN / 100n, TOKEN / 1000n, ZeroHash)).wait();
  await mine(provider, 61);
  await (await market.closeAuction(breached)).wait();
  await mine(provider, 400);
  await (await market.claimBreach(breached)).wait();

  // 4: B reports an inflated fuel count and the consumer disputes it.
  const overturned = await post();
  await (await market.connect(agent).bid(overturned, offerB, TOKEN / 100n, 0n, ZeroHash)).wait();
  await mine(provider, 61);
  await (await market.closeAuction(overturned)).wait();
  const r4 = (reports[overturned.toString()] = report(overturned, 900_000_000n, 2n));
  await (await market.submitReport(r4, await signUsageReport(hostB, signing, r4))).wait();
  const blockOf = async (tx: Promise<{ wait(): Promise<{ blockNumber: number } | null> }>) => (await (await tx).wait())!.blockNumber;
  const blocks = {} as DisputeBlocks;
  blocks.opened = await blockOf(market.connect(consumer).openDispute(overturned));
  const byAddress = new Map([v1, v2, v3, v4].map((v) => [v.address, v]));
  const vote = async (round: number, voters: JsonRpcSigner[], claim: { fuelUsed: bigint; outputHash: string }) => {
    const sealed: { v: JsonRpcSigner; salt: string }[] = [];
    for (const v of voters) {
      const salt = hexlify(randomBytes(32));
      const commitment = verdictCommitment(chainId, addresses.court, { verifier: v.address, agreementId: overturned, round, ...claim, salt });
      await (await court.connect(v).commitVerdict(overturned, commitment)).wait();
      sealed.push({ v, salt });
    }
    return sealed;
  };
  //    Round 0: three seats drawn by stake; the panel colludes with the provider and confirms its report.
  await provider.send("evm_mine", []);
  const drawReceipt = (await (await court.drawPanel(overturned)).wait())!;
  blocks.drawn = drawReceipt.blockNumber;
  const seats = drawReceipt.logs
    .map((l) => { try { return court.interface.parseLog(l); } catch { return null; } })
    .filter((e) => e?.name === "VerifierDrawn")
    .map((e) => e!.args.verifier as string);
  const panel = [...new Set(seats)].map((a) => byAddress.get(a)!);
  const inflated = { fuelUsed: r4.fuelUsed, outputHash: r4.outputHash };
  const sealed0 = await vote(0, panel, inflated);
  blocks.committed = await provider.getBlockNumber();
  for (const { v, salt } of sealed0) await (await court.connect(v).revealVerdict(overturned, inflated.fuelUsed, inflated.outputHash, salt)).wait();
  blocks.revealed = await provider.getBlockNumber();
  blocks.tallied = await blockOf(court.tallyRound(overturned));
  //    The consumer appeals (twice the bond) to the full court, where every verifier votes by stake and finds the truth.
  blocks.appealed = await blockOf(court.connect(consumer).appeal(overturned));
  const sealed1 = await vote(1, [v1, v2, v3, v4], TRUTH);
  await mine(provider, COURT.commitWindow + 1);
  for (const { v, salt } of sealed1) await (await court.connect(v).revealVerdict(overturned, TRUTH.fuelUsed, TRUTH.outputHash, salt)).wait();
  blocks.courtRevealed = await provider.getBlockNumber();
  await mine(provider, COURT.revealWindow + 1);
  blocks.closed = await blockOf(court.tallyRound(overturned));
  //    Every ballot is claimed: the colluding seats lose their locks to the honest full court.
  for (const v of panel) await (await court.claimBallot(overturned, 0, v.address)).wait();
  for (const v of [v1, v2, v3, v4]) await (await court.claimBallot(overturned, 1, v.address)).wait();
  blocks.claimed = await provider.getBlockNumber();
  if (claimKey(TRUTH.fuelUsed, TRUTH.outputHash) !== (await court.caseOf(overturned)).finalKey) throw new Error("the court did not rule on the truth");

  // 5: cancelled before any bid. 6: open, with bids from both providers. A model update for B.
  const cancelled = await post();
  await (await market.connect(consumer).cancelRequest(cancelled)).wait();
  t = await now(provider);
  const open = await post({ bidWindow: 7 * DAY, deadline: t + 8 * DAY, valueAtRisk: 20n * TOKEN });
  await (await market.connect(providerA).bid(open, offerA, 4n * TOKEN / 100n, TOKEN / 1000n, ZeroHash)).wait();
  await (await market.connect(agent).bid(open, offerB, 3n * TOKEN / 100n, 0n, keccakText("agent on open"))).wait();
  await (await models.connect(agent).publish(providerB.address, keccakText("weights v1"), "https://provider-b.example/models/1", 42n, 1)).wait();

  return {
    deployment,
    signers: { deployer, consumer, providerA, providerB, hostA, hostB, agent, verifiers: [v1, v2, v3, v4] },
    offers: { a: offerA, b: offerB, bWithdrawn: 3n },
    ids: { cosigned, afterWindow, breached, overturned, cancelled, open },
    reports,
    dispute: { seats, blocks },
  };
}
