import { expect } from "chai";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ZeroHash, parseUnits } from "ethers";
import { startTestMarket, runCli, eventually, graphql, freePorts, describeChain, type ChainCase, type CliResult } from "./helpers.js";
import { startRpcProxy, type RpcProxy } from "../helpers/rpc-proxy.js";
import { consumerAccount, providerAccounts } from "../../scripts/local/accounts.js";
import { DEFAULT_PROFILES, type LocalMarket } from "../../scripts/local/market.js";
import { ensureWorkloads } from "../../runtime/workloads/build.js";
import { Ruling, Status } from "../../contracts/client/status.js";
import { signUsageReport } from "../../contracts/client/signing.js";
import type { UsageReport } from "../../contracts/client/typed-data.js";
import { decodeInputBundle, runJob, seedFromAgreement, shutdownJobPool } from "../../runtime/job/index.js";

/** The fault suite on one chain; faults-*.test.ts run it on the chains of E2E_MATRIX.faults. */
export const describeFaults = (chainCase: ChainCase) => describe(`end to end: the choreography under faults (${describeChain(chainCase)})`, function () {
  this.timeout(600_000);
  let market: LocalMarket;
  let proxy: RpcProxy;
  let env: Record<string, string>;
  let workloads: Record<string, string>;

  before(async () => {
    workloads = ensureWorkloads();
    market = await startTestMarket({
      ...chainCase,
      providers: DEFAULT_PROFILES.slice(0, 3),
      matchmakers: false, // the test bids itself, so it knows which host wins
      actorRpcUrl: async (nodeUrl) => {
        proxy = await startRpcProxy(nodeUrl);
        return proxy.url;
      },
    });
    const work = mkdtempSync(join(tmpdir(), "troupe-faults-"));
    env = {
      CONSUMER_KEY: consumerAccount(0).privateKey,
      TROUPE_DEPLOYMENT: market.deploymentFile,
      TROUPE_CONTENT_DIR: join(work, "content"),
      RPC_URL: market.rpcUrl,
    };
  });
  after(async () => {
    await market?.stop();
    await proxy?.stop();
    await shutdownJobPool();
  });

  /** Starts `troupe deploy` in the background and, as provider `winner`'s agent, bids on its request. */
  async function deployTo(winner: number, module: string, args: string[]): Promise<{ id: bigint; cli: Promise<CliResult> }> {
    const { market: m } = market.contracts;
    const before = await m.requestCount();
    const cli = runCli(["deploy", module, "--accept-first", "--bid-window", "30s", "--max-price", "0.01", "--max-fee", "0.001", ...args], env, 240_000);
    let finished: CliResult | undefined;
    void cli.then((r) => (finished = r));
    const id = await eventually(async () => {
      if (finished) throw new Error(`troupe deploy ended early: ${finished.stderr || finished.stdout}`);
      return (await m.requestCount()) > before ? before + 1n : undefined;
    }, 30_000, "the request");
    const { owner } = providerAccounts(winner, market.provider);
    const profile = market.providers[winner]!.profile;
    await (await m.connect(owner).bid(id, winner + 1, parseUnits(profile.price), parseUnits(profile.fee), ZeroHash)).wait();
    return { id, cli };
  }

  function logOf(name: string): string {
    return readFileSync(market.processes.logOf(name), "utf8");
  }

  it("a host killed mid-job and restarted reports exactly once", async () => {
    const { market: m } = market.contracts;
    const { id, cli } = await deployTo(0, workloads.interp!, ["--arg", "600", "--max-fuel", "100G", "--deadline", "3m"]);
    await eventually(async () => (logOf("host-0").includes(`agreement ${id} awarded`) ? true : undefined), 30_000, "the host to pick the job up");
    await new Promise((r) => setTimeout(r, 700));
    expect(logOf("host-0"), "the job was still running when the host died").to.not.include(`agreement ${id} ran`);
    await market.processes.restart("host-0");
    const result = await cli;
    expect(result.code, result.stderr + result.stdout).to.equal(0);
    expect(result.stdout).to.match(/settled: provider paid/);
    const reports = await m.queryFilter(m.filters.UsageReported(id), market.deployment.startBlock);
    expect(reports).to.have.length(1);
    expect(Number((await m.request(id)).status)).to.equal(Status.Settled);
  });

  it("a host that never reports is breached after the deadline and its stake is slashed", async () => {
    const { market: m, registry, token } = market.contracts;
    await market.processes.kill("host-1");
    const provider = market.providers[1]!.address;
    const stakeBefore = (await registry.providerOf(provider)).stake;
    const consumer = consumerAccount(0).address;
    const balanceBefore = await token.balanceOf(consumer);
    const { id, cli } = await deployTo(1, workloads.checksum!, ["--bid-window", "8s", "--deadline", "20s"]);
    const result = await cli;
    expect(result.code).to.equal(1);
    expect(result.stderr).to.match(/ended Breached/);
    const [breach] = await m.queryFilter(m.filters.AgreementBreached(id), market.deployment.startBlock);
    const [award] = await m.queryFilter(m.filters.AgreementCreated(id), market.deployment.startBlock);
    expect(breach!.args.penalty).to.equal(award!.args.penalty);
    expect((await registry.providerOf(provider)).stake).to.equal(stakeBefore - award!.args.penalty);
    expect((await registry.providerOf(provider)).breached).to.equal(1n);
    expect(await token.balanceOf(consumer)).to.equal(balanceBefore + award!.args.penalty);
    // Back up, the host sees the agreement is breached and does not run or report it.
    market.processes.start(specOf("host-1"));
    await eventually(async () => (logOf("host-1").includes(`agreement ${id} not run: the agreement is Breached`) ? true : undefined), 30_000, "the restarted host to pass the agreement over");
    expect(logOf("host-1")).to.not.include(`agreement ${id} ran`);
    expect(await m.queryFilter(m.filters.UsageReported(id), market.deployment.startBlock)).to.have.length(0);
  });

  it("a host that reports wrong fuel is disputed, the verifiers re-execute, and it is slashed", async () => {
    const { market: m, registry } = market.contracts;
    await market.processes.kill("host-1"); // the test plays provider 1's dishonest host
    const { host } = providerAccounts(1, market.provider);
    const provider = market.providers[1]!.address;
    const stakeBefore = (await registry.providerOf(provider)).stake;
    const { id, cli } = await deployTo(1, workloads.checksum!, ["--arg", "1", "--deadline", "2m"]);
    await eventually(async () => (Number((await m.request(id)).status) === Status.Awarded ? true : undefined), 30_000, "the award");
    // Run the job honestly, then claim more fuel than it used.
    const [posted] = await m.queryFilter(m.filters.RequestPosted(id), market.deployment.startBlock);
    const { chainId } = await market.provider.getNetwork();
    const result = await runJob({
      module: new Uint8Array(readFileSync(fileURLToPath(posted!.args.workloadURI))),
      input: decodeInputBundle(new Uint8Array(readFileSync(fileURLToPath(posted!.args.inputURI)))),
      limits: { fuel: posted!.args.maxFuel, memoryMiB: Number(posted!.args.minMemoryMiB), wallTimeoutMs: 60_000 },
      seed: seedFromAgreement(chainId, market.deployment.addresses.market, id),
    });
    const report: UsageReport = {
      agreementId: id, fuelUsed: result.fuelUsed + 1_000_000n, peakMemoryPages: result.peakMemoryPages, wallMs: result.wallMs,
      outcome: result.outcome, exitCode: result.exitCode, outputHash: result.outputHash, meteringVersion: result.meteringVersion, nonce: 1n,
    };
    const signing = { chainId, market: market.deployment.addresses.market };
    await (await m.connect(host).submitReport(report, await signUsageReport(host, signing, report))).wait();

    const dispute = await runCli(["dispute", String(id)], env);
    expect(dispute.code, dispute.stderr).to.equal(0);
    // The court draws a panel from the staked verifiers; they re-execute, commit, reveal; the
    // round is counted, the appeal window passes, the case closes and the market executes it.
    const [resolved] = await eventually(async () => {
      const logs = await m.queryFilter(m.filters.DisputeResolved(id), market.deployment.startBlock);
      return logs.length > 0 ? logs : undefined;
    }, 240_000, "the court's ruling");
    expect(Number(resolved!.args.ruling)).to.equal(Ruling.Overturned);
    const { court } = market.contracts;
    const drawn = await court.queryFilter(court.filters.VerifierDrawn(id), market.deployment.startBlock);
    expect(drawn.length).to.be.greaterThan(0);
    const reveals = await court.queryFilter(court.filters.VerdictRevealed(id), market.deployment.startBlock);
    expect(reveals.length).to.be.greaterThan(0);
    for (const v of reveals) {
      expect(v.args.fuelUsed).to.equal(result.fuelUsed);
      expect(v.args.outputHash).to.equal(result.outputHash);
    }
    const [closed] = await court.queryFilter(court.filters.CaseClosed(id), market.deployment.startBlock);
    expect(Number(closed!.args.ruling)).to.equal(Ruling.Overturned);
    expect(Number((await m.request(id)).status)).to.equal(Status.Overturned);
    expect((await registry.providerOf(provider)).stake).to.equal(stakeBefore - resolved!.args.slashed);
    expect(resolved!.args.slashed > 0n).to.equal(true);
    const story = await runCli(["dispute", "status", String(id)], env);
    expect(story.code, story.stderr).to.equal(0);
    expect(story.stdout).to.match(/ruled Overturned/).and.match(/revealed/);
    const anyone = await runCli(["verify", String(id)], env);
    expect(anyone.code).to.equal(1);
    expect(anyone.stdout).to.match(/fuel\s+DIFFERS/);
    const consumerSide = await cli;
    expect(consumerSide.code).to.equal(1);
    expect(consumerSide.stderr).to.match(/ended Overturned/);
    market.processes.start(specOf("host-1"));
  });

  it("the agents reconnect and catch up when the RPC endpoint restarts under them", async () => {
    const { market: m } = market.contracts;
    await proxy.stop();
    const { id, cli } = await deployTo(2, workloads.checksum!, ["--arg", "1", "--deadline", "2m"]);
    await eventually(async () => (Number((await m.request(id)).status) === Status.Awarded ? true : undefined), 30_000, "the award");
    await new Promise((r) => setTimeout(r, 4000)); // the host cannot see it while its endpoint is down
    expect(Number((await m.request(id)).status)).to.equal(Status.Awarded);
    await proxy.start();
    const result = await cli;
    expect(result.code, result.stderr + result.stdout).to.equal(0);
    expect(await m.queryFilter(m.filters.UsageReported(id), market.deployment.startBlock)).to.have.length(1);
  });

  it("the indexer killed and restarted ends with the same data as an uninterrupted run", async () => {
    await market.processes.restart("indexer");
    const { id, cli } = await deployTo(0, workloads.sort!, ["--arg", "1", "--deadline", "2m"]);
    await market.processes.restart("indexer");
    expect((await cli).code).to.equal(0);
    // A second indexer and explorer from scratch, never interrupted.
    const db = join(mkdtempSync(join(tmpdir(), "troupe-idx-")), "fresh.db");
    const port = await freePorts(1);
    const indexer = specOf("indexer");
    market.processes.start({ ...indexer, name: "indexer-fresh", env: { ...indexer.env, DB_PATH: db } });
    const explorer = specOf("explorer");
    market.processes.start({ ...explorer, name: "explorer-fresh", env: { ...explorer.env, DB_PATH: db, PORT: String(port) } });
    const freshUrl = `http://127.0.0.1:${port}`;
    const head = await market.provider.getBlockNumber();
    const dump = async (url: string) => {
      const data = await graphql<Record<string, unknown>>(url, `{
        _meta { block { number } }
        providers(orderBy: id) { id stake completed breached reputation earnings }
        offers(orderBy: id) { id pricePerMFuel withdrawn }
        deploymentRequests(orderBy: createdBlock) { id status bidCount escrow }
        bids(orderBy: id) { id total }
        agreements(orderBy: id) { id status providerPayment consumerRefund }
        usageReports(orderBy: id) { id fuelUsed outputHash }
        settlements(orderBy: id) { id kind providerPayment }
        marketSummaries { id agreements settled breached volume fuel }
      }`);
      return data;
    };
    const caughtUp = (url: string) => eventually(async () => {
      const d = await dump(url);
      return (d._meta as { block: { number: number } }).block.number >= head ? d : undefined;
    }, 60_000, `${url} to reach block ${head}`);
    const [restarted, fresh] = await Promise.all([caughtUp(market.explorerUrl), caughtUp(freshUrl)]);
    delete restarted._meta;
    delete fresh._meta;
    expect(restarted).to.deep.equal(fresh);
    expect((restarted.agreements as { id: string }[]).map((a) => a.id)).to.include(String(id));
  });

  function specOf(name: string) {
    return market.processes.specOf(name);
  }
});
