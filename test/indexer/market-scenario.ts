import { ZeroHash, id as keccakText, type JsonRpcProvider, type JsonRpcSigner } from "ethers";
import { deployMarket, type MarketDeployment } from "../../contracts/client/deploy.js";
import { signUsageAcceptance, signUsageReport, signVerdict } from "../../contracts/client/signing.js";
import { Outcome, type UsageReport } from "../../contracts/client/typed-data.js";

export const TOKEN = 10n ** 18n;
const DAY = 24 * 3600;

/** Everything a scenario did, to check the indexed entities against. */
export interface Scenario {
  deployment: MarketDeployment;
  signers: { deployer: JsonRpcSigner; consumer: JsonRpcSigner; providerA: JsonRpcSigner; providerB: JsonRpcSigner;
    hostA: JsonRpcSigner; hostB: JsonRpcSigner; agent: JsonRpcSigner; verifiers: JsonRpcSigner[] };
  offers: { a: bigint; b: bigint; bWithdrawn: bigint };
  /** Request ids by what happened to them. */
  ids: { cosigned: bigint; afterWindow: bigint; breached: bigint; overturned: bigint; cancelled: bigint; open: bigint };
  reports: Record<string, UsageReport>;
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
    outputHash: keccakText(`output ${agreementId}`), meteringVersion: 1, nonce,
  };
}

function offer(now: number, overrides: Record<string, unknown> = {}) {
  return {
    provider: "0x0000000000000000000000000000000000000000", pricePerMFuel: TOKEN / 100n, fee: TOKEN / 1000n,
    maxFuel: 10_000_000_000n, memoryMiB: 256, concurrentJobs: 4, latencyClass: 1, expiresAt: now + 30 * DAY, ...overrides,
  };
}

function request(now: number, overrides: Record<string, unknown> = {}) {
  return {
    workloadHash: keccakText("workload"), workloadURI: "file:///tmp/workload.wasm", inputHash: ZeroHash, inputURI: "",
    maxFuel: 1_000_000_000n, maxPricePerMFuel: 5n * TOKEN / 100n, maxFee: TOKEN / 100n, minMemoryMiB: 64,
    allowedTiers: 0b111, region: 1, maxLatencyClass: 3, bidWindow: 60, deadline: now + 3600, ...overrides,
  };
}

/**
 * Deploys the market on `provider`'s chain and plays every path of the lifecycle: registration,
 * agents, verifiers, offers (published, updated, withdrawn), requests that settle cosigned, settle
 * after the window, breach, get overturned by verifiers, get cancelled, and one left open with bids.
 */
export async function runMarketScenario(provider: JsonRpcProvider): Promise<Scenario> {
  const s = await Promise.all([...Array(11).keys()].map((i) => provider.getSigner(i)));
  const [deployer, consumer, providerA, providerB, hostA, hostB, agent, v1, v2, v3] = s as JsonRpcSigner[] as [
    JsonRpcSigner, JsonRpcSigner, JsonRpcSigner, JsonRpcSigner, JsonRpcSigner, JsonRpcSigner, JsonRpcSigner,
    JsonRpcSigner, JsonRpcSigner, JsonRpcSigner,
  ];
  const deployment = await deployMarket(deployer);
  const { token, registry, offers, market } = deployment;
  const signing = { chainId: (await provider.getNetwork()).chainId, market: deployment.addresses.market };
  for (const who of [consumer, providerA, providerB, v1, v2, v3]) {
    await (await token.mint(who.address, 100_000n * TOKEN)).wait();
    await (await token.connect(who).approve(deployment.addresses.market, 2n ** 255n)).wait();
    await (await token.connect(who).approve(deployment.addresses.registry, 2n ** 255n)).wait();
  }

  await (await registry.connect(providerA).register(hostA.address, 0, 1, 1000n * TOKEN, "ipfs://provider-a")).wait();
  await (await registry.connect(providerB).register(hostB.address, 1, 2, 500n * TOKEN, "ipfs://provider-b")).wait();
  await (await registry.connect(providerB).authoriseAgent(agent.address, true)).wait();
  await (await registry.connect(providerA).addStake(200n * TOKEN)).wait();
  await (await registry.connect(providerA).setMetadata("ipfs://provider-a-v2")).wait();
  for (const v of [v1, v2, v3]) {
    await (await registry.connect(v).register(v.address, 2, 3, 200n * TOKEN, "ipfs://verifier")).wait();
    await (await registry.connect(v).setVerifier(true)).wait();
  }
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

  // 1: two bids, A lowers its bid; the auction closes; the report settles cosigned.
  const cosigned = await post();
  await (await market.connect(providerA).bid(cosigned, offerA, 3n * TOKEN / 100n, TOKEN / 1000n, keccakText("why a"))).wait();
  await (await market.connect(agent).bid(cosigned, offerB, 2n * TOKEN / 100n, TOKEN / 1000n, ZeroHash)).wait();
  await (await market.connect(providerA).bid(cosigned, offerA, TOKEN / 100n, TOKEN / 1000n, keccakText("why a, lower"))).wait();
  await mine(provider, 61);
  await (await market.closeAuction(cosigned)).wait();
  reports[cosigned.toString()] = report(cosigned, 400_000_000n, 1n);
  const r1 = reports[cosigned.toString()]!;
  await (await market.reportAndSettle(r1, await signUsageReport(hostA, signing, r1), await signUsageAcceptance(consumer, signing, r1))).wait();

  // 2: the consumer accepts B's bid early; the report settles after the dispute window.
  const afterWindow = await post({ region: 2 });
  await (await market.connect(agent).bid(afterWindow, offerB, TOKEN / 100n, 0n, keccakText("agent"))).wait();
  await (await market.connect(consumer).acceptBid(afterWindow, providerB.address)).wait();
  const r2 = (reports[afterWindow.toString()] = report(afterWindow, 250_000_000n, 1n));
  await (await market.submitReport(r2, await signUsageReport(hostB, signing, r2))).wait();
  await mine(provider, 3601);
  await (await market.settle(afterWindow)).wait();

  // 3: A wins but never reports: breached after the deadline.
  t = await now(provider);
  const breached = await post({ deadline: t + 600 });
  await (await market.connect(providerA).bid(breached, offerA, 2n * TOKEN / 100n, TOKEN / 1000n, ZeroHash)).wait();
  await mine(provider, 61);
  await (await market.closeAuction(breached)).wait();
  await mine(provider, 600);
  await (await market.claimBreach(breached)).wait();

  // 4: B reports, the consumer disputes, two verifiers disagree with the report: overturned.
  const overturned = await post();
  await (await market.connect(agent).bid(overturned, offerB, TOKEN / 100n, 0n, ZeroHash)).wait();
  await mine(provider, 61);
  await (await market.closeAuction(overturned)).wait();
  const r4 = (reports[overturned.toString()] = report(overturned, 900_000_000n, 2n));
  await (await market.submitReport(r4, await signUsageReport(hostB, signing, r4))).wait();
  await (await market.connect(consumer).openDispute(overturned)).wait();
  for (const v of [v1, v2]) {
    const verdict = { agreementId: overturned, fuelUsed: 123n, outputHash: keccakText("truth"), meteringVersion: 1 };
    const sig = await signVerdict(v, signing, verdict);
    await (await market.submitVerdict(overturned, v.address, 123n, verdict.outputHash, 1, sig)).wait();
  }

  // 5: cancelled before any bid. 6: open, with bids from both providers.
  const cancelled = await post();
  await (await market.connect(consumer).cancelRequest(cancelled)).wait();
  t = await now(provider);
  const open = await post({ bidWindow: 7 * DAY, deadline: t + 8 * DAY });
  await (await market.connect(providerA).bid(open, offerA, 4n * TOKEN / 100n, TOKEN / 1000n, ZeroHash)).wait();
  await (await market.connect(agent).bid(open, offerB, 3n * TOKEN / 100n, 0n, ZeroHash)).wait();

  return {
    deployment,
    signers: { deployer, consumer, providerA, providerB, hostA, hostB, agent, verifiers: [v1, v2, v3] },
    offers: { a: offerA, b: offerB, bWithdrawn: 3n },
    ids: { cosigned, afterWindow, breached, overturned, cancelled, open },
    reports,
  };
}
