import { expect } from "chai";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { loadSchemaModel } from "../../services/common/entity-model.js";
import { startExplorer, type ExplorerOptions, type RunningExplorer } from "../../services/explorer/server.js";
import { explorerFixture, type ExplorerFixture } from "./explorer-fixture.js";

interface Answer {
  status: number;
  body: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] };
}

/** POSTs a query from a chosen loopback address (each address is its own client). */
function post(url: string, query: string, variables?: Record<string, unknown>, localAddress = "127.0.0.1"): Promise<Answer> {
  const body = Buffer.from(JSON.stringify({ query, variables }));
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/graphql`, { method: "POST", localAddress, headers: { "content-type": "application/json", "content-length": body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        try {
          resolve({ status: res.statusCode!, body: JSON.parse(text) as Answer["body"] });
        } catch {
          reject(new Error(`not JSON (${res.statusCode}): ${text.slice(0, 200)}`));
        }
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

const messages = (a: Answer) => (a.body.errors ?? []).map((e) => e.message).join("; ");

/** The attacks of issue #14, each of which must end in an error a person can act on. */
const orBranches = [...Array(40).keys()].map((i) => `{ provider_: { reputation_gt: ${i} }, request_: { bidCount_gte: ${i % 3} } }`).join(", ");
const nestedList = `${"[".repeat(2000)}"1"${"]".repeat(2000)}`;

describe("explorer: hostile queries end in clear errors while normal clients keep their latency", function () {
  this.timeout(180_000);
  let f: ExplorerFixture;
  const extra: RunningExplorer[] = [];
  const explorer = async (options: Partial<ExplorerOptions>) => {
    const e = await startExplorer({ dbPath: f.dbPath, schema: loadSchemaModel(), ...options });
    extra.push(e);
    return e;
  };

  before(async () => {
    f = await explorerFixture();
  });
  after(async () => {
    for (const e of extra) await e.close();
    await f?.close();
  });

  it("refuses a nested page query whose variables default to 1000 (cost counts variable values and defaults)", async () => {
    const q = `query ($n: Int = 1000) { providers(first: $n) { agreements(first: $n) { id status provider { id } } } }`;
    for (const variables of [undefined, { n: 1000 }]) {
      const a = await post(f.explorer.url, q, variables);
      expect(a.status).to.equal(200);
      expect(messages(a)).to.match(/query may cost 20\d{5}.* more than the maximum of 50000: ask for fewer \(first\)/);
      expect(a.body.errors![0]!.extensions?.code).to.equal("QUERY_TOO_COSTLY");
    }
    // The same shape within the limit runs.
    const ok = await post(f.explorer.url, q, { n: 10 });
    expect(ok.body.errors).to.equal(undefined);
  });

  it("refuses a 40-branch nested `or` filter, a 33,000-value `_in` and a 2,000-deep list literal", async () => {
    const or = await post(f.explorer.url, `{ agreements(where: { or: [${orBranches}] }) { id } }`);
    expect(messages(or)).to.match(/query may cost \d+ .*filter more simply/);
    const ids = [...Array(33_000).keys()].map(() => "1");
    const inList = await post(f.explorer.url, `query ($ids: [ID!]) { agreements(where: { id_in: $ids }) { id } }`, { ids });
    expect(messages(inList)).to.match(/filters list 33000 values .* more than the maximum of 5000: ask in several queries/);
    const deep = await post(f.explorer.url, `{ agreements(where: { id_in: ${nestedList} }) { id } }`);
    expect(deep.status).to.equal(400);
    expect(messages(deep)).to.match(/nests brackets 200\d levels deep, more than the maximum of 64/);
    for (const a of [or, inList, deep]) expect(messages(a)).to.not.match(/Unexpected error/);
  });

  it("caps responses, rows and time with errors that say what to change", async () => {
    const small = await explorer({ limits: { maxResponseBytes: 500 } });
    const big = await post(small.url, `{ bids(first: 1000) { id total pricePerMFuel request { id workloadURI } provider { id metadataURI } } }`);
    expect(messages(big)).to.match(/the response would be \d+ bytes, more than the limit of 500 bytes: ask for fewer entities/);
    const slow = await explorer({ limits: { timeoutMs: 0 } });
    const timedOut = await post(slow.url, `{ agreements { id provider { id } } }`);
    expect(timedOut.body.errors![0]!.extensions?.code).to.equal("QUERY_TIMEOUT");
    expect(messages(timedOut)).to.match(/ran out of time|took longer than the limit/);
    const rows = await explorer({ limits: { maxRows: 5 } });
    const tooMany = await post(rows.url, `{ bids(first: 100) { id } }`);
    expect(messages(tooMany)).to.match(/reads more entities than the server allows/);
  });

  it("limits each client's request rate and connections, and cuts off slow senders", async () => {
    const e = await explorer({ clientLimits: { requestsPerSecond: 2, burst: 5, maxConnectionsPerClient: 3 }, headersTimeoutMs: 1_000 });
    const answers = [];
    for (let i = 0; i < 7; i++) answers.push(await post(e.url, "{ _meta { block { number } } }", undefined, "127.0.0.5"));
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).to.be.greaterThan(0);
    expect(messages(limited[0]!)).to.match(/too many requests from 127\.0\.0\.5: at most 2 per second/);
    // Another client is not affected.
    expect((await post(e.url, "{ _meta { block { number } } }", undefined, "127.0.0.6")).status).to.equal(200);

    const { port } = new URL(e.url);
    const open = (local: string) =>
      new Promise<{ data: string; closedAfterMs: number }>((resolve) => {
        const started = performance.now();
        const socket = connect({ port: Number(port), host: "127.0.0.1", localAddress: local }, () => socket.write("POST /graphql HTTP/1.1\r\nHost: x\r\n"));
        let data = "";
        socket.on("data", (d) => (data += d.toString()));
        socket.on("close", () => resolve({ data, closedAfterMs: performance.now() - started }));
        socket.on("error", () => {});
      });
    const sockets = await Promise.all([...Array(5).keys()].map(() => open("127.0.0.7")));
    // Three slow senders held their connection until the headers timeout; the others were refused at once.
    const refused = sockets.filter((s) => /429 Too Many Requests/.test(s.data));
    expect(refused).to.have.length(2);
    expect(refused[0]!.data).to.match(/too many connections from 127\.0\.0\.7 \(at most 3\)/);
    const cut = sockets.filter((s) => !/429/.test(s.data));
    expect(cut).to.have.length(3);
    for (const s of cut) expect(s.closedAfterMs).to.be.within(900, 5_000);
  });

  it("keeps a normal client's answers fast and right while another loops the worst queries", async () => {
    const worst = [
      `query ($n: Int = 1000) { providers(first: $n) { agreements(first: $n) { id } } }`,
      `{ agreements(where: { or: [${orBranches}] }) { id } }`,
      // The most expensive query the limits let through (as bench:explorer's): a 40-branch `or` over a full page with nested relations.
      `{ agreements(first: 1000, orderBy: fee, where: { or: [${[...Array(10).keys()].map((i) => `{ fee_gte: "${i}" }, { status_not: "X${i}" }, { consumer_not: "0x${String(i).padStart(40, "0")}" }, { maxFuel_gt: "${i}" }`).join(", ")}] }) { id status provider { id reputation } request { id bids(first: 30) { id total } } } }`,
    ];
    // The worst allowed query is valid and runs (it is not refused before execution).
    const worstRuns = await post(f.explorer.url, worst[2]!, undefined, "127.0.0.9");
    expect(worstRuns.body.errors, JSON.stringify(worstRuns.body.errors)).to.equal(undefined);
    expect((worstRuns.body.data!.agreements as unknown[]).length).to.be.greaterThan(0);
    let hostile = true;
    const hostileLoop = (async () => {
      let i = 0;
      while (hostile) await post(f.explorer.url, worst[i++ % worst.length]!, undefined, "127.0.0.9");
    })();
    const latencies: number[] = [];
    const providerA = f.scenario.signers.providerA.address.toLowerCase();
    for (let i = 0; i < 150; i++) {
      const started = performance.now();
      const a = await post(f.explorer.url, `query ($id: ID!, $i: Int!) { provider(id: $id) { id completed agreements(first: 5, skip: $i) { id } } }`, { id: providerA, i: i % 3 });
      latencies.push(performance.now() - started);
      expect(a.body.errors, JSON.stringify(a.body.errors)).to.equal(undefined);
      expect((a.body.data!.provider as { id: string }).id).to.equal(providerA);
    }
    hostile = false;
    await hostileLoop;
    latencies.sort((x, y) => x - y);
    const p50 = latencies[Math.floor(latencies.length / 2)]!;
    const p99 = latencies[Math.floor(latencies.length * 0.99)]!;
    expect(p50, `normal p50 ${p50.toFixed(1)} ms`).to.be.below(50);
    expect(p99, `normal p99 ${p99.toFixed(1)} ms`).to.be.below(400);
  });
});
