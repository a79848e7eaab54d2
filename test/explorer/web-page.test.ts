import { expect } from "chai";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { loadSchemaModel } from "../../services/common/entity-model.js";
import { openIndexDb } from "../../services/indexer/database.js";
import { EntityStore } from "../../services/indexer/entity-store.js";
import { configureManifest } from "../../services/indexer/indexer.js";
import { loadSubgraphManifest } from "../../services/indexer/mapping/manifest.js";
import { SubgraphRunner } from "../../services/indexer/mapping/subgraph-runner.js";
import { startExplorer, type RunningExplorer } from "../../services/explorer/server.js";
import { ADDRESSES, syntheticMarket } from "../../bench/explorer/synthetic-market.js";
import { explorerFixture, type ExplorerFixture } from "./explorer-fixture.js";

const SCREENSHOTS = ".troupe/screenshots";

/** A market bigger than one page of every list, indexed through the compiled mappings. */
function bigMarket(dir: string): string {
  const dbPath = join(dir, "big.db");
  const schema = loadSchemaModel();
  const db = openIndexDb(dbPath, schema);
  const store = new EntityStore(db, schema);
  const runner = new SubgraphRunner(configureManifest(loadSubgraphManifest(), ADDRESSES, 0), store, schema, { warn: (m) => { throw new Error(m); } });
  const market = syntheticMarket({ providers: 60, agreements: 400, days: 20, perBlock: 60, start: 1_780_000_000 });
  for (const block of market.blocks()) {
    runner.processBlock(block);
    store.flush(block.block, () => runner.persist(db));
  }
  db.close();
  return dbPath;
}

describe("explorer: the web page in headless Chromium", function () {
  this.timeout(180_000);
  let f: ExplorerFixture;
  let big: RunningExplorer;
  let dir: string;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    f = await explorerFixture();
    dir = mkdtempSync(join(tmpdir(), "troupe-web-"));
    big = await startExplorer({ dbPath: bigMarket(dir), schema: loadSchemaModel() });
    browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error") pageErrors.push(m.text());
    });
    mkdirSync(SCREENSHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await big?.close();
    await f?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("shows the seeded providers, open requests with bids, agreements and charts", async () => {
    await page.goto(`${f.explorer.url}/`);
    const { providerA, providerB } = f.scenario.signers;
    await page.locator(`#providers tr[data-provider="${providerA.address.toLowerCase()}"]`).waitFor();
    const rows = await page.locator("#providers tbody tr").count();
    expect(rows).to.equal(3);
    const rowB = await page.locator(`#providers tr[data-provider="${providerB.address.toLowerCase()}"]`).innerText();
    // 500 staked; 10 penalty and 10 verification fee slashed for the overturned report; its failure rate as the registry computes it
    expect(rowB).to.contain("edge").and.to.contain("480");
    const failureB = await f.scenario.deployment.registry.failureBpsOf(providerB.address);
    expect(rowB).to.contain(`${(Number(failureB) / 100).toFixed(2)}%`);
    expect(await page.locator("#verifiers tbody tr").count()).to.equal(4);
    const open = await page.locator("#open-requests").innerText();
    expect(open).to.contain(`#${f.scenario.ids.open}`);
    expect(await page.locator("#open-requests .bids li").count()).to.equal(2);
    expect(await page.locator("#agreements tbody tr").count()).to.equal(4);
    expect(await page.locator("#agreements .badge.Breached").count()).to.equal(1);
    expect(await page.locator("svg.chart rect").count()).to.be.greaterThan(0);
    expect(await page.locator("#status").innerText()).to.match(/^block \d+/);
    await page.screenshot({ path: `${SCREENSHOTS}/explorer-market.png`, fullPage: true });
  });

  it("follows links to a provider and to an agreement's timeline and bid explanations", async () => {
    const { providerA } = f.scenario.signers;
    await page.locator(`#providers tr[data-provider="${providerA.address.toLowerCase()}"] a`).click();
    await page.locator("#provider-agreements").waitFor();
    expect(page.url()).to.contain(`#/provider/${providerA.address.toLowerCase()}`);
    expect(await page.locator("h1").innerText()).to.contain(providerA.address.toLowerCase());
    await page.locator(`#provider-agreements tr[data-agreement="${f.scenario.ids.cosigned}"] a`).first().click();
    await page.locator("#timeline").waitFor();
    const steps = await page.locator("#timeline li").allInnerTexts();
    expect(steps.map((s) => s.split("\n")[0]!.trim())).to.deep.equal(["requested", "awarded", "reported", "settled"]);
    expect(await page.locator("#timeline li.ok").count()).to.equal(1);
    expect(await page.locator("h1 .badge").innerText()).to.equal("Settled");
    // Three placements; two carry an explanation hash (its document is not published yet), one none.
    const bids = await page.locator("#bids tbody tr").allInnerTexts();
    expect(bids).to.have.length(3);
    // Each bid's expected cost, as the award rule ranks it (the request states a value at risk: it exceeds the total).
    const costs = await page.locator("#bids .expected-cost").evaluateAll((els) => els.map((e) => e.getAttribute("data-wei")));
    const indexed = (await f.data(`{ bids(where: { request: "${f.scenario.ids.cosigned}" }, orderBy: seq) { expectedCost total } }`)).bids as { expectedCost: string; total: string }[];
    expect(costs).to.deep.equal(indexed.map((b) => b.expectedCost));
    expect(indexed.every((b) => BigInt(b.expectedCost) > BigInt(b.total))).to.equal(true);
    const explained = await page.locator("#bids .explanation").evaluateAll((els) => els.map((e) => e.getAttribute("data-hash")));
    expect(explained).to.have.length(2);
    for (const h of explained) expect(h).to.match(/^0x[0-9a-f]{64}$/);
    expect(bids.filter((b) => b.includes("none given"))).to.have.length(1);
    await page.screenshot({ path: `${SCREENSHOTS}/explorer-agreement.png`, fullPage: true });

  });

  it("shows a dispute: the ruling, each round's panel, commits and reveals, the appeal, and who was rewarded or slashed", async () => {
    const { ids, dispute, signers } = f.scenario;
    await page.goto(`${f.explorer.url}/#/agreement/${ids.overturned}`);
    await page.locator("#dispute").waitFor();
    const overturned = await page.locator("#timeline").innerText();
    expect(overturned).to.contain("disputed").and.to.contain("overturned");
    expect(await page.locator("#dispute .ruling").innerText()).to.equal("Overturned");
    expect(await page.locator("#dispute section.round").count()).to.equal(2);
    const first = page.locator('#dispute section.round[data-round="0"]');
    expect(await first.locator("h3").innerText()).to.contain("panel of 3 seats").and.to.contain("for the report");
    const seated = [...new Set(dispute.seats.map((a) => a.toLowerCase()))];
    const firstBallots = await first.locator("tr.ballot").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-verifier")));
    expect([...firstBallots].sort()).to.deep.equal([...seated].sort());
    expect(await first.locator("span.slashed").count()).to.equal(seated.length);
    const court = page.locator('#dispute section.round[data-round="1"]');
    expect(await court.locator("h3").innerText()).to.contain("full court").and.to.contain("against the report");
    expect(await court.locator("tr.ballot").count()).to.equal(signers.verifiers.length);
    expect(await court.locator("span.rewarded").count()).to.equal(signers.verifiers.length);
    expect(await court.locator("tr.ballot").first().innerText()).to.contain("123,000,000 fuel").and.to.contain("another claim");
    const appeal = await page.locator("#dispute tr.appeal").allInnerTexts();
    expect(appeal).to.have.length(1);
    expect(appeal[0]).to.contain("20"); // twice the 10-token dispute bond
    await page.screenshot({ path: `${SCREENSHOTS}/explorer-dispute.png`, fullPage: true });
  });

  it("shows a clear not-found page for an unknown id, address or route", async () => {
    for (const hash of ["#/agreement/99999999", "#/provider/0x00000000000000000000000000000000000000ff", "#/nosuch"]) {
      await page.goto(`${f.explorer.url}/${hash}`);
      await page.locator("#not-found").waitFor();
      const text = await page.locator("#not-found").innerText();
      expect(text).to.match(/^Not found/).and.to.match(/indexed up to block \d+/).and.to.contain("Back to the market");
    }
    expect(await page.title()).to.match(/Not found/);
  });

  it("pages and searches providers, requests and agreements, and shows the offer book, on a bigger market", async () => {
    await page.goto(`${big.url}/#/providers`);
    await page.locator("#providers tbody tr").first().waitFor();
    const first = await page.locator("#providers tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-provider")));
    expect(first).to.have.length(25);
    await page.locator("#providers a.older").click();
    await page.waitForFunction(() => document.querySelector("#providers nav span")?.textContent === "page 2");
    const second = await page.locator("#providers tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-provider")));
    expect(second).to.have.length(25);
    expect(second.filter((p) => first.includes(p))).to.deep.equal([]);
    // Search by address prefix.
    await page.fill(".search input[name=q]", `0x${"0".repeat(36)}102`);
    await page.press(".search input[name=q]", "Enter");
    await page.waitForFunction((prefix) => {
      const rows = [...document.querySelectorAll("#providers tbody tr")];
      return rows.length > 0 && rows.every((r) => r.getAttribute("data-provider")!.startsWith(prefix));
    }, `0x${"0".repeat(36)}102`);
    const found = await page.locator("#providers tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-provider")));
    expect(found).to.have.length(16);
    for (const p of found) expect(p).to.match(/^0x0{36}102[0-9a-f]$/);

    // Agreements: cursor pages with no overlap, newest first, filtered by status.
    await page.goto(`${big.url}/#/agreements?status=Settled`);
    await page.locator("#agreements tbody tr").first().waitFor();
    const page1 = await page.locator("#agreements tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-agreement")));
    await page.locator("#agreements a.older").click();
    await page.waitForFunction((before) => {
      const first = document.querySelector("#agreements tbody tr")?.getAttribute("data-agreement");
      return location.hash.includes("after=") && first && first !== before;
    }, page1[0]);
    const page2 = await page.locator("#agreements tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-agreement")));
    expect(page1).to.have.length(25);
    expect(page2).to.have.length(25);
    expect(page2.filter((a) => page1.includes(a))).to.deep.equal([]);
    expect(await page.locator("#agreements .badge").allInnerTexts()).to.satisfy((b: string[]) => b.every((x) => x === "Settled"));

    // Requests: the breached ones, and a jump by id.
    await page.goto(`${big.url}/#/requests?status=Breached`);
    await page.locator("#requests tbody tr").first().waitFor();
    expect(await page.locator("#requests .badge").allInnerTexts()).to.satisfy((b: string[]) => b.length > 0 && b.every((x) => x === "Breached"));
    await page.fill("#jump input", "250");
    await page.press("#jump input", "Enter");
    await page.waitForFunction(() => /#\/(agreement|request)\/250/.test(location.hash));
    await page.locator("h1").filter({ hasText: "#250" }).waitFor();

    // The offer book: live offers, cheapest first, by tier.
    await page.goto(`${big.url}/#/offers?tier=edge`);
    await page.locator("#offers tbody tr").first().waitFor();
    const offers = await page.locator("#offers tbody tr").allInnerTexts();
    expect(offers.length).to.equal(20);
    for (const o of offers) expect(o).to.contain("edge");
    await page.screenshot({ path: `${SCREENSHOTS}/explorer-offers.png`, fullPage: true });
  });

  it("draws charts and cards that never clip their text", async () => {
    for (const width of [1280, 700, 420]) {
      await page.setViewportSize({ width, height: 1000 });
      await page.goto(`${big.url}/`);
      await page.locator("svg.chart rect").first().waitFor();
      const clipped = await page.evaluate(() => {
        const out: string[] = [];
        for (const svg of document.querySelectorAll("svg.chart")) {
          const vb = (svg as SVGSVGElement).viewBox.baseVal;
          for (const t of svg.querySelectorAll("text")) {
            const b = (t as SVGTextElement).getBBox();
            if (b.x < vb.x - 0.5 || b.y < vb.y - 0.5 || b.x + b.width > vb.x + vb.width + 0.5 || b.y + b.height > vb.y + vb.height + 0.5) out.push(`chart label "${t.textContent}"`);
          }
        }
        for (const v of document.querySelectorAll(".card .value")) {
          const e = v as HTMLElement;
          if (e.scrollWidth > e.clientWidth + 1) out.push(`card "${e.textContent}"`);
        }
        return out;
      });
      expect(clipped, `at ${width}px`).to.deep.equal([]);
    }
    await page.screenshot({ path: `${SCREENSHOTS}/explorer-narrow.png`, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 1000 });
  });

  it("serves a working GraphiQL with no network beyond the explorer", async () => {
    const context = await browser.newContext();
    const graphiql = await context.newPage();
    const outside: string[] = [];
    await graphiql.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(f.explorer.url) || url.startsWith("blob:") || url.startsWith("data:")) return route.continue();
      outside.push(url);
      return route.abort();
    });
    // GraphiQL's own code runs and loads the schema from the explorer (an introspection query).
    const introspection = graphiql.waitForResponse(
      (r) => r.url() === `${f.explorer.url}/graphql` && r.request().method() === "POST" && (r.request().postData() ?? "").includes("__schema"),
      { timeout: 30_000 },
    );
    await graphiql.goto(`${f.explorer.url}/graphql`);
    await graphiql.locator(".graphiql-container").first().waitFor({ timeout: 30_000 });
    const schema = (await (await introspection).json()) as { data?: { __schema?: { types: { name: string }[] } } };
    expect(schema.data?.__schema?.types.map((t) => t.name)).to.include.members(["DeploymentRequest", "Agreement", "Block_height"]);
    await graphiql.screenshot({ path: `${SCREENSHOTS}/explorer-graphiql.png` });
    expect(outside).to.deep.equal([]);
    await context.close();
  });

  it("updates while the market runs", async () => {
    await page.goto(`${f.explorer.url}/`);
    await page.locator("#providers").waitFor();
    const { market } = f.scenario.deployment;
    const now = (await f.node.provider.getBlock("latest"))!.timestamp;
    await (await market.connect(f.scenario.signers.consumer).postRequest({
      workloadHash: "0x" + "22".repeat(32), workloadURI: "ipfs://live", inputHash: "0x" + "00".repeat(32), inputURI: "",
      maxFuel: 10n ** 9n, maxPricePerMFuel: 10n ** 16n, maxFee: 0n, minMemoryMiB: 1, allowedTiers: 7, region: 1,
      maxLatencyClass: 3, bidWindow: 3600, execTime: 600, deadline: now + 7200, meteringVersion: 1, valueAtRisk: 0n,
    })).wait();
    await f.indexer.syncOnce();
    const id = (await market.requestCount()).toString();
    await page.locator(`#open-requests a[href="#/request/${id}"]`).waitFor({ timeout: 10_000 });
    expect(pageErrors).to.deep.equal([]);
  });
});
