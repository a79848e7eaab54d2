import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { encodeInputBundle, outputHash } from "../../runtime/job/index.js";
import { signUsageAcceptance } from "../../contracts/client/signing.js";
import { Outcome, type UsageReport } from "../../contracts/client/typed-data.js";
import { outputAccessHeader } from "../../runtime/host/output-auth.js";
import { sha256Hex } from "../../runtime/host/sha256.js";
import { startRpcNode, type RpcNode } from "../helpers/rpc-node.js";
import { startRpcProxy, type RpcProxy } from "../helpers/rpc-proxy.js";
import { spawnHost, type HostProcess } from "./host-process.js";
import { advanceTime, award, liveMarket, liveProvider, Status, waitForStatus, type LiveMarket, type LiveProvider } from "./market-setup.js";
import { buildChecksumWorkload, contentDirs, fnv1a64 } from "./workload.js";

const text = (s: string) => new TextEncoder().encode(s);

describe("runtime-host: the daemon on a live chain", function () {
  this.timeout(120_000);
  let node: RpcNode;
  let proxy: RpcProxy;
  let m: LiveMarket;
  let p: LiveProvider;
  let host: HostProcess;
  let dir: string;
  let hostUrl: string;
  let module: { uri: string; hash: string };

  /** Writes an input bundle to disk and returns the request fields naming the module and it. */
  function job(args: string[], stdin: string) {
    const bundle = encodeInputBundle({ args: ["checksum", ...args], env: {}, stdin: text(stdin), files: {}, outputs: ["result.txt"] });
    const file = join(dir, `input-${sha256Hex(bundle)}.bin`);
    writeFileSync(file, bundle);
    return { workloadHash: module.hash, workloadURI: module.uri, inputHash: "0x" + sha256Hex(bundle), inputURI: pathToFileURL(file).href };
  }

  async function usageReports(id: bigint) {
    const { market } = m.deployment;
    return market.queryFilter(market.filters.UsageReported(id));
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "troupe-daemon-"));
    const workload = buildChecksumWorkload();
    module = { uri: pathToFileURL(workload.path).href, hash: "0x" + sha256Hex(workload.wasm) };
    node = await startRpcNode();
    proxy = await startRpcProxy(node.url);
    m = await liveMarket(node.provider);
    p = await liveProvider(m, 2);
    host = spawnHost({
      RPC_URL: proxy.url,
      HOST_KEY: p.hostKey.privateKey,
      PROVIDER: p.owner.address,
      MARKET: m.deployment.addresses.market,
      MARKET_START_BLOCK: String(m.deployment.startBlock),
      DATA_DIR: join(dir, "host"),
      CONTENT_DIRS: contentDirs(dir),
      HOST_PORT: "0",
      POLL_INTERVAL_MS: "100",
      MAX_BACKOFF_MS: "400",
      MAX_JOB_ATTEMPTS: "2",
      FETCH_RETRY_MS: "50",
      MAX_CONCURRENT_JOBS: "2",
      LOG_RANGE: "7",
    });
    const ready = await host.waitFor(/outputs on http:\/\/\S+/);
    hostUrl = /outputs on (http:\/\/\S+)/.exec(ready)![1]!;
  });

  after(async () => {
    await host?.stop();
    await proxy?.stop();
    await node?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs an awarded job, reports it once, serves the outputs to the consumer, and is paid after the window", async () => {
    const id = await award(m, p, job(["sum"], "hello world"));
    await waitForStatus(m, id, Status.Reported);
    const [reported, ...more] = await usageReports(id);
    expect(more).to.have.length(0);
    const checksum = fnv1a64(text("hello world"));
    const stdout = `bytes 11 fnv1a ${checksum}\n`;
    expect(reported!.args.outcome).to.equal(BigInt(Outcome.Exited));
    expect(reported!.args.exitCode).to.equal(0n);
    expect(reported!.args.outputHash).to.equal(outputHash(text(stdout), ["result.txt"], { "result.txt": text(checksum) }));
    expect(reported!.args.fuelUsed > 0n).to.equal(true);

    const auth = await outputAccessHeader(m.consumer, m.chainId, m.deployment.addresses.market, p.owner.address, Math.floor(Date.now() / 1000) + 60);
    expect(await (await fetch(`${hostUrl}/agreements/${id}/stdout`, { headers: { authorization: auth } })).text()).to.equal(stdout);
    const file = await fetch(`${hostUrl}/agreements/${id}/files/result.txt`, { headers: { authorization: auth } });
    expect(await file.text()).to.equal(checksum);
    const stranger = await outputAccessHeader(p.owner, m.chainId, m.deployment.addresses.market, p.owner.address, Math.floor(Date.now() / 1000) + 60);
    expect((await fetch(`${hostUrl}/agreements/${id}/stdout`, { headers: { authorization: stranger } })).status).to.equal(403);
    // The receipt is awaited apart from the send: the outbox says confirmed once the host has seen it.
    let report = { state: "" };
    for (let i = 0; i < 50 && report.state !== "confirmed"; i++) {
      report = (await (await fetch(`${hostUrl}/agreements/${id}/report`, { headers: { authorization: auth } })).json()) as { state: string };
      if (report.state !== "confirmed") await new Promise((r) => setTimeout(r, 100));
    }
    expect(report.state).to.equal("confirmed");

    // Nobody co-signed or accepted the report: the host settles it itself once the dispute window
    // (an hour here) has passed, and not before.
    const { market, token } = m.deployment;
    const before = await token.balanceOf(p.owner.address);
    await new Promise((r) => setTimeout(r, 500));
    expect(Number((await market.request(id)).status)).to.equal(Status.Reported);
    await advanceTime(m.provider, 3601);
    await waitForStatus(m, id, Status.Settled);
    await host.waitFor(new RegExp(`agreement ${id}: the dispute window passed with no dispute: settling it`));
    const [settled] = await market.queryFilter(market.filters.AgreementSettled(id));
    expect(settled!.args.cosigned).to.equal(false);
    expect((await token.balanceOf(p.owner.address)) > before).to.equal(true);
    for (let i = 0; i < 50 && report.state !== "closed"; i++) {
      report = (await (await fetch(`${hostUrl}/agreements/${id}/report`, { headers: { authorization: auth } })).json()) as { state: string };
      if (report.state !== "closed") await new Promise((r) => setTimeout(r, 100));
    }
    expect(report.state).to.equal("closed");
  });

  it("keeps going past a module with the wrong hash, random bytes, a trapping job, a job out of fuel and a missed deadline", async () => {
    const wrongHash = await award(m, p, { ...job(["sum"], "x"), workloadHash: "0x" + sha256Hex(text("another module")) });
    const trap = await award(m, p, job(["trap"], "boom"));
    const spin = await award(m, p, { ...job(["spin"], ""), maxFuel: 2_000_000n });
    const garbage = new Uint8Array(4096).map((_, i) => (i * 7919 + 13) & 0xff);
    writeFileSync(join(dir, "garbage.wasm"), garbage);
    const invalid = await award(m, p, { ...job([], ""), workloadHash: "0x" + sha256Hex(garbage), workloadURI: pathToFileURL(join(dir, "garbage.wasm")).href });
    await waitForStatus(m, trap, Status.Reported);
    await waitForStatus(m, invalid, Status.Reported);
    const [rejected] = await usageReports(invalid);
    expect(rejected!.args.outcome).to.equal(BigInt(Outcome.InvalidModule));
    await waitForStatus(m, spin, Status.Reported);
    const [trapped] = await usageReports(trap);
    expect(trapped!.args.outcome).to.equal(BigInt(Outcome.Trap));
    const [starved] = await usageReports(spin);
    expect(starved!.args.outcome).to.equal(BigInt(Outcome.OutOfFuel));
    expect(starved!.args.fuelUsed).to.equal(2_000_000n);
    // Run two at a time, the reports still take distinct outbox nonces.
    expect(new Set([trapped!.args.nonce, starved!.args.nonce, rejected!.args.nonce]).size).to.equal(3);

    // Bytes with another hash are content the consumer did not provide: reported unavailable, not left to breach.
    await waitForStatus(m, wrongHash, Status.Reported);
    await host.waitFor(new RegExp(`agreement ${wrongHash}: content unavailable \\(module\\) after 3 failed fetches; last: module hash mismatch`));
    const [unavailable, ...again] = await usageReports(wrongHash);
    expect(again).to.have.length(0);
    expect(unavailable!.args.outcome).to.equal(BigInt(Outcome.Unavailable));
    expect(unavailable!.args.fuelUsed).to.equal(0n);

    // An agreement whose deadline passes while the host is cut off is not reported late.
    await proxy.stop();
    // 20 s to report, counted from the award
    const late = await award(m, p, { ...job(["sum"], "late"), bidWindow: 30, execTime: 20, deadline: (await m.provider.getBlock("latest"))!.timestamp + 60 });
    await advanceTime(m.provider, 120);
    await proxy.start();
    await host.waitFor(new RegExp(`agreement ${late} not run: the deadline \\d+ passed`));
    expect(await usageReports(late)).to.have.length(0);
    expect(host.child.exitCode).to.equal(null);
  });

  it("survives an RPC outage and catches up on agreements awarded while it was away", async () => {
    const from = host.lines.length;
    await proxy.stop();
    const during: bigint[] = [];
    for (const text of ["while", "the endpoint", "was down"]) during.push(await award(m, p, job(["sum"], text)));
    await host.waitFor(/chain step failed \(2 in a row\)/, 30_000, from);
    expect(await usageReports(during[0]!)).to.have.length(0);
    await proxy.start();
    await host.waitFor(/reconnected after \d+ failed attempts/, 30_000, from);
    for (const id of during) {
      await waitForStatus(m, id, Status.Reported);
      expect(await usageReports(id)).to.have.length(1);
    }
    // Three reports sent back to back each got their own nonce (no failed submission).
    expect(host.lines.slice(from).filter((line) => line.includes("submission failed"))).to.deep.equal([]);
    const health = (await (await fetch(`${hostUrl}/health`)).json()) as { ok: boolean; checkpoint: number };
    const { market } = m.deployment;
    const [created] = await market.queryFilter(market.filters.AgreementCreated(during[2]!));
    expect(health.checkpoint).to.be.at.least(created!.blockNumber);
  });
});

describe("runtime-host: the consumer co-signs through the daemon", function () {
  this.timeout(120_000);

  it("takes the consumer's acceptance over HTTP and settles with reportAndSettle", async () => {
    const dir = mkdtempSync(join(tmpdir(), "troupe-cosign-"));
    const node = await startRpcNode();
    const m = await liveMarket(node.provider);
    const p = await liveProvider(m, 3);
    const workload = buildChecksumWorkload();
    const bundle = encodeInputBundle({ args: ["checksum"], env: {}, stdin: text("co-signed"), files: {}, outputs: ["result.txt"] });
    writeFileSync(join(dir, "input.bin"), bundle);
    const host = spawnHost({
      RPC_URL: node.url, HOST_KEY: p.hostKey.privateKey, PROVIDER: p.owner.address, MARKET: m.deployment.addresses.market,
      // Passes every 100 ms: an acceptance often arrives while a pass is looking at the waiting
      // report, and must still be taken (202), not refused as if the report were on its way.
      MARKET_START_BLOCK: String(m.deployment.startBlock), DATA_DIR: join(dir, "host"), HOST_PORT: "0", POLL_INTERVAL_MS: "100",
      CONTENT_DIRS: contentDirs(dir), COSIGN_WAIT_MS: "600000",
    });
    try {
      const url = /outputs on (http:\/\/\S+)/.exec(await host.waitFor(/outputs on http/))![1]!;
      const id = await award(m, p, {
        workloadHash: "0x" + sha256Hex(workload.wasm), workloadURI: pathToFileURL(workload.path).href,
        inputHash: "0x" + sha256Hex(bundle), inputURI: pathToFileURL(join(dir, "input.bin")).href,
      });
      await host.waitFor(new RegExp(`agreement ${id} ran`));
      const auth = await outputAccessHeader(m.consumer, m.chainId, m.deployment.addresses.market, p.owner.address, Math.floor(Date.now() / 1000) + 60);
      const body = (await (await fetch(`${url}/agreements/${id}/report`, { headers: { authorization: auth } })).json()) as {
        report: Record<keyof UsageReport, string | number>;
        state: string;
      };
      expect(body.state).to.equal("pending");
      const r = body.report;
      const report: UsageReport = {
        agreementId: BigInt(r.agreementId), fuelUsed: BigInt(r.fuelUsed), peakMemoryPages: Number(r.peakMemoryPages),
        wallMs: Number(r.wallMs), outcome: Number(r.outcome) as UsageReport["outcome"], exitCode: Number(r.exitCode),
        outputHash: String(r.outputHash), meteringVersion: Number(r.meteringVersion), nonce: BigInt(r.nonce),
      };
      const signing = { chainId: m.chainId, market: m.deployment.addresses.market };
      const post = (signature: string) =>
        fetch(`${url}/agreements/${id}/acceptance`, { method: "POST", body: JSON.stringify({ signature }) });
      const forged = await post(await signUsageAcceptance(p.owner, signing, report));
      expect(forged.status).to.equal(403);
      const accepted = await post(await signUsageAcceptance(m.consumer, signing, report));
      expect(accepted.status).to.equal(202);
      await waitForStatus(m, id, Status.Settled);
      const { market } = m.deployment;
      const [settled] = await market.queryFilter(market.filters.AgreementSettled(id));
      expect(settled!.args.cosigned).to.equal(true);
      expect((await post(await signUsageAcceptance(m.consumer, signing, report))).status).to.equal(409);
    } finally {
      await host.stop();
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
