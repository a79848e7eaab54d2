import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { keepAliveAgent, post } from "../../contracts/client/http-post.js";
import { expectReject } from "../helpers/expect-reject.js";

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("client: one POST on a keep-alive agent", function () {
  this.timeout(20_000);

  it("keeps the connection between calls, and sends a call again when the server had closed the kept one", async () => {
    const sockets = new Set<Socket>();
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString())).on("end", () => res.end(`echo ${body}`));
    });
    server.on("connection", (s: Socket) => sockets.add(s));
    const url = await listen(server);
    const agent = keepAliveAgent(url);
    try {
      expect((await post(url, "one", { agent, timeoutMs: 5000 })).body.toString()).to.equal("echo one");
      expect((await post(url, "two", { agent, timeoutMs: 5000 })).body.toString()).to.equal("echo two");
      expect(sockets.size).to.equal(1);
      // The server drops the idle connection without saying so; the agent still holds it.
      for (const s of sockets) s.destroy();
      const again = await post(url, "three", { agent, timeoutMs: 5000 });
      expect(again.status).to.equal(200);
      expect(again.body.toString()).to.equal("echo three");
    } finally {
      agent.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  it("gives up on a server that does not answer in time, and on an answer larger than allowed", async () => {
    const server = createServer((req, res) => {
      if (req.url === "/slow") return; // never answers
      res.end("x".repeat(10_000));
    });
    const url = await listen(server);
    const agent = keepAliveAgent(url);
    try {
      await expectReject(post(`${url}/slow`, "{}", { agent, timeoutMs: 200 }), /did not answer within 200 ms/);
      await expectReject(post(`${url}/big`, "{}", { agent, timeoutMs: 5000, maxBytes: 1000 }), /more than 1000 bytes/);
      expect((await post(`${url}/big`, "{}", { agent, timeoutMs: 5000 })).body.length).to.equal(10_000);
    } finally {
      agent.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
