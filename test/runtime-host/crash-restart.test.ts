import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { encodeInputBundle } from "../../runtime/job/index.js";
import { Outbox } from "../../runtime/host/outbox.js";
import { sha256Hex } from "../../runtime/host/sha256.js";
import { startRpcNode, type RpcNode } from "../helpers/rpc-node.js";
import { spawnHost } from "./host-process.js";
import { award, liveMarket, liveProvider, Status, waitForStatus, type LiveMarket, type LiveProvider } from "./market-setup.js";
import { buildChecksumWorkload, contentDirs } from "./workload.js";

describe("runtime-host: SIGKILL between run and submit, then restart", function () {
  this.timeout(120_000);
  let node: RpcNode;
  let m: LiveMarket;
  let p: LiveProvider;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "troupe-crash-"));
    node = await startRpcNode();
    m = await liveMarket(node.provider);
    p = await liveProvider(m, 2);
  });
  after(async () => {
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const env = (crashPoint?: string) => ({
    RPC_URL: node.url,
    HOST_KEY: p.hostKey.privateKey,
    PROVIDER: p.owner.address,
    MARKET: m.deployment.addresses.market,
    MARKET_START_BLOCK: String(m.deployment.startBlock),
    DATA_DIR: join(dir, "host"),
    CONTENT_DIRS: contentDirs(dir),
    HOST_PORT: "0",
    POLL_INTERVAL_MS: "100",
    TROUPE_HOST_CRASH_POINT: crashPoint ?? "",
  });

  it("lands the report exactly once whether the host dies before or after sending it", async () => {
    const workload = buildChecksumWorkload();
    const bundle = encodeInputBundle({ args: ["checksum"], env: {}, stdin: new TextEncoder().encode("crash me"), files: {}, outputs: ["result.txt"] });
    writeFileSync(join(dir, "input.bin"), bundle);
    const id = await award(m, p, {
      workloadHash: "0x" + sha256Hex(workload.wasm), workloadURI: pathToFileURL(workload.path).href,
      inputHash: "0x" + sha256Hex(bundle), inputURI: pathToFileURL(join(dir, "input.bin")).href,
    });
    const { market } = m.deployment;
    const reports = () => market.queryFilter(market.filters.UsageReported(id));

    // 1. Dies right after the signed report reached the outbox, before anything was sent.
    const first = spawnHost(env("after-outbox"));
    await first.waitFor(new RegExp(`crash point after-outbox reached for agreement ${id}`));
    await first.kill();
    expect(await first.exited).to.equal("SIGKILL");
    expect(Number((await market.request(id)).status)).to.equal(Status.Awarded);
    const written = new Outbox(join(dir, "host", "outbox")).get(id);
    expect(written?.state).to.equal("pending");

    // 2. Restarted, it sends the report from the outbox and dies before recording the receipt.
    const second = spawnHost(env("after-send"));
    await second.waitFor(new RegExp(`crash point after-send reached for agreement ${id}`));
    await second.kill();
    const sent = new Outbox(join(dir, "host", "outbox")).get(id);
    expect(sent?.state).to.equal("sent");
    expect(sent?.report).to.deep.equal(written?.report);

    // 3. Restarted again, it finds the report on chain and only marks it confirmed.
    const third = spawnHost(env());
    try {
      await waitForStatus(m, id, Status.Reported);
      await third.waitFor(new RegExp(`agreement ${id}: report confirmed`));
      const landed = await reports();
      expect(landed).to.have.length(1);
      expect(landed[0]!.transactionHash).to.equal(sent?.txHash);
      expect(landed[0]!.args.nonce).to.equal(written!.report.nonce);
      expect(new Outbox(join(dir, "host", "outbox")).get(id)?.state).to.equal("confirmed");
      expect(third.lines.some((line) => line.includes(`agreement ${id} ran`))).to.equal(false);
    } finally {
      await third.stop();
    }
  });
});
