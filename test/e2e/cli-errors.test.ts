import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet, parseUnits } from "ethers";
import { main } from "../../scripts/cli/main.js";
import { HELP } from "../../scripts/cli/help.js";
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

  it("help for every command and subcommand, --version and a bare troupe: offline, exit 0", async () => {
    const offline = { TROUPE_DEPLOYMENT: join(work, "none.json"), RPC_URL: "http://127.0.0.1:9" };
    const saved = { ...process.env };
    Object.assign(process.env, offline);
    try {
      for (const [command, entry] of Object.entries(HELP)) {
        for (const sub of typeof entry === "string" ? [undefined] : Object.keys(entry).filter(Boolean)) {
          const lines: string[] = [];
          const code = await main([command, ...(sub ? [sub] : []), "--help"], (l) => lines.push(l));
          expect(code, `${command} ${sub ?? ""} --help`).to.equal(0);
          expect(lines.join("\n")).to.match(new RegExp(`troupe ${command}${sub ? ` ${sub}` : ""}`));
        }
      }
      const lines: string[] = [];
      expect(await main([], (l) => lines.push(l))).to.equal(0);
      expect(lines.join("\n")).to.match(/usage: troupe <command>/);
    } finally {
      process.env = saved;
    }
    // As a user runs it: its own process, no deployment, no chain.
    const version = await runCli(["--version"], offline);
    expect(version.code).to.equal(0);
    expect(version.stdout).to.match(/^troupe \d+\.\d+\.\d+/);
    const help = await runCli(["deploy", "--help"], offline);
    expect(help.code, help.stderr).to.equal(0);
    expect(help.stdout).to.match(/--max-price <tokens>\s+the highest price per million fuel \(default 0\.05\)/);
  });

  it("bad input exits 2 before anything connects", async () => {
    await refuses(["deploy", ensureWorkloads().checksum!, "--bogus"], { RPC_URL: "http://127.0.0.1:9" }, /Unknown option '--bogus'/);
    await refuses(["token", "transfer", "0x12", "1"], { TROUPE_KEY: consumerAccount(1).privateKey }, /recipient must be an address/);
    const result = await runCli(["status", "abc"], { ...env, RPC_URL: "http://127.0.0.1:9" });
    expect(result.code).to.equal(2);
  });

  it("the faucet funds a fresh key (local chains only), which can then send tokens on", async () => {
    const fresh = Wallet.createRandom();
    const other = Wallet.createRandom().address;
    const faucet = await runCli(["faucet", fresh.address, "--tokens", "250"], env);
    expect(faucet.code, faucet.stderr).to.equal(0);
    expect(await market.contracts.token.balanceOf(fresh.address)).to.equal(parseUnits("250"));
    expect(await market.provider.getBalance(fresh.address)).to.equal(parseUnits("10"));
    const sent = await runCli(["token", "transfer", other, "1.5"], { ...env, TROUPE_KEY: fresh.privateKey });
    expect(sent.code, sent.stderr).to.equal(0);
    expect(await market.contracts.token.balanceOf(other)).to.equal(parseUnits("1.5"));
    const balance = await runCli(["token", "balance", other], env);
    expect(balance.stdout).to.match(/1\.5 tokens/);
    const keys = await runCli(["keys", "consumer", "1"], {});
    expect(keys.stdout.trim()).to.equal(consumerAccount(1).privateKey);
  });
});
