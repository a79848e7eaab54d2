import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet } from "ethers";
import { startTestMarket, runCli } from "./helpers.js";
import { consumerAccount } from "../../scripts/local/accounts.js";
import { ensureWorkloads } from "../../runtime/workloads/build.js";
import type { LocalMarket } from "../../scripts/local/market.js";

describe("end to end: the CLI refuses bad input with one clear line and spends nothing", function () {
  this.timeout(240_000);
  let market: LocalMarket;
  let env: Record<string, string>;
  let work: string;
  before(async () => {
    market = await startTestMarket({ providers: [], matchmakers: false });
    work = mkdtempSync(join(tmpdir(), "troupe-cli-"));
    env = { CONSUMER_KEY: consumerAccount(1).privateKey, TROUPE_DEPLOYMENT: market.deploymentFile, TROUPE_CONTENT_DIR: join(work, "c") };
  });
  after(async () => {
    await market?.stop();
  });

  async function refuses(args: string[], extraEnv: Record<string, string>, pattern: RegExp) {
    const consumer = consumerAccount(1).address;
    const before = await market.contracts.token.balanceOf(consumer);
    const nonce = await market.provider.getTransactionCount(consumer);
    const result = await runCli(args, { ...env, ...extraEnv });
    expect(result.code, result.stdout + result.stderr).to.not.equal(0);
    const lines = result.stderr.trim().split("\n");
    expect(lines, result.stderr).to.have.length(1);
    expect(lines[0]).to.match(pattern);
    expect(await market.contracts.token.balanceOf(consumer)).to.equal(before);
    expect(await market.provider.getTransactionCount(consumer)).to.equal(nonce);
  }

  it("a missing file", async () => {
    await refuses(["deploy", join(work, "nope.wasm")], {}, /no such file .*nope\.wasm/);
  });

  it("a file that is not WebAssembly", async () => {
    const path = join(work, "not.wasm");
    writeFileSync(path, "#!/bin/sh\necho hi\n");
    await refuses(["deploy", path], {}, /not a WebAssembly module/);
  });

  it("an escrow above the balance", async () => {
    const poor = Wallet.createRandom();
    await refuses(["deploy", ensureWorkloads().checksum!, "--max-price", "1000"], { CONSUMER_KEY: poor.privateKey }, /escrow is .* holds 0/);
  });

  it("an unknown id", async () => {
    await refuses(["status", "999"], {}, /there is no request 999/);
    await refuses(["dispute", "999"], {}, /there is no agreement 999/);
  });

  it("an unreachable RPC endpoint", async () => {
    await refuses(["status", "1"], { RPC_URL: "http://127.0.0.1:9" }, /cannot reach the RPC endpoint http:\/\/127\.0\.0\.1:9/);
  });

  it("a malformed key or option", async () => {
    await refuses(["deploy", ensureWorkloads().checksum!], { CONSUMER_KEY: "0x1234" }, /CONSUMER_KEY is not a valid private key/);
    await refuses(["deploy", ensureWorkloads().checksum!, "--max-fuel", "lots"], {}, /--max-fuel must be a fuel amount/);
    await refuses(["deploy", ensureWorkloads().checksum!, "--tiers", "moon"], {}, /tier must be one of cloud, edge, iot/);
  });
});
