import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { network } from "hardhat";
import { ZeroHash, id as keccakText } from "ethers";
import { deployMarket, type MarketDeployment, type MarketParams } from "../../contracts/client/deploy.js";
import type { IOfferBook } from "../../types/ethers-contracts/OfferBook.js";
import type { RequestParamsStruct } from "../../types/ethers-contracts/TroupeMarket.js";
import { Outcome, type UsageReport } from "../../contracts/client/typed-data.js";

export const TOKEN = 10n ** 18n;

/** A fresh in-process chain with the market deployed and funded actors. */
export async function marketFixture(overrides: Partial<MarketParams> = {}) {
  const connection = await network.create();
  const { ethers, networkHelpers } = connection;
  const signers = await ethers.getSigners();
  const [deployer, consumer, providerA, providerB, hostA, hostB, agent, verifier1, verifier2, verifier3, outsider] =
    signers as [HardhatEthersSigner, ...HardhatEthersSigner[]] as HardhatEthersSigner[];
  const deployment = await deployMarket(deployer!, overrides);
  const { token, market, registry } = deployment;
  for (const s of signers.slice(1, 12)) {
    await (await token.mint(s.address, 100_000n * TOKEN)).wait();
    await (await token.connect(s).approve(await market.getAddress(), 2n ** 255n)).wait();
    await (await token.connect(s).approve(await registry.getAddress(), 2n ** 255n)).wait();
  }
  const { chainId } = await ethers.provider.getNetwork();
  return {
    connection,
    ethers,
    networkHelpers,
    deployment,
    chainId,
    signing: { chainId, market: deployment.addresses.market },
    deployer: deployer!,
    consumer: consumer!,
    providerA: providerA!,
    providerB: providerB!,
    hostA: hostA!,
    hostB: hostB!,
    agent: agent!,
    verifiers: [verifier1!, verifier2!, verifier3!],
    outsider: outsider!,
  };
}

export type Fixture = Awaited<ReturnType<typeof marketFixture>>;

/** Offer terms with sensible defaults. */
export function offerTerms(overrides: Partial<IOfferBook.OfferStruct> = {}, now: number): IOfferBook.OfferStruct {
  return {
    provider: "0x0000000000000000000000000000000000000000",
    pricePerMFuel: 1n * TOKEN / 100n,
    fee: TOKEN / 1000n,
    maxFuel: 10_000_000_000n,
    memoryMiB: 256,
    concurrentJobs: 4,
    latencyClass: 1,
    expiresAt: now + 30 * 24 * 3600,
    ...overrides,
  };
}

/** Request parameters with sensible defaults. */
export function requestParams(overrides: Partial<RequestParamsStruct> = {}, now: number): RequestParamsStruct {
  return {
    workloadHash: keccakText("workload"),
    workloadURI: "file:///tmp/workload.wasm",
    inputHash: ZeroHash,
    inputURI: "",
    maxFuel: 1_000_000_000n,
    maxPricePerMFuel: 5n * TOKEN / 100n,
    maxFee: TOKEN / 100n,
    minMemoryMiB: 64,
    allowedTiers: 0b111,
    region: 1,
    maxLatencyClass: 3,
    bidWindow: 60,
    deadline: now + 3600,
    ...overrides,
  };
}

/** Registers a provider with a stake and publishes one offer; returns the offer id. */
export async function registerProvider(
  f: Fixture,
  owner: HardhatEthersSigner,
  host: HardhatEthersSigner,
  opts: { tier?: number; region?: number; stake?: bigint; offer?: Partial<IOfferBook.OfferStruct> } = {},
): Promise<bigint> {
  const { registry, offers } = f.deployment;
  await (
    await registry
      .connect(owner)
      .register(host.address, opts.tier ?? 0, opts.region ?? 1, opts.stake ?? 1000n * TOKEN, "ipfs://provider")
  ).wait();
  const now = await f.networkHelpers.time.latest();
  await (await offers.connect(owner).publish(offerTerms(opts.offer ?? {}, now))).wait();
  return await offers.offerCount();
}

/** Posts a request from the fixture's consumer; returns its id. */
export async function postRequest(f: Fixture, overrides: Partial<RequestParamsStruct> = {}): Promise<bigint> {
  const now = await f.networkHelpers.time.latest();
  await (await f.deployment.market.connect(f.consumer).postRequest(requestParams(overrides, now))).wait();
  return await f.deployment.market.requestCount();
}

export { keccakText };
export type { MarketDeployment };

/** A usage report for agreement `agreementId` with sensible defaults. */
export function makeReport(agreementId: bigint, overrides: Partial<UsageReport> = {}): UsageReport {
  return {
    agreementId,
    fuelUsed: 400_000_000n,
    peakMemoryPages: 17,
    wallMs: 250,
    outcome: Outcome.Exited,
    exitCode: 0,
    outputHash: keccakText("output"),
    meteringVersion: 1,
    nonce: 1n,
    ...overrides,
  };
}

/**
 * Registers providerA (host hostA), posts a request, has providerA bid `price`/`fee` and closes
 * the auction: returns the agreement id and the offer id.
 */
export async function awardedAgreement(
  f: Fixture,
  opts: { price?: bigint; fee?: bigint; request?: Partial<RequestParamsStruct> } = {},
): Promise<{ id: bigint; offerId: bigint }> {
  const offerId = await registerProvider(f, f.providerA, f.hostA);
  const id = await postRequest(f, opts.request ?? {});
  const { market } = f.deployment;
  await (await market.connect(f.providerA).bid(id, offerId, opts.price ?? 2n * TOKEN / 100n, opts.fee ?? TOKEN / 1000n, ZeroHash)).wait();
  await f.networkHelpers.time.increase(61);
  await (await market.closeAuction(id)).wait();
  return { id, offerId };
}
