import { expect } from "chai";
import { mkdirSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { explorerFixture, type ExplorerFixture } from "./explorer-fixture.js";

const SCREENSHOTS = ".troupe/screenshots";

describe("explorer: the web page in headless Chromium", function () {
  this.timeout(120_000);
  let f: ExplorerFixture;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    f = await explorerFixture();
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
    await f?.close();
  });

  it("shows the seeded providers, open requests with bids, agreements and charts", async () => {
    await page.goto(`${f.explorer.url}/`);
    const { providerA, providerB } = f.scenario.signers;
    await page.locator(`#providers tr[data-provider="${providerA.address.toLowerCase()}"]`).waitFor();
    const rows = await page.locator("#providers tbody tr").count();
    expect(rows).to.equal(5);
    const rowB = await page.locator(`#providers tr[data-provider="${providerB.address.toLowerCase()}"]`).innerText();
    expect(rowB).to.contain("edge").and.to.contain("485"); // 500 staked, 15 slashed for the overturned report
    const open = await page.locator("#open-requests").innerText();
    expect(open).to.contain(`#${f.scenario.ids.open}`);
    expect(await page.locator("#open-requests .bids li").count()).to.equal(2);
    expect(await page.locator("#agreements tbody tr").count()).to.equal(4);
    expect(await page.locator("#agreements .badge.Breached").count()).to.equal(1);
    expect(await page.locator("svg.chart rect").count()).to.be.greaterThan(0);
    expect(await page.locator("#status").innerText()).to.match(/^block \d+/);
    await page.screenshot({ path: `${SCREENSHOTS}/explorer-market.png`, fullPage: true });
  });

  it("follows links to a provider and to an agreement's timeline", async () => {
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
    await page.screenshot({ path: `${SCREENSHOTS}/explorer-agreement.png`, fullPage: true });

    await page.goto(`${f.explorer.url}/#/agreement/${f.scenario.ids.overturned}`);
    await page.locator("#dispute").waitFor();
    const overturned = await page.locator("#timeline").innerText();
    expect(overturned).to.contain("disputed").and.to.contain("overturned");
    expect(await page.locator("#dispute tbody tr").count()).to.equal(2);
  });

  it("updates while the market runs", async () => {
    await page.goto(`${f.explorer.url}/`);
    await page.locator("#providers").waitFor();
    const { market } = f.scenario.deployment;
    const now = (await f.node.provider.getBlock("latest"))!.timestamp;
    await (await market.connect(f.scenario.signers.consumer).postRequest({
      workloadHash: "0x" + "22".repeat(32), workloadURI: "ipfs://live", inputHash: "0x" + "00".repeat(32), inputURI: "",
      maxFuel: 10n ** 9n, maxPricePerMFuel: 10n ** 16n, maxFee: 0n, minMemoryMiB: 1, allowedTiers: 7, region: 1,
      maxLatencyClass: 3, bidWindow: 3600, deadline: now + 7200,
    })).wait();
    await f.indexer.syncOnce();
    const id = (await market.requestCount()).toString();
    await page.locator(`#open-requests a[href="#/request/${id}"]`).waitFor({ timeout: 10_000 });
    expect(pageErrors).to.deep.equal([]);
  });
});
