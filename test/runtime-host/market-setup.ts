import { Wallet, type JsonRpcSigner, type JsonRpcProvider, parseEther, ZeroHash } from "ethers";
import { deployMarket, type MarketDeployment, type MarketParams } from "../../contracts/client/deploy.js";
import { signHostKeyProof } from "../../contracts/client/signing.js";
import { METERING_VERSION } from "../../runtime/job/index.js";
import { Status } from "../../contracts/client/status.js";
import type { RequestParamsStruct } from "../../types/ethers-contracts/TroupeMarket.js";

const TOKEN = 10n ** 18n;

/** A market on a chain served over JSON-RPC, with a consumer and a way to award agreements. */
export interface LiveMarket {
  provider: JsonRpcProvider;
  deployment: MarketDeployment;
  chainId: bigint;
  consumer: JsonRpcSigner;
  /** Anyone: closes auctions, settles. */
  keeper: JsonRpcSigner;
}

/** A registered, staked provider with an offer and its own random host key (funded for gas). */
export interface LiveProvider {
  owner: JsonRpcSigner;
  hostKey: Wallet;
  offerId: bigint;
}

export async function liveMarket(provider: JsonRpcProvider, params: Partial<MarketParams> = {}): Promise<LiveMarket> {
  const deployer = await provider.getSigner(0);
  const consumer = await provider.getSigner(1);
  const deployment = await deployMarket(deployer, { tokenMintable: true, ...params });
  const { token, market } = deployment;
  await (await token.mint(consumer.address, 1_000_000n * TOKEN)).wait();
  await (await token.connect(consumer).approve(await market.getAddress(), 2n ** 255n)).wait();
  const { chainId } = await provider.getNetwork();
  return { provider, deployment, chainId, consumer, keeper: deployer };
}

export async function liveProvider(m: LiveMarket, accountIndex: number): Promise<LiveProvider> {
  const owner = await m.provider.getSigner(accountIndex);
  const hostKey = Wallet.createRandom().connect(m.provider);
  await (await m.keeper.sendTransaction({ to: hostKey.address, value: parseEther("10") })).wait();
  const { token, registry, offers } = m.deployment;
  await (await token.mint(owner.address, 10_000n * TOKEN)).wait();
  await (await token.connect(owner).approve(await registry.getAddress(), 2n ** 255n)).wait();
  const proof = await signHostKeyProof(hostKey, m.chainId, await registry.getAddress(), owner.address);
  await (await registry.connect(owner).register(hostKey.address, 0, 1, 1000n * TOKEN, "ipfs://provider", proof)).wait();
  const now = await chainNow(m.provider);
  await (
    await offers.connect(owner).publish({
      provider: owner.address, pricePerMFuel: TOKEN / 100n, fee: TOKEN / 1000n, maxFuel: 10_000_000_000n, memoryMiB: 256,
      meteringVersion: METERING_VERSION, concurrentJobs: 4, latencyClass: 1, expiresAt: now + 30 * 24 * 3600,
    })
  ).wait();
  return { owner, hostKey: hostKey as unknown as Wallet, offerId: await offers.offerCount() };
}

export async function chainNow(provider: JsonRpcProvider): Promise<number> {
  return (await provider.getBlock("latest"))!.timestamp;
}

export async function advanceTime(provider: JsonRpcProvider, seconds: number): Promise<void> {
  await provider.send("evm_increaseTime", [seconds]);
  await provider.send("evm_mine", []);
}

/** Posts a request, has `p` bid on it and closes the auction: returns the agreement id. */
export async function award(m: LiveMarket, p: LiveProvider, request: Partial<RequestParamsStruct>): Promise<bigint> {
  const { market } = m.deployment;
  const now = await chainNow(m.provider);
  const params: RequestParamsStruct = {
    workloadHash: ZeroHash, workloadURI: "", inputHash: ZeroHash, inputURI: "", maxFuel: 1_000_000_000n,
    maxPricePerMFuel: TOKEN / 20n, maxFee: TOKEN / 100n, minMemoryMiB: 32, allowedTiers: 0b111, region: 1,
    maxLatencyClass: 3, bidWindow: 30, execTime: 1800, deadline: now + 3600, meteringVersion: METERING_VERSION, valueAtRisk: 0n,
    ...request,
  };
  await (await market.connect(m.consumer).postRequest(params)).wait();
  const id = await market.requestCount();
  await (await market.connect(p.owner).bid(id, p.offerId, TOKEN / 100n, TOKEN / 1000n, ZeroHash)).wait();
  await advanceTime(m.provider, Number(params.bidWindow) + 1);
  await (await market.connect(m.keeper).closeAuction(id)).wait();
  return id;
}

/** Polls the agreement until it reaches `status` (or fails after `timeoutMs`). */
export async function waitForStatus(m: LiveMarket, id: bigint, status: number, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const actual = Number((await m.deployment.market.request(id)).status);
    if (actual === status) return;
    if (Date.now() > end) throw new Error(`agreement ${id} stayed in status ${actual}, expected ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export { Status, TOKEN };
