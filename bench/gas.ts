/**
 * Gas of each step of a deployment's life on the in-process chain, with a plain ERC-20 transfer
 * measured in the same run as the floor. Steady state: one full lifecycle runs first, so the
 * figures are those of a market in use (the first-ever request pays for fresh storage slots).
 */
import { writeFileSync, mkdirSync } from "node:fs";
import { network } from "hardhat";
import { ZeroHash, type ContractTransactionResponse } from "ethers";
import { deployMarket } from "../contracts/client/deploy.js";
import { signHostKeyProof, signUsageAcceptance, signUsageReport } from "../contracts/client/signing.js";
import { Outcome, type UsageReport } from "../contracts/client/typed-data.js";

const TOKEN = 10n ** 18n;
const { ethers, networkHelpers } = await network.create();
const [deployer, consumer, owner, host, other] = await ethers.getSigners();
if (!deployer || !consumer || !owner || !host || !other) throw new Error("need 5 signers");
const d = await deployMarket(deployer, { tokenMintable: true });
const { token, registry, offers, market } = d;
for (const s of [consumer, owner]) {
  await (await token.mint(s.address, 1_000_000n * TOKEN)).wait();
  await (await token.connect(s).approve(d.addresses.market, 2n ** 255n)).wait();
  await (await token.connect(s).approve(d.addresses.registry, 2n ** 255n)).wait();
}
const chainId = (await ethers.provider.getNetwork()).chainId;
const signing = { chainId, market: d.addresses.market };

async function gas(tx: Promise<ContractTransactionResponse>): Promise<number> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error("no receipt");
  return Number(receipt.gasUsed);
}

const figures: Record<string, number> = {};
const proof = await signHostKeyProof(host, chainId, d.addresses.registry, owner.address);
figures.register = await gas(registry.connect(owner).register(host.address, 1, 7, 1000n * TOKEN, "ipfs://bafy-provider-metadata", proof));
const now = await networkHelpers.time.latest();
const offer = {
  provider: owner.address, pricePerMFuel: TOKEN / 100n, fee: TOKEN / 1000n, maxFuel: 10n ** 12n,
  memoryMiB: 512, meteringVersion: 1, concurrentJobs: 8, latencyClass: 1, expiresAt: now + 365 * 86_400,
};
figures.publishOffer = await gas(offers.connect(owner).publish(offer));

/** A request as a consumer would post it; `valueAtRisk` prices the providers' failure rates into the award. */
const params = (deadline: number, valueAtRisk = 0n) => ({
  workloadHash: ethers.id("workload"), workloadURI: "cas://0f5c8e4b9a2d7c1e3f6a8b0d2c4e6f8a1b3d5e7f9a0c2e4f6b8d0a2c4e6f8b0d",
  inputHash: ethers.id("input"), inputURI: "cas://9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c",
  maxFuel: 1_000_000_000n, maxPricePerMFuel: TOKEN / 20n, maxFee: TOKEN / 100n, minMemoryMiB: 64,
  allowedTiers: 0b111, region: 7, maxLatencyClass: 3, bidWindow: 60, execTime: 600, deadline, meteringVersion: 1, valueAtRisk,
});

async function lifecycle(record: boolean, valueAtRisk = 0n) {
  const t = await networkHelpers.time.latest();
  const request = await gas(market.connect(consumer).postRequest(params(t + 3600, valueAtRisk)));
  const id = await market.requestCount();
  const bid = await gas(market.connect(owner).bid(id, 1, TOKEN / 50n, TOKEN / 1000n, ethers.id("explanation")));
  await networkHelpers.time.increase(61);
  const award = await gas(market.closeAuction(id));
  const report: UsageReport = {
    agreementId: id, fuelUsed: 734_512_331n, peakMemoryPages: 18, wallMs: 412, outcome: Outcome.Exited,
    exitCode: 0, outputHash: ethers.id("output"), meteringVersion: 1, nonce: id,
  };
  const cosigned = await gas(market.reportAndSettle(
    report, await signUsageReport(host!, signing, report), await signUsageAcceptance(consumer!, signing, report),
  ));
  if (record) Object.assign(figures, { request, bid, award, reportAndSettleCosigned: cosigned });
  return { request, bid, award, cosigned };
}

const cold = await lifecycle(false);
await lifecycle(true);
// the same lifecycle with a value at risk stated: the request stores one more slot
const risky = await lifecycle(false, 100n * TOKEN);
figures.requestWithValueAtRisk = risky.request;
figures.lifecycleCosignedWithValueAtRisk = risky.request + risky.bid + risky.award + risky.cosigned;

// the plain report path: report, wait out the dispute window, settle
{
  const t = await networkHelpers.time.latest();
  await (await market.connect(consumer).postRequest(params(t + 3600))).wait();
  const id = await market.requestCount();
  await (await market.connect(owner).bid(id, 1, TOKEN / 50n, TOKEN / 1000n, ZeroHash)).wait();
  await networkHelpers.time.increase(61);
  await (await market.closeAuction(id)).wait();
  const report: UsageReport = {
    agreementId: id, fuelUsed: 734_512_331n, peakMemoryPages: 18, wallMs: 412, outcome: Outcome.Exited,
    exitCode: 0, outputHash: ethers.id("output"), meteringVersion: 1, nonce: id,
  };
  figures.report = await gas(market.submitReport(report, await signUsageReport(host, signing, report)));
  await networkHelpers.time.increase(3601);
  figures.settleAfterWindow = await gas(market.connect(other).settle(id));
}

figures.lifecycleCosigned = figures.request! + figures.bid! + figures.award! + figures.reportAndSettleCosigned!;
figures.erc20Transfer = await gas(token.connect(consumer).transfer(owner.address, TOKEN));
const coldLifecycle = cold.request + cold.bid + cold.award + cold.cosigned;

console.log("\nGas per step (steady state; a plain ERC-20 transfer is the floor)\n");
console.log("step                      gas      × transfer");
for (const [step, value] of Object.entries(figures)) {
  console.log(`${step.padEnd(24)} ${String(value).padStart(8)}   ${(value / figures.erc20Transfer).toFixed(2)}`);
}
console.log(`\nlifecycleCosigned target ≤ 400000: ${figures.lifecycleCosigned! <= 400_000 ? "met" : "MISSED"}` +
  ` (with a value at risk: ${figures.lifecycleCosignedWithValueAtRisk})`);
console.log(`first-ever lifecycle (cold storage): ${coldLifecycle}`);

mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(new URL("./results/gas.json", import.meta.url), JSON.stringify(figures, null, 2) + "\n");
