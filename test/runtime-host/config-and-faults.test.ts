import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Wallet, encryptKeystoreJsonSync } from "ethers";
import { encodeInputBundle } from "../../runtime/job/index.js";
import { ConfigError, loadHostConfig } from "../../runtime/host/config.js";
import { sha256Hex } from "../../runtime/host/sha256.js";
import { startRpcNode } from "../helpers/rpc-node.js";
import { spawnHost } from "./host-process.js";
import { award, liveMarket, liveProvider, Status } from "./market-setup.js";
import { buildChecksumWorkload, contentDirs } from "./workload.js";

const valid = {
  RPC_URL: "http://127.0.0.1:8545",
  HOST_KEY: "0x" + "ab".repeat(32),
  PROVIDER: "0x" + "11".repeat(20),
  MARKET: "0x" + "22".repeat(20),
};

async function configError(env: Record<string, string>): Promise<string> {
  try {
    await loadHostConfig(env);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as Error).message;
  }
  return expect.fail("expected a configuration error");
}

describe("runtime-host: configuration", function () {
  this.timeout(60_000);

  it("reads the environment with defaults, and names the variable that is wrong", async () => {
    const config = await loadHostConfig({ ...valid, HOST_PORT: "0", COSIGN_WAIT_MS: "5000" });
    expect(config).to.deep.include({ port: 0, cosignWaitMs: 5000, pollIntervalMs: 2000, maxJobAttempts: 3, maxConcurrentJobs: 1, startBlock: 0 });
    expect(config.provider).to.equal("0x" + "11".repeat(20));
    expect(await configError({ ...valid, RPC_URL: "" })).to.equal("RPC_URL is not set");
    expect(await configError({ ...valid, RPC_URL: "ws://x" })).to.match(/RPC_URL must be http\(s\):\/\//);
    expect(await configError({ ...valid, HOST_KEY: "0x1234" })).to.match(/HOST_KEY must be 0x followed by 64 hex digits/);
    expect(await configError({ ...valid, MARKET: "market" })).to.match(/MARKET is not an address/);
    expect(await configError({ ...valid, HOST_PORT: "70000" })).to.match(/HOST_PORT must be an integer from 0 to 65535/);
    expect(await configError({ ...valid, POLL_INTERVAL_MS: "-5" })).to.match(/POLL_INTERVAL_MS must be an integer/);
    expect(await configError({ ...valid, TROUPE_HOST_CRASH_POINT: "later" })).to.match(/TROUPE_HOST_CRASH_POINT/);
  });

  it("takes the host key from an encrypted keystore", async () => {
    const dir = mkdtempSync(join(tmpdir(), "troupe-keystore-"));
    try {
      const wallet = Wallet.createRandom();
      // A cheap scrypt cost keeps the test fast; decryption reads the cost from the file.
      writeFileSync(join(dir, "key.json"), encryptKeystoreJsonSync({ address: wallet.address, privateKey: wallet.privateKey }, "secret", { scrypt: { N: 1024 } }));
      const { HOST_KEY: _unused, ...rest } = valid;
      const config = await loadHostConfig({ ...rest, HOST_KEYSTORE: join(dir, "key.json"), HOST_KEYSTORE_PASSWORD: "secret" });
      expect(config.hostKey).to.equal(wallet.privateKey);
      expect(await configError({ ...rest, HOST_KEYSTORE: join(dir, "key.json"), HOST_KEYSTORE_PASSWORD: "wrong" })).to.match(/cannot be decrypted/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("exits non-zero with one clear line when the daemon is misconfigured", async () => {
    const host = spawnHost({ ...valid, PROVIDER: "nobody" });
    expect(await host.exited).to.equal(2);
    expect(host.lines).to.deep.equal(['host: bad configuration: PROVIDER is not an address: "nobody"']);
  });
});

describe("runtime-host: host faults and a reused data directory", function () {
  this.timeout(120_000);

  it("retries a watchdog kill a bounded number of times, never attests it, and refuses a data dir of another market or chain", async () => {
    const dir = mkdtempSync(join(tmpdir(), "troupe-faults-"));
    const node = await startRpcNode();
    try {
      const m = await liveMarket(node.provider);
      const p = await liveProvider(m, 2);
      const workload = buildChecksumWorkload();
      const bundle = encodeInputBundle({ args: ["checksum", "spin"], env: {}, stdin: new Uint8Array(), files: {}, outputs: [] });
      writeFileSync(join(dir, "input.bin"), bundle);
      const env = {
        RPC_URL: node.url, HOST_KEY: p.hostKey.privateKey, PROVIDER: p.owner.address, MARKET: m.deployment.addresses.market,
        MARKET_START_BLOCK: String(m.deployment.startBlock), DATA_DIR: join(dir, "host"), CONTENT_DIRS: contentDirs(dir), HOST_PORT: "0", POLL_INTERVAL_MS: "100",
        JOB_TIMEOUT_MS: "200", MAX_JOB_ATTEMPTS: "2",
      };
      const host = spawnHost(env);
      // Ten billion fuel of an endless loop takes seconds: the 200 ms watchdog ends it first.
      const id = await award(m, p, {
        workloadHash: "0x" + sha256Hex(workload.wasm), workloadURI: pathToFileURL(workload.path).href,
        inputHash: "0x" + sha256Hex(bundle), inputURI: pathToFileURL(join(dir, "input.bin")).href, maxFuel: 10_000_000_000n,
      });
      try {
        await host.waitFor(new RegExp(`agreement ${id}: attempt 1/2 failed, will retry: host fault`));
        await host.waitFor(new RegExp(`agreement ${id}: attempt 2/2 failed, giving up: host fault`));
        const { market } = m.deployment;
        expect(await market.queryFilter(market.filters.UsageReported(id))).to.have.length(0);
        expect(Number((await market.request(id)).status)).to.equal(Status.Awarded);
      } finally {
        await host.stop();
      }

      const other = spawnHost({ ...env, MARKET: m.deployment.addresses.token });
      expect(await other.exited).to.equal(1);
      expect(other.lines.at(-1)).to.match(/^host: DATA_DIR .* belongs to provider .* on market .*, not to provider .* on market/);

      // A restarted dev chain: same chain id, same deployer, so the same market address; another history.
      const restarted = await startRpcNode();
      try {
        await (await (await restarted.provider.getSigner(9)).sendTransaction({ to: p.owner.address, value: 1n })).wait();
        const again = await liveMarket(restarted.provider);
        expect(again.deployment.addresses.market).to.equal(m.deployment.addresses.market);
        const stale = spawnHost({ ...env, RPC_URL: restarted.url });
        expect(await stale.exited).to.equal(1);
        expect(stale.lines.at(-1)).to.match(/^host: DATA_DIR .* belongs to another chain .*: use a fresh DATA_DIR$/);
      } finally {
        await restarted.close();
      }
    } finally {
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
