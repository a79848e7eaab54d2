import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { encodeInputBundle } from "../../runtime/job/index.js";
import { Outcome } from "../../contracts/client/typed-data.js";
import { outputAccessHeader } from "../../runtime/host/output-auth.js";
import { sha256Hex } from "../../runtime/host/sha256.js";
import { startRpcNode, type RpcNode } from "../helpers/rpc-node.js";
import { startRpcProxy, type RpcProxy } from "../helpers/rpc-proxy.js";
import { spawnHost, type HostProcess } from "./host-process.js";
import { advanceTime, award, liveMarket, liveProvider, Status, waitForStatus, type LiveMarket, type LiveProvider } from "./market-setup.js";
import { buildChecksumWorkload, contentDirs } from "./workload.js";

const DISPUTE_WINDOW = 600;

describe("runtime-host: content that vanishes after the award is reported unavailable (outcome 6), not breached", function () {
  this.timeout(120_000);
  let node: RpcNode;
  let proxy: RpcProxy;
  let m: LiveMarket;
  let p: LiveProvider;
  let host: HostProcess;
  let hostUrl: string;
  let dir: string;
  let content: Server;
  let contentUrl: string;
  const served = new Map<string, Uint8Array>();
  const fetches: string[] = [];
  const workload = buildChecksumWorkload();
  const bundle = encodeInputBundle({ args: ["checksum"], env: {}, stdin: new TextEncoder().encode("gone soon"), files: {}, outputs: [] });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "troupe-unavailable-"));
    content = createServer((req, res) => {
      fetches.push(req.url ?? "");
      const body = served.get(req.url ?? "");
      if (!body) return void res.writeHead(404).end("gone");
      res.writeHead(200, { "content-length": body.length }).end(body);
    });
    await new Promise<void>((resolve) => content.listen(0, "127.0.0.1", resolve));
    contentUrl = `http://127.0.0.1:${(content.address() as AddressInfo).port}`;
    node = await startRpcNode();
    proxy = await startRpcProxy(node.url);
    m = await liveMarket(node.provider, { disputeWindow: DISPUTE_WINDOW });
    p = await liveProvider(m, 2);
    host = spawnHost({
      RPC_URL: proxy.url, HOST_KEY: p.hostKey.privateKey, PROVIDER: p.owner.address, MARKET: m.deployment.addresses.market,
      MARKET_START_BLOCK: String(m.deployment.startBlock), DATA_DIR: join(dir, "host"), HOST_PORT: "0", POLL_INTERVAL_MS: "100",
      CONTENT_DIRS: contentDirs(dir), FETCH_ALLOW_ADDRESSES: "127.0.0.1", FETCH_ATTEMPTS: "3", FETCH_RETRY_MS: "100",
    });
    hostUrl = /outputs on (http:\/\/\S+)/.exec(await host.waitFor(/outputs on http:\/\/\S+/))![1]!;
  });
  after(async () => {
    await host?.stop();
    await proxy?.stop();
    await node?.close();
    content.closeAllConnections();
    await new Promise<void>((resolve) => content.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it("signs an outcome-6 report with the note's hash; the market records it unavailable and pays only the fee", async () => {
    const { market, token } = m.deployment;
    served.set("/input.bin", bundle);
    const inputURI = `${contentUrl}/input.bin`;
    // The host is cut off while the agreement is awarded; the consumer's input disappears meanwhile.
    await proxy.stop();
    const id = await award(m, p, {
      workloadHash: "0x" + sha256Hex(workload.wasm), workloadURI: pathToFileURL(workload.path).href,
      inputHash: "0x" + sha256Hex(bundle), inputURI,
    });
    served.delete("/input.bin");
    const consumerBefore = await token.balanceOf(m.consumer.address);
    const providerBefore = await token.balanceOf(p.owner.address);
    const escrow = (await market.queryFilter(market.filters.RequestPosted(id)))[0]!.args.escrow;
    await proxy.start();

    await waitForStatus(m, id, Status.Reported);
    expect(fetches.filter((url) => url === "/input.bin")).to.have.length(3, "three tries, then given up");
    const [reported, ...more] = await market.queryFilter(market.filters.UsageReported(id));
    expect(more).to.have.length(0);
    expect(reported!.args.outcome).to.equal(BigInt(Outcome.Unavailable));
    expect(reported!.args.fuelUsed).to.equal(0n);
    const stored = await market.reportOf(id);
    expect(stored.unavailable).to.equal(true);

    // The note is served to anyone and hashes to the report's output hash; it holds only what the chain says.
    const noteBytes = new Uint8Array(await (await fetch(`${hostUrl}/notes/${reported!.args.outputHash}`)).arrayBuffer());
    expect("0x" + sha256Hex(noteBytes)).to.equal(reported!.args.outputHash);
    expect(JSON.parse(new TextDecoder().decode(noteBytes))).to.deep.equal({
      kind: "troupe.content-unavailable/1",
      chainId: m.chainId.toString(),
      market: m.deployment.addresses.market.toLowerCase(),
      agreementId: id.toString(),
      unavailable: [{ what: "input", uri: inputURI, sha256: "0x" + sha256Hex(bundle) }],
    });
    // The consumer sees the failed tries (with errors and times, which are not hashed).
    const auth = await outputAccessHeader(m.consumer, m.chainId, m.deployment.addresses.market, p.owner.address, Math.floor(Date.now() / 1000) + 60);
    const detail = (await (await fetch(`${hostUrl}/agreements/${id}/unavailable`, { headers: { authorization: auth } })).json()) as {
      attempts: { what: string; error: string }[];
    };
    expect(detail.attempts).to.have.length(3);
    for (const a of detail.attempts) expect(a).to.deep.include({ what: "input" }).and.to.have.property("error").that.matches(/answered 404/);
    expect((await fetch(`${hostUrl}/notes/0x${"00".repeat(32)}`)).status).to.equal(404);

    // After the dispute window the host settles it: the provider is paid its fee and no fuel; the rest goes back to the consumer.
    await advanceTime(m.provider, DISPUTE_WINDOW + 1);
    await waitForStatus(m, id, Status.Settled);
    const [settled] = await market.queryFilter(market.filters.AgreementSettled(id));
    const [created] = await market.queryFilter(market.filters.AgreementCreated(id));
    expect(settled!.args.providerPayment).to.equal(created!.args.fee);
    expect(settled!.args.consumerRefund).to.equal(escrow - created!.args.fee);
    expect((await token.balanceOf(p.owner.address)) - providerBefore).to.equal(created!.args.fee);
    expect((await token.balanceOf(m.consumer.address)) - consumerBefore).to.equal(escrow - created!.args.fee);
    expect(await market.queryFilter(market.filters.AgreementBreached(id))).to.have.length(0);
  });

  it("reports a refused URI unavailable at once: an input outside the content directories is not read, nor tried again", async () => {
    const outside = mkdtempSync(join(tmpdir(), "troupe-unavailable-outside-"));
    try {
      writeFileSync(join(outside, "input.bin"), bundle);
      const id = await award(m, p, {
        workloadHash: "0x" + sha256Hex(workload.wasm), workloadURI: pathToFileURL(workload.path).href,
        inputHash: "0x" + sha256Hex(bundle) /* the right hash: only the place is wrong */, inputURI: pathToFileURL(join(outside, "input.bin")).href,
      });
      await waitForStatus(m, id, Status.Reported);
      const [reported] = await m.deployment.market.queryFilter(m.deployment.market.filters.UsageReported(id));
      expect(reported!.args.outcome).to.equal(BigInt(Outcome.Unavailable));
      const line = await host.waitFor(new RegExp(`agreement ${id}: content unavailable \\(input\\) after 1 failed fetches; last: input .* is outside the content directories`));
      expect(line).to.match(/reporting outcome 6/);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
