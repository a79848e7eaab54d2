import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest, Agent } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet, ZeroHash } from "ethers";
import { Outcome } from "../../contracts/client/typed-data.js";
import { ContentStore } from "../../runtime/host/content-store.js";
import { Outbox } from "../../runtime/host/outbox.js";
import { OutputServer, type ServerLimits } from "../../runtime/host/output-server.js";
import { outputAccessHeader } from "../../runtime/host/output-auth.js";

const chainId = 31337n;
const market = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const provider = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
/** Attackers connect from another loopback address than the honest consumer (127.0.0.1). */
const ATTACKER = "127.0.0.2";

/**
 * The attacker's side of the flood, as its own process (so its CPU is not the server's): `workers`
 * loops send GETs with fresh random signatures for `ms`, and it prints how the server answered.
 */
const FLOOD = `
import { request, Agent } from "node:http";
import { randomBytes } from "node:crypto";
const { url, ms, workers, from, path, expiry } = JSON.parse(process.env.FLOOD);
const agent = new Agent({ keepAlive: true, maxSockets: workers });
const counts = {};
const until = Date.now() + ms;
const one = () => new Promise((resolve) => {
  const auth = "Troupe " + expiry + ":0x" + randomBytes(65).toString("hex");
  const req = request(url + path, { agent, localAddress: from, headers: { authorization: auth } }, (res) => {
    counts[res.statusCode] = (counts[res.statusCode] ?? 0) + 1;
    res.resume();
    res.on("end", resolve);
  });
  req.on("error", () => { counts.error = (counts.error ?? 0) + 1; resolve(); });
  req.end();
});
async function loop() { for (let i = 0; i < 20000 && Date.now() < until; i++) await one(); }
await Promise.all(Array.from({ length: workers }, loop));
agent.destroy();
console.log(JSON.stringify(counts));
`;

function flood(url: string, expiry: number, ms: number, workers: number): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--input-type=module", "-e", FLOOD], {
      env: { ...process.env, FLOOD: JSON.stringify({ url, ms, workers, from: ATTACKER, path: "/agreements/1/stdout", expiry }) },
      timeout: ms + 30_000,
    }, (error, stdout) => (error ? reject(error) : resolve(JSON.parse(stdout) as Record<string, number>)));
  });
}

describe("runtime-host: the output server sheds abuse (the attacker's tests)", function () {
  this.timeout(60_000);
  const consumer = Wallet.createRandom();
  let dir: string;

  async function startServer(limits: Partial<ServerLimits> = {}) {
    dir = mkdtempSync(join(tmpdir(), "troupe-abuse-"));
    const store = new ContentStore(join(dir, "store"));
    const outbox = new Outbox(join(dir, "outbox"));
    await outbox.add({
      report: { agreementId: 1n, fuelUsed: 1000n, peakMemoryPages: 1, wallMs: 1, outcome: Outcome.Exited, exitCode: 0, outputHash: ZeroHash, meteringVersion: 1, nonce: 1n },
      signature: "0x" + "11".repeat(65),
      outputs: { stdout: store.put(new TextEncoder().encode("42\n")), stderr: store.put(new Uint8Array()), files: {} },
    });
    let recovered = 0;
    const server = new OutputServer({
      chainId, market, provider,
      consumerOf: (id) => (id === 1n ? consumer.address : undefined),
      entry: (id) => outbox.get(id),
      blob: (hash) => store.get(hash),
      note: () => undefined,
      accept: async () => {
        recovered++;
        return { status: 403, message: "not the consumer" };
      },
      health: () => ({ ok: true }),
    }, limits);
    return { server, acceptances: () => recovered };
  }
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** `n` sequential GETs by the honest consumer over one keep-alive connection; their p50 in ms. */
  async function honestP50(base: string, auth: string, n: number): Promise<number> {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${base}/agreements/1/stdout`, { agent, headers: { authorization: auth } }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        });
        req.on("error", reject);
        req.end();
      });
      times.push(performance.now() - t0);
      expect(status).to.equal(200);
      await new Promise((r) => setTimeout(r, 20));
    }
    agent.destroy();
    return times.sort((a, b) => a - b)[Math.floor(n / 2)]!;
  }

  it("a flood of random signatures from one client is refused before recovery; honest consumers' p50 stays low", async () => {
    const { server } = await startServer();
    const base = `http://127.0.0.1:${await server.listen(0)}`;
    try {
      const expiry = Math.floor(Date.now() / 1000) + 600;
      const auth = await outputAccessHeader(consumer, chainId, market, provider, expiry);
      const quiet = await honestP50(base, auth, 40);
      const attack = flood(base, expiry, 4000, 32);
      await new Promise((r) => setTimeout(r, 800));
      const loud = await honestP50(base, auth, 40);
      const answers = await attack;
      const refused = answers["429"] ?? 0;
      const checked = (answers["401"] ?? 0) + (answers["403"] ?? 0);
      console.log(`      honest p50 ${quiet.toFixed(2)} ms quiet, ${loud.toFixed(2)} ms under the flood; flood answers ${JSON.stringify(answers)}`);
      // At most the burst plus the per-second budget over the flood's 4 s got a signature check.
      expect(checked).to.be.at.most(60 + 20 * 6);
      expect(refused).to.be.greaterThan(checked);
      expect(loud).to.be.below(Math.max(25, 5 * quiet));
    } finally {
      await server.close();
    }
  });

  it("co-signatures: malformed ones are refused without recovery, and a client's new ones are rationed", async () => {
    const { server, acceptances } = await startServer({ recoveryBurst: 5, recoveriesPerSecond: 1 });
    const base = `http://127.0.0.1:${await server.listen(0)}`;
    try {
      const post = (signature: string) => fetch(`${base}/agreements/1/acceptance`, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ signature }),
      }).then((r) => r.status);
      expect(await post("0x1234")).to.equal(400);
      expect(await post("not hex")).to.equal(400);
      expect(acceptances()).to.equal(0);
      const statuses = [];
      for (let i = 0; i < 20; i++) statuses.push(await post("0x" + "ab".repeat(65)));
      expect(statuses.filter((s) => s === 403)).to.have.length.at.most(6);
      expect(statuses.filter((s) => s === 429)).to.have.length.at.least(14);
      expect(acceptances()).to.be.at.most(6);
      expect((await fetch(`${base}/agreements/9/acceptance`, { method: "POST", body: JSON.stringify({ signature: "0x" + "ab".repeat(65) }) })).status).to.equal(404);
    } finally {
      await server.close();
    }
  });

  it("500 slowloris connections: a client gets its share of connections, slow headers are cut off, honest requests are served", async () => {
    const { server } = await startServer({ headersTimeoutMs: 1500, connectionsPerClient: 64 });
    const port = await server.listen(0);
    const sockets: Socket[] = [];
    let closedEarly = 0;
    try {
      for (let i = 0; i < 500; i++) {
        const s = connect({ host: "127.0.0.1", port, localAddress: ATTACKER });
        s.on("error", () => {});
        s.on("connect", () => s.write("GET /health HTTP/1.1\r\nHost: x\r\n"));
        sockets.push(s);
      }
      // Trickle a header line now and then, as a slowloris does.
      const trickle = setInterval(() => sockets.forEach((s) => !s.destroyed && s.write("X-a: b\r\n")), 500);
      await new Promise((r) => setTimeout(r, 700));
      closedEarly = sockets.filter((s) => s.destroyed || s.closed).length;
      const t0 = performance.now();
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      const honestMs = performance.now() - t0;
      expect(health.status).to.equal(200);
      expect(honestMs).to.be.below(1000);
      expect(closedEarly, "connections over the client's share are refused at once").to.be.at.least(500 - 64);
      await new Promise((r) => setTimeout(r, 3500));
      clearInterval(trickle);
      const open = sockets.filter((s) => !s.destroyed && !s.closed).length;
      expect(open, "no slow connection outlives the headers timeout").to.equal(0);
    } finally {
      sockets.forEach((s) => s.destroy());
      await server.close();
    }
  });
});
