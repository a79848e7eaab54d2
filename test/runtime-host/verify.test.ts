import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import * as engine from "../../runtime/job/index.js";
import { runVerifyCli, verifyUsage } from "../../runtime/verify.js";
import { buildUsageReport, signReport } from "../../runtime/host/usage-report.js";
import { sha256Hex } from "../../runtime/host/sha256.js";
import { startRpcNode, type RpcNode } from "../helpers/rpc-node.js";
import { award, liveMarket, liveProvider, Status, type LiveMarket, type LiveProvider } from "./market-setup.js";
import { buildChecksumWorkload, contentDirs } from "./workload.js";

describe("runtime-host: verify re-executes and compares a report", function () {
  this.timeout(120_000);
  let node: RpcNode;
  let m: LiveMarket;
  let p: LiveProvider;
  let dir: string;
  let workload: ReturnType<typeof buildChecksumWorkload>;
  const bundle = engine.encodeInputBundle({ args: ["checksum"], env: {}, stdin: new TextEncoder().encode("verify me"), files: {}, outputs: ["result.txt"] });

  before(async () => {
    workload = buildChecksumWorkload();
    dir = mkdtempSync(join(tmpdir(), "troupe-verify-"));
    writeFileSync(join(dir, "input.bin"), bundle);
    // the verifier reads file: URIs only inside its content directories, as the host does
    process.env.CONTENT_DIRS = contentDirs(dir);
    node = await startRpcNode();
    m = await liveMarket(node.provider);
    p = await liveProvider(m, 2);
  });
  after(async () => {
    delete process.env.CONTENT_DIRS;
    await node.close();
    engine.shutdownJobPool();
    rmSync(dir, { recursive: true, force: true });
  });

  /** An agreement whose report (honest, or with `fuelDelta` more fuel) is on chain. */
  async function reportedAgreement(fuelDelta: bigint): Promise<bigint> {
    const id = await award(m, p, {
      workloadHash: "0x" + sha256Hex(workload.wasm), workloadURI: pathToFileURL(workload.path).href,
      inputHash: "0x" + sha256Hex(bundle), inputURI: pathToFileURL(join(dir, "input.bin")).href, minMemoryMiB: 32,
    });
    const result = await engine.runJob({
      module: workload.wasm, input: engine.decodeInputBundle(bundle),
      limits: { fuel: 1_000_000_000n, memoryMiB: 32, wallTimeoutMs: 30_000 },
      seed: engine.seedFromAgreement(m.chainId, m.deployment.addresses.market, id),
    });
    const report = buildUsageReport(id, { ...result, fuelUsed: result.fuelUsed + fuelDelta }, id);
    const signed = await signReport(p.hostKey, { chainId: m.chainId, market: m.deployment.addresses.market }, report);
    const { market } = m.deployment;
    await (await market.connect(m.keeper).submitReport(signed.report, signed.signature)).wait();
    return id;
  }

  async function cli(args: string[]): Promise<{ status: number; output: Record<string, unknown> }> {
    const lines: string[] = [];
    const status = await runVerifyCli(args, (line) => lines.push(line));
    return { status, output: JSON.parse(lines.join("\n")) as Record<string, unknown> };
  }

  it("confirms an honest report from the chain: same fuel, same output", async () => {
    const id = await reportedAgreement(0n);
    const { status, output } = await cli(["--rpc", node.url, "--market", m.deployment.addresses.market, "--agreement", String(id)]);
    expect(status).to.equal(0);
    expect(output).to.deep.include({ matches: true, fuelMatches: true, outputMatches: true });
    expect(Number((await m.deployment.market.request(id)).status)).to.equal(Status.Reported);
  });

  it("catches an inflated report: a mismatch on fuel alone", async () => {
    const id = await reportedAgreement(1n);
    const { status, output } = await cli(["--rpc", node.url, "--market", m.deployment.addresses.market, "--agreement", String(id)]);
    expect(status).to.equal(1);
    expect(output).to.deep.include({ matches: false, fuelMatches: false, outputMatches: true });
  });

  it("checks a report given by hand against files, and says which part differs", async () => {
    const job = {
      module: workload.wasm, input: bundle, chainId: 1n, market: "0x" + "22".repeat(20), agreementId: 5n,
      maxFuel: 1_000_000_000n, memoryMiB: 32, wallTimeoutMs: 30_000,
    };
    const honest = await verifyUsage(engine, job, { fuelUsed: 0n, outputHash: "00".repeat(32), meteringVersion: engine.METERING_VERSION });
    expect(honest).to.deep.include({ matches: false, fuelMatches: false, outputMatches: false, versionMatches: true });
    const again = await verifyUsage(engine, job, honest.measured);
    expect(again.matches).to.equal(true);

    writeFileSync(join(dir, "module.wasm"), workload.wasm);
    const { status, output } = await cli([
      "--module", join(dir, "module.wasm"), "--input", join(dir, "input.bin"), "--chain-id", "1", "--market", job.market,
      "--agreement", "5", "--max-fuel", "1000000000", "--memory-mib", "32", "--fuel", String(honest.measured.fuelUsed),
      "--output-hash", honest.measured.outputHash,
    ]);
    expect(status).to.equal(0);
    expect(output).to.deep.include({ matches: true });
  });
});
