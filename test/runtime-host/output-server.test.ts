import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet, ZeroHash } from "ethers";
import { Outcome } from "../../contracts/client/typed-data.js";
import { ContentStore } from "../../runtime/host/content-store.js";
import { Outbox } from "../../runtime/host/outbox.js";
import { OutputServer } from "../../runtime/host/output-server.js";
import { outputAccessHeader, outputAccessMessage, MAX_AUTH_LIFETIME_S, SignerCache } from "../../runtime/host/output-auth.js";
import { outputCredential } from "../../scripts/lib/output-credentials.js";

const chainId = 31337n;
const market = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const provider = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const otherProvider = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

describe("runtime-host: output server", () => {
  const consumer = Wallet.createRandom();
  const stranger = Wallet.createRandom();
  let dir: string;
  let server: OutputServer;
  let base: string;
  let outbox: Outbox;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "troupe-outputs-"));
    const store = new ContentStore(join(dir, "store"));
    outbox = new Outbox(join(dir, "outbox"));
    const outputs = { stdout: store.put(new TextEncoder().encode("42\n")), stderr: store.put(new Uint8Array()), files: { "out/result.txt": store.put(new TextEncoder().encode("result")) } };
    await outbox.add({
      report: { agreementId: 1n, fuelUsed: 1000n, peakMemoryPages: 1, wallMs: 1, outcome: Outcome.Exited, exitCode: 0, outputHash: ZeroHash, meteringVersion: 1, nonce: 1n },
      signature: "0x" + "11".repeat(65),
      outputs,
    });
    server = new OutputServer({
      chainId,
      market,
      provider,
      consumerOf: (id) => (id === 1n || id === 2n || id >= 4n ? consumer.address : undefined),
      entry: (id) => outbox.get(id),
      blob: (hash) => store.get(hash),
      note: () => undefined,
      accept: async () => ({ status: 409, message: "not in this test" }),
      health: () => ({ ok: true }),
    });
    base = `http://127.0.0.1:${await server.listen(0)}`;
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const now = () => Math.floor(Date.now() / 1000);
  const get = (path: string, authorization?: string) => fetch(base + path, authorization ? { headers: { authorization } } : {});

  it("serves the consumer its report, manifest, stdout and output files", async () => {
    const auth = await outputAccessHeader(consumer, chainId, market, provider, now() + 60);
    const report = (await (await get("/agreements/1/report", auth)).json()) as { report: { fuelUsed: string } };
    expect(report).to.deep.include({ signature: "0x" + "11".repeat(65), state: "pending", cosigned: false });
    expect(report.report.fuelUsed).to.equal("1000");
    const manifest = (await (await get("/agreements/1/outputs", auth)).json()) as { files: Record<string, { size: number }> };
    expect(manifest.files["out/result.txt"]?.size).to.equal(6);
    expect(await (await get("/agreements/1/stdout", auth)).text()).to.equal("42\n");
    expect(await (await get(`/agreements/1/files/${encodeURIComponent("out/result.txt")}`, auth)).text()).to.equal("result");
    expect((await get("/agreements/1/files/nope", auth)).status).to.equal(404);
    expect((await get("/agreements/1/files/%E0%A4%A", auth)).status).to.equal(400);
    expect((await get("/health")).status).to.equal(200);
  });

  it("answers 401 without, with a malformed or with an expired signature, and 403 to anyone but the consumer", async () => {
    const missing = await get("/agreements/1/stdout");
    expect(missing.status).to.equal(401);
    expect((await errorOf(missing))).to.match(/missing Authorization/);
    expect((await get("/agreements/1/stdout", "Troupe 12:0x1234")).status).to.equal(401);

    const expired = await get("/agreements/1/stdout", await outputAccessHeader(consumer, chainId, market, provider, now() - 1));
    expect(expired.status).to.equal(401);
    expect((await errorOf(expired))).to.match(/expired/);
    const tooLong = await get("/agreements/1/stdout", await outputAccessHeader(consumer, chainId, market, provider, now() + MAX_AUTH_LIFETIME_S + 600));
    expect(tooLong.status).to.equal(401);

    const wrongSigner = await get("/agreements/1/stdout", await outputAccessHeader(stranger, chainId, market, provider, now() + 60));
    expect(wrongSigner.status).to.equal(403);
    expect((await errorOf(wrongSigner))).to.match(/not by the agreement's consumer/);
    // A signature for another host (or market) recovers to another address: refused.
    const otherHost = await get("/agreements/1/stdout", await outputAccessHeader(consumer, chainId, market, otherProvider, now() + 60));
    expect(otherHost.status).to.equal(403);
  });

  it("remembers a recovered credential across polls, and judges it the same every time", async () => {
    const good = await outputAccessHeader(consumer, chainId, market, provider, now() + 60);
    const bad = await outputAccessHeader(stranger, chainId, market, provider, now() + 60);
    for (let i = 0; i < 3; i++) {
      expect((await get("/agreements/1/stdout", good)).status).to.equal(200);
      expect((await get("/agreements/1/stdout", bad)).status).to.equal(403);
      // The credential names the host, not the agreement: it opens the consumer's other agreements here too.
      expect((await get("/agreements/2/stdout", good)).status).to.equal(404);
    }
    const cache = new SignerCache(2);
    const message = outputAccessMessage(chainId, market, provider, 123);
    const signature = await consumer.signMessage(message);
    expect(cache.recover(message, signature)).to.equal(consumer.address);
    expect(cache.recover(message, signature)).to.equal(consumer.address);
    expect(cache.recover(outputAccessMessage(chainId, market, otherProvider, 123), signature)).to.not.equal(consumer.address);
  });

  it("a consumer signs one credential per host and reuses it for all its agreements there", async () => {
    const first = await outputCredential(consumer, chainId, market, provider);
    expect(await outputCredential(consumer, chainId, market, provider)).to.equal(first);
    expect(await outputCredential(consumer, chainId, market, otherProvider)).to.not.equal(first);
    expect(await outputCredential(stranger, chainId, market, provider)).to.not.equal(first);
    expect((await get("/agreements/1/stdout", first)).status).to.equal(200);
    expect((await get("/agreements/1/stdout", await outputCredential(consumer, chainId, market, otherProvider))).status).to.equal(403);
  });

  it("answers 404 for unknown agreements and paths, 404 before a job has run", async () => {
    const auth = await outputAccessHeader(consumer, chainId, market, provider, now() + 60);
    expect((await get("/agreements/2/stdout", auth)).status).to.equal(404);
    expect((await get("/agreements/3/stdout", auth)).status).to.equal(404);
    expect((await get("/nothing")).status).to.equal(404);
    const badBody = await fetch(`${base}/agreements/1/acceptance`, { method: "POST", body: "[1]" });
    expect(badBody.status).to.equal(400);
  });

  it("holds a report request with ?wait until the report is written, or answers 404 when the wait ends", async () => {
    const report = (agreementId: bigint) => ({
      report: { agreementId, fuelUsed: 7n, peakMemoryPages: 1, wallMs: 1, outcome: Outcome.Exited, exitCode: 0, outputHash: ZeroHash, meteringVersion: 1, nonce: agreementId },
      signature: "0x" + "22".repeat(65),
      outputs: { stdout: ZeroHash.slice(2), stderr: ZeroHash.slice(2), files: {} },
    });
    const auth4 = await outputAccessHeader(consumer, chainId, market, provider, now() + 60);
    const started = performance.now();
    const held = get("/agreements/4/report?wait=8", auth4);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await outbox.add(report(4n));
    server.entryWritten(4n);
    const answer = await held;
    expect(answer.status).to.equal(200);
    expect(((await answer.json()) as { report: { fuelUsed: string } }).report.fuelUsed).to.equal("7");
    // Answered when written, not when the wait ran out.
    expect(performance.now() - started).to.be.below(4000);

    const auth5 = await outputAccessHeader(consumer, chainId, market, provider, now() + 60);
    const t0 = performance.now();
    expect((await get("/agreements/5/report?wait=0.4", auth5)).status).to.equal(404);
    expect(performance.now() - t0).to.be.at.least(350);
    const bad = await get("/agreements/5/report?wait=soon", auth5);
    expect(bad.status).to.equal(400);
    expect(await errorOf(bad)).to.match(/wait must be a number of seconds/);
  });

  it("holds at most heldPerClient report requests of one client; the next is answered at once", async () => {
    const small = new OutputServer({
      chainId, market, provider, consumerOf: () => consumer.address, entry: () => undefined, blob: () => undefined, note: () => undefined,
      accept: async () => ({ status: 409, message: "not in this test" }), health: () => ({ ok: true }),
    }, { heldPerClient: 2 });
    const smallBase = `http://127.0.0.1:${await small.listen(0)}`;
    try {
      const auth = await outputAccessHeader(consumer, chainId, market, provider, now() + 60);
      const ask = () => fetch(`${smallBase}/agreements/9/report?wait=1.2`, { headers: { authorization: auth } });
      const first = [ask(), ask()];
      await new Promise((resolve) => setTimeout(resolve, 200));
      const t0 = performance.now();
      expect((await ask()).status).to.equal(404);
      expect(performance.now() - t0).to.be.below(600);
      expect((await Promise.all(first)).map((r) => r.status)).to.deep.equal([404, 404]);
    } finally {
      await small.close();
    }
  });
});

async function errorOf(response: Response): Promise<string> {
  return ((await response.json()) as { error: string }).error;
}
