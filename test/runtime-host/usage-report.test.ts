import { expect } from "chai";
import { ZeroHash } from "ethers";
import { marketFixture, registerProvider, postRequest, type Fixture } from "../helpers/market.js";
import { signUsageAcceptance, usageReportHash } from "../../contracts/client/signing.js";
import { Outcome } from "../../contracts/client/typed-data.js";
import { Status } from "../../contracts/client/status.js";
import { buildUsageReport, signReport, type AttestableResult } from "../../runtime/host/usage-report.js";
import { sha256Hex } from "../../runtime/host/sha256.js";

const result: AttestableResult = {
  outcome: Outcome.Exited,
  exitCode: 0,
  fuelUsed: 123_456_789n,
  peakMemoryPages: 17,
  wallMs: 41.6,
  outputHash: sha256Hex(new TextEncoder().encode("hello\n")),
  meteringVersion: 1,
};

/** An awarded agreement between the fixture's consumer and providerA (host key hostA). */
async function awardedAgreement(f: Fixture): Promise<bigint> {
  const offerId = await registerProvider(f, f.providerA, f.hostA);
  const id = await postRequest(f);
  await (await f.deployment.market.connect(f.providerA).bid(id, offerId, 10n ** 16n, 10n ** 15n, ZeroHash)).wait();
  await f.networkHelpers.time.increase(61);
  await (await f.deployment.market.closeAuction(id)).wait();
  return id;
}

describe("runtime-host: usage reports", () => {
  it("builds a report the contract hashes the same way", async () => {
    const f = await marketFixture();
    const report = buildUsageReport(7n, result, 3n);
    expect(report.wallMs).to.equal(42);
    expect(report.outputHash).to.equal("0x" + result.outputHash);
    const onChain = await f.deployment.market.hashReport(report);
    expect(onChain).to.equal(usageReportHash(report));
  });

  it("signs a report that submitReport accepts, and the contract rejects a wrong signer", async () => {
    const f = await marketFixture();
    const id = await awardedAgreement(f);
    const { market } = f.deployment;
    const report = buildUsageReport(id, result, 1n);

    const forged = await signReport(f.hostB, f.signing, report);
    await expect(market.submitReport(report, forged.signature))
      .to.be.revertedWithCustomError(market, "WrongSigner")
      .withArgs(f.hostA.address, f.hostB.address);

    const signed = await signReport(f.hostA, f.signing, report);
    await expect(market.submitReport(signed.report, signed.signature))
      .to.emit(market, "UsageReported")
      .withArgs(id, f.providerA.address, result.fuelUsed, 17, 42, Outcome.Exited, 0, report.outputHash, 1, 1n);
    expect((await market.request(id)).status).to.equal(BigInt(Status.Reported));
  });

  it("settles at once with reportAndSettle when the consumer co-signs", async () => {
    const f = await marketFixture();
    const id = await awardedAgreement(f);
    const { market } = f.deployment;
    const signed = await signReport(f.hostA, f.signing, buildUsageReport(id, result, 1n));
    const acceptance = await signUsageAcceptance(f.consumer, f.signing, signed.report);
    await expect(market.reportAndSettle(signed.report, signed.signature, acceptance)).to.emit(market, "AgreementSettled");
    expect((await market.request(id)).status).to.equal(BigInt(Status.Settled));
  });

  it("refuses to attest a host fault or a value that does not fit the typed data", () => {
    expect(() => buildUsageReport(1n, { ...result, hostFault: "V8 out of memory" }, 1n)).to.throw(/host fault is never attested/);
    expect(() => buildUsageReport(1n, { ...result, meteringVersion: 70_000 }, 1n)).to.throw(/uint16/);
    expect(() => buildUsageReport(1n, { ...result, fuelUsed: 2n ** 64n }, 1n)).to.throw(/uint64/);
    expect(() => buildUsageReport(1n, { ...result, outputHash: "abc" }, 1n)).to.throw(/not a sha-256/);
  });
});
