import { expect } from "chai";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ZeroHash } from "ethers";
import { Outcome, type UsageReport } from "../../contracts/client/typed-data.js";
import { Outbox } from "../../runtime/host/outbox.js";
import { JobQueue } from "../../runtime/host/job-queue.js";
import type { Agreement } from "../../runtime/host/agreement.js";
import { expectReject } from "../helpers/expect-reject.js";

function report(agreementId: bigint, nonce: bigint): UsageReport {
  return {
    agreementId,
    fuelUsed: 2n ** 63n + 5n,
    peakMemoryPages: 1,
    wallMs: 2,
    outcome: Outcome.Exited,
    exitCode: 0,
    outputHash: ZeroHash,
    meteringVersion: 1,
    nonce,
  };
}

const outputs = { stdout: "aa".repeat(32), stderr: "bb".repeat(32), files: {} };

describe("runtime-host: outbox and job queue on disk", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "troupe-outbox-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps entries across a reopen, with exact bigints and increasing nonces", async () => {
    const outbox = new Outbox(join(dir, "outbox"));
    expect(outbox.nextNonce()).to.equal(1n);
    await outbox.add({ report: report(9n, outbox.nextNonce()), signature: "0x01", outputs });
    await outbox.add({ report: report(3n, outbox.nextNonce()), signature: "0x02", outputs });
    await expectReject(outbox.add({ report: report(3n, 9n), signature: "0x03", outputs }), /already holds a report for agreement 3/);
    await outbox.update(9n, { state: "sent", txHash: "0xabc" });

    const reopened = new Outbox(join(dir, "outbox"));
    expect(reopened.nextNonce()).to.equal(3n);
    expect([reopened.reserveNonce(), reopened.reserveNonce(), reopened.nextNonce()]).to.deep.equal([3n, 4n, 5n]);
    expect(reopened.get(9n)?.report.fuelUsed).to.equal(2n ** 63n + 5n);
    expect(reopened.unconfirmed().map((e) => [e.report.agreementId, e.state])).to.deep.equal([
      [3n, "pending"],
      [9n, "sent"],
    ]);
    await reopened.update(3n, { state: "confirmed" });
    expect(new Outbox(join(dir, "outbox")).unconfirmed().map((e) => e.report.agreementId)).to.deep.equal([9n]);
    // Only whole files remain: the atomic writes leave no temporary behind.
    expect(readdirSync(join(dir, "outbox")).sort()).to.deep.equal(["3.json", "9.json"]);
    expect(readFileSync(join(dir, "outbox", "9.json"), "utf8")).to.contain('"txHash": "0xabc"');
  });

  it("queues an agreement once and tracks its state", async () => {
    const jobs = new JobQueue(join(dir, "jobs"));
    const agreement: Agreement = {
      agreementId: 4n, consumer: "0x0000000000000000000000000000000000000001", offerId: 1n, maxFuel: 10n, deadline: 100,
      memoryMiB: 16, workloadHash: ZeroHash, workloadURI: "cas://00", inputHash: ZeroHash, inputURI: "", blockNumber: 5,
    };
    // Two enqueues of one agreement before either is on disk: the second sees the first.
    const [first, second] = await Promise.all([jobs.enqueue(agreement), jobs.enqueue({ ...agreement, maxFuel: 99n })]);
    expect([first, second]).to.deep.equal([true, false]);
    expect(jobs.queued().map((j) => j.agreement.maxFuel)).to.deep.equal([10n]);
    await jobs.update(4n, { state: "failed", attempts: 3, detail: "host fault" });
    const reopened = new JobQueue(join(dir, "jobs"));
    expect(reopened.queued()).to.deep.equal([]);
    expect(reopened.get(4n)).to.deep.include({ state: "failed", attempts: 3 });
    await expectReject(reopened.update(5n, { state: "missed" }), /no job for agreement 5/);
  });

  it("makes a change visible only once it is on disk, and applies changes of one record in call order", async () => {
    const outbox = new Outbox(join(dir, "outbox"));
    const added = outbox.add({ report: report(7n, outbox.reserveNonce()), signature: "0x01", outputs });
    // Not yet written: a reader (the output server) must not see it.
    expect(outbox.get(7n)).to.equal(undefined);
    const changes = [
      outbox.update(7n, { consumerSignature: "0xc0" }),
      outbox.update(7n, { state: "sent", txHash: "0x01" }),
      outbox.update(7n, { state: "confirmed", txHash: "0x02" }),
    ];
    // Many records side by side, each written once.
    const others = Array.from({ length: 40 }, (_, i) => outbox.add({ report: report(100n + BigInt(i), outbox.reserveNonce()), signature: "0x02", outputs }));
    await Promise.all([added, ...changes, ...others]);
    expect(outbox.get(7n)).to.deep.include({ state: "confirmed", txHash: "0x02", consumerSignature: "0xc0" });
    const reopened = new Outbox(join(dir, "outbox"));
    expect(reopened.get(7n)).to.deep.include({ state: "confirmed", txHash: "0x02", consumerSignature: "0xc0" });
    expect(reopened.all()).to.have.length(41);
    expect(reopened.nextNonce()).to.equal(42n);
    expect(readdirSync(join(dir, "outbox")).filter((name) => name.endsWith(".tmp"))).to.deep.equal([]);
  });
});
