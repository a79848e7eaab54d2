import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Wallet, parseEther } from "ethers";
import * as engine from "../../runtime/job/index.js";
import { buildUsageReport, signReport } from "../../runtime/host/usage-report.js";
import { sha256Hex } from "../../runtime/host/sha256.js";
import { Ruling } from "../../contracts/client/status.js";
import { startRpcNode, type RpcNode } from "../helpers/rpc-node.js";
import { award, liveMarket, liveProvider, Status, TOKEN, type LiveMarket, type LiveProvider } from "./market-setup.js";
import { spawnActor, type HostProcess } from "./host-process.js";
import { buildChecksumWorkload, contentDirs } from "./workload.js";

/**
 * Windows for a test on a chain whose clock is the wall clock: the commit and reveal windows end
 * early once every seat has acted, so they can be wide enough for a loaded machine's re-execution.
 */
const WINDOW = 60;
const APPEAL_WINDOW = 20;

describe("runtime-host: verifier agents judge a dispute through draw, commit and reveal", function () {
  this.timeout(240_000);
  let node: RpcNode;
  let m: LiveMarket;
  let p: LiveProvider;
  let dir: string;
  const agents: HostProcess[] = [];
  const verifierKeys = [0, 1, 2].map(() => Wallet.createRandom());
  let workload: ReturnType<typeof buildChecksumWorkload>;
  const bundle = engine.encodeInputBundle({ args: ["checksum"], env: {}, stdin: new TextEncoder().encode("judge me"), files: {}, outputs: ["result.txt"] });

  before(async () => {
    workload = buildChecksumWorkload();
    dir = mkdtempSync(join(tmpdir(), "troupe-verifiers-"));
    writeFileSync(join(dir, "input.bin"), bundle);
    node = await startRpcNode();
    m = await liveMarket(node.provider, {
      verifierPanel: 3, sampledRounds: 1, commitWindow: WINDOW, revealWindow: WINDOW, appealWindow: APPEAL_WINDOW, minVerifierStake: 100n * TOKEN,
    });
    p = await liveProvider(m, 2);
    for (const [i, key] of verifierKeys.entries()) {
      await (await m.keeper.sendTransaction({ to: key.address, value: parseEther("10") })).wait();
      await (await m.deployment.token.mint(key.address, 1000n * TOKEN)).wait();
      agents.push(spawnActor("runtime/verifier/main.ts", {
        RPC_URL: node.url, VERIFIER_KEY: key.privateKey, MARKET: m.deployment.addresses.market, STAKE: "100",
        POLL_MS: "300", DATA_DIR: join(dir, `verifier-${i}`), CONTENT_DIRS: contentDirs(dir),
      }));
    }
    await Promise.all(agents.map((a) => a.waitFor(/watching the court/, 60_000)));
  });
  after(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await node.close();
    engine.shutdownJobPool();
    rmSync(dir, { recursive: true, force: true });
  });

  // each agent's log without repeated lines (a retry loop would hide how it got there)
  const agentLogs = () => agents.map((a, i) => `--- verifier ${i}\n${a.lines.filter((l, j) => l !== a.lines[j - 1]).slice(-40).join("\n")}`).join("\n");

  it("overturns a report that inflates the fuel by one, and the liar's stake pays", async () => {
    const { market, court, registry } = m.deployment;
    expect(await court.totalStake()).to.equal(300n * TOKEN);
    const id = await award(m, p, {
      workloadHash: "0x" + sha256Hex(workload.wasm), workloadURI: pathToFileURL(workload.path).href,
      inputHash: "0x" + sha256Hex(bundle), inputURI: pathToFileURL(join(dir, "input.bin")).href, minMemoryMiB: 32,
    });
    const result = await engine.runJob({
      module: workload.wasm, input: engine.decodeInputBundle(bundle),
      limits: { fuel: 1_000_000_000n, memoryMiB: 32, wallTimeoutMs: 30_000 },
      seed: engine.seedFromAgreement(m.chainId, m.deployment.addresses.market, id),
    });
    const report = buildUsageReport(id, { ...result, fuelUsed: result.fuelUsed + 1n }, id);
    const signed = await signReport(p.hostKey, { chainId: m.chainId, market: m.deployment.addresses.market }, report);
    await (await market.connect(m.keeper).submitReport(signed.report, signed.signature)).wait();
    const stakeBefore = (await registry.providerOf(await p.owner.getAddress())).stake;
    await (await m.deployment.token.connect(m.consumer).approve(m.deployment.addresses.market, 2n ** 255n)).wait();
    await (await market.connect(m.consumer).openDispute(id)).wait();

    // the agents draw the panel, re-execute, commit, reveal, count, close and claim: nobody else acts
    const end = Date.now() + 180_000;
    while ((await court.caseOf(id)).ruling === 0n) {
      if (Date.now() > end) throw new Error(`the verifier agents never closed the case\n${agentLogs()}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(Number((await court.caseOf(id)).ruling), agentLogs()).to.equal(Ruling.Overturned);
    expect(Number((await market.request(id)).status)).to.equal(Status.Overturned);
    expect((await registry.providerOf(await p.owner.getAddress())).stake < stakeBefore).to.equal(true);
    const revealed = await court.queryFilter(court.filters.VerdictRevealed(id));
    expect(revealed.length).to.be.greaterThan(0);
    for (const r of revealed) expect(r.args.fuelUsed).to.equal(result.fuelUsed);
    // every seat's lock comes back with its share of the provider's verification fee
    const waitClaims = Date.now() + 60_000;
    while (Date.now() < waitClaims && (await court.totalLocked()) !== 0n) await new Promise((r) => setTimeout(r, 500));
    expect(await court.totalLocked()).to.equal(0n);
    expect(await court.totalStake()).to.equal(300n * TOKEN + 5n * TOKEN);
  });
});
