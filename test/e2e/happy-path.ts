import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestMarket, runCli, graphql, eventually, describeChain, type ChainCase } from "./helpers.js";
import { consumerAccount } from "../../scripts/local/accounts.js";
import { ensureWorkloads } from "../../runtime/workloads/build.js";
import type { LocalMarket } from "../../scripts/local/market.js";

const M = 1_000_000n;

/** The happy path on one chain; happy-path-*.test.ts run it on the chains of E2E_MATRIX.happy. */
export const describeHappyPath = (chainCase: ChainCase) => describe(`end to end: the happy path, every actor its own process (${describeChain(chainCase)})`, function () {
  this.timeout(300_000);
  let market: LocalMarket;
  before(async () => {
    market = await startTestMarket(chainCase);
  });
  after(async () => {
    await market?.stop();
  });

  it("deploys with the CLI; matchmakers bid, the rule awards, the host runs, the report settles, balances move exactly", async () => {
    const { market: m, token } = market.contracts;
    const consumer = consumerAccount(0);
    const work = mkdtempSync(join(tmpdir(), "troupe-cli-"));
    const input = join(work, "input.txt");
    writeFileSync(input, "end to end\n");
    const env = {
      CONSUMER_KEY: consumer.privateKey,
      TROUPE_DEPLOYMENT: market.deploymentFile,
      TROUPE_CONTENT_DIR: join(work, "content"),
      EXPLORER_URL: `${market.explorerUrl}/graphql`,
    };
    const consumerBefore = await token.balanceOf(consumer.address);
    const providerBefore = await Promise.all(market.providers.map((p) => token.balanceOf(p.address)));

    const module = ensureWorkloads().checksum!;
    const cli = await runCli(
      ["deploy", module, "--input", input, "--bid-window", "8s", "--deadline", "3m", "--max-price", "0.01", "--max-fee", "0.001", "--arg", "1"],
      env,
    );
    expect(cli.stderr, cli.stdout).to.equal("");
    expect(cli.code).to.equal(0);
    expect(cli.stdout).to.match(/output verified/);
    expect(cli.stdout).to.match(/settled: provider paid/);
    expect(cli.stdout).to.match(/crc32=/);
    const id = BigInt(/request (\d+) posted/.exec(cli.stdout)![1]!);

    // The award followed the published rule over the bids the agents placed.
    const bids = await m.queryFilter(m.filters.BidPlaced(id), market.deployment.startBlock);
    expect(bids.length).to.be.greaterThan(0);
    const r = await m.request(id);
    const live = new Map<string, (typeof bids)[number]>();
    for (const b of bids) live.set(b.args.provider, b); // the latest bid of each provider is its live one
    // Lowest expected cost (total + value at risk × the bidder's failure rate) wins; ties go to the earlier bid.
    const order = (b: (typeof bids)[number]) => b.blockNumber * 1e6 + b.index;
    const best = [...live.values()].sort((a, b) => Number(a.args.expectedCost - b.args.expectedCost) || order(a) - order(b))[0]!;
    const [award] = await m.queryFilter(m.filters.AgreementCreated(id), market.deployment.startBlock);
    expect(award!.args.provider).to.equal(best.args.provider);

    // Balances moved by exactly the attested amounts.
    const [report] = await m.queryFilter(m.filters.UsageReported(id), market.deployment.startBlock);
    const fuel = report!.args.fuelUsed < r.maxFuel ? report!.args.fuelUsed : r.maxFuel;
    const payment = (fuel * award!.args.pricePerMFuel) / M + award!.args.fee;
    const [settled] = await m.queryFilter(m.filters.AgreementSettled(id), market.deployment.startBlock);
    expect(settled!.args.providerPayment).to.equal(payment);
    expect(await token.balanceOf(consumer.address)).to.equal(consumerBefore - payment);
    const winner = market.providers.findIndex((p) => p.address === award!.args.provider);
    expect(await token.balanceOf(award!.args.provider)).to.equal(providerBefore[winner]! + payment);

    // The explorer shows the whole timeline.
    const agreement = await eventually(async () => {
      const data = await graphql<{ agreement: { status: string; requestedAt: string; awardedAt: string; reportedAt: string | null; closedAt: string | null; providerPayment: string | null; usageReport: { fuelUsed: string } | null } | null }>(
        market.explorerUrl,
        `{ agreement(id: "${id}") { status requestedAt awardedAt reportedAt closedAt providerPayment usageReport { fuelUsed } } }`,
      );
      return data.agreement?.status === "Settled" ? data.agreement : undefined;
    }, 30_000, "the explorer to show the settled agreement");
    expect(BigInt(agreement.providerPayment!)).to.equal(payment);
    expect(agreement.usageReport!.fuelUsed).to.equal(report!.args.fuelUsed.toString());
    expect(Number(agreement.requestedAt)).to.be.at.most(Number(agreement.awardedAt));
    expect(Number(agreement.awardedAt)).to.be.at.most(Number(agreement.reportedAt));
    expect(Number(agreement.reportedAt)).to.be.at.most(Number(agreement.closedAt));

    // `troupe status` and `troupe market` read the same story.
    const status = await runCli(["status", String(id)], env);
    expect(status.code).to.equal(0);
    expect(status.stdout).to.match(/Settled/).and.match(/awarded/).and.match(/reported/);
    const verify = await runCli(["verify", String(id)], env);
    expect(verify.code, verify.stderr).to.equal(0);
    expect(verify.stdout).to.match(/fuel\s+matches/).and.match(/the report is correct/);
    const summary = await runCli(["market"], env);
    expect(summary.code, summary.stderr).to.equal(0);
    expect(summary.stdout).to.match(/providers by reputation/);

    // …and the matchmaker's reasoning can be asked for any request: an IoT-only request gets no
    // bid from these cloud and edge providers, and why-no-bid says so while the window is open.
    const providerFlags = market.providers.flatMap((p) => ["--provider", p.address]);
    const iotOnly = runCli(["deploy", module, "--tiers", "iot", "--bid-window", "20s", "--deadline", "40s"], env);
    const next = id + 1n;
    await eventually(async () => (Number((await m.request(next)).status) === 1 ? true : undefined), 20_000, "the IoT-only request");
    const why = await runCli(["why-no-bid", String(next), ...providerFlags], env);
    expect(why.code, why.stderr).to.equal(0);
    for (const p of market.providers) {
      expect(why.stdout.toLowerCase()).to.match(new RegExp(`provider ${p.address.toLowerCase()}\\): constraint tier`));
    }
    const expired = await iotOnly;
    expect(expired.code).to.equal(1);
    expect(expired.stderr).to.match(/no provider bid before the window closed; escrow of [\d.]+ refunded/);
    expect(expired.stdout).to.match(/why no bid/).and.match(/constraint tier/);
    const refused = await runCli(["why-no-bid", "999", "--provider", market.providers[0]!.address], env);
    expect(refused.code).to.equal(2);
    expect(refused.stderr).to.match(/there is no request 999/);
  });
});
