import { expect } from "chai";
import { marketFixture, registerProvider, postRequest } from "../helpers/market.js";
import { signUsageAcceptance, signUsageReport } from "../../contracts/client/signing.js";
import { Outcome, type UsageReport } from "../../contracts/client/typed-data.js";
import { Status } from "../../contracts/client/status.js";
import { ZeroHash } from "ethers";

describe("smoke: the cosigned lifecycle", () => {
  it("requests, bids, awards and settles with a cosigned report", async () => {
    const f = await marketFixture();
    const offerId = await registerProvider(f, f.providerA, f.hostA);
    const id = await postRequest(f);
    const { market } = f.deployment;
    await (await market.connect(f.providerA).bid(id, offerId, 10n ** 16n, 10n ** 15n, ZeroHash)).wait();
    await f.networkHelpers.time.increase(61);
    await (await market.closeAuction(id)).wait();
    const report: UsageReport = {
      agreementId: id, fuelUsed: 500_000_000n, peakMemoryPages: 3, wallMs: 12, outcome: Outcome.Exited,
      exitCode: 0, outputHash: ZeroHash, meteringVersion: 1, nonce: 1n,
    };
    const hostSig = await signUsageReport(f.hostA, f.signing, report);
    const consumerSig = await signUsageAcceptance(f.consumer, f.signing, report);
    await (await market.reportAndSettle(report, hostSig, consumerSig)).wait();
    expect((await market.request(id)).status).to.equal(BigInt(Status.Settled));
  });
});
