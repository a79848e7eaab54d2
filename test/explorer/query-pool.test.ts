import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSchemaModel } from "../../services/common/entity-model.js";
import { encodeBigInt } from "../../services/common/sql-layout.js";
import { DEFAULT_LIMITS } from "../../services/explorer/graphql/limits.js";
import { QueryPool } from "../../services/explorer/query-pool.js";
import { openIndexDb } from "../../services/indexer/database.js";

/** A 40-branch `or` over every agreement, ordered by an unindexed field: a slow query the limits allow. */
const slow = JSON.stringify({
  query: `{ agreements(first: 1000, orderBy: fee, where: { or: [${[...Array(40).keys()].map((i) => `{ fee_lt: "${i}" }`).join(", ")}, { status_not: "X" }] }) { id fee } }`,
});
const NON_ASCII = "Überfällig ✓ 契約 🚀";
const fast = (id: number | string) => JSON.stringify({ query: `{ agreement(id: "${id}") { id status } }` });

describe("explorer: the query pool", function () {
  this.timeout(120_000);
  let dir: string;
  let pool: QueryPool;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "troupe-pool-"));
    const schema = loadSchemaModel();
    const dbPath = join(dir, "index.db");
    const db = openIndexDb(dbPath, schema);
    const insert = db.prepare(`INSERT INTO "Agreement" ("id", "fee", "status", "__block_start") VALUES (?, ?, ?, 1)`);
    db.transaction(() => {
      for (let i = 1; i <= 200_000; i++) insert.run(String(i), encodeBigInt(BigInt((i * 7919) % 100_003) + 1000n), i % 10 ? "Settled" : "Breached");
      insert.run("x", encodeBigInt(1n), NON_ASCII);
    })();
    db.close();
    pool = new QueryPool({
      dbPath,
      schemaSource: schema.source,
      limits: { ...DEFAULT_LIMITS, timeoutMs: 30_000, maxRows: 1_000_000 },
      size: 2,
      maxPerClient: 128,
      maxQueued: 4096,
      maxWaitMs: 60_000,
    });
    await pool.ready();
  });

  after(async () => {
    await pool?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers a client's quick queries on the free worker while the other runs a slow one, even those sent ahead behind it", async () => {
    const started = performance.now();
    let slowDoneAt = 0;
    const slowAnswer = pool.run("127.0.0.9", slow).then((a) => {
      slowDoneAt = performance.now() - started;
      return a;
    });
    // 16 quick clients' queries at once: with both workers busy, each is sent one ahead, one of
    // them behind the slow query; that one must be taken back for the free worker. (32 quick
    // queries take a few ms; the slow one ~0.3 s here, several times more on a loaded machine.)
    let quickDoneAt = 0;
    const quick = await Promise.all(
      [...Array(16).keys()].map(async (i) => {
        const answers = [];
        for (let j = 0; j < 2; j++) answers.push(await pool.run("127.0.0.1", fast(1 + i * 2 + j)));
        quickDoneAt = Math.max(quickDoneAt, performance.now() - started);
        return answers;
      }),
    );
    const slowReply = await slowAnswer;
    expect(slowReply.status).to.equal(200);
    expect((JSON.parse(slowReply.body.toString()) as { data: { agreements: unknown[] } }).data.agreements).to.have.length(1000);
    quick.flat().forEach((a, k) => {
      expect(a.status).to.equal(200);
      const id = String(1 + k);
      expect(JSON.parse(a.body.toString())).to.deep.equal({ data: { agreement: { id, status: Number(id) % 10 ? "Settled" : "Breached" } } });
    });
    expect(quickDoneAt, `quick queries done at ${quickDoneAt.toFixed(0)} ms, the slow one at ${slowDoneAt.toFixed(0)} ms`).to.be.below(slowDoneAt);
  });

  it("answers with the worker's UTF-8 bytes as they are, several answers in a row from each worker", async () => {
    const expected = JSON.stringify({ data: { agreement: { id: "x", status: NON_ASCII } } });
    const answers = await Promise.all([...Array(8).keys()].map(() => pool.run("127.0.0.3", fast("x"))));
    for (const a of answers) {
      expect(a.status).to.equal(200);
      expect(Buffer.isBuffer(a.body)).to.equal(true);
      expect(a.body.length).to.equal(Buffer.byteLength(expected));
      expect(a.body.toString("utf8")).to.equal(expected);
    }
    // Each answer has bytes of its own (a transferred buffer is never shared with a later answer).
    expect(new Set(answers.map((a) => a.body.buffer)).size).to.equal(answers.length);
  });
});
