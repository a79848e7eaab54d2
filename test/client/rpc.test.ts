import { expect } from "chai";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Contract, Wallet, isError, parseEther } from "ethers";
import { pinnedProvider } from "../../contracts/client/rpc.js";
import { startRpcNode, type RpcNode } from "../helpers/rpc-node.js";
import { expectReject } from "../helpers/expect-reject.js";

describe("client: the pinned provider's own JSON-RPC transport", function () {
  this.timeout(60_000);
  let node: RpcNode;
  before(async () => {
    node = await startRpcNode();
  });
  after(async () => {
    await node.close();
  });

  it("reads, sends and waits like ethers' own transport, and passes a node's errors on as ethers errors", async () => {
    const { chainId } = await node.provider.getNetwork();
    const provider = pinnedProvider(node.url, chainId, 100);
    try {
      const [from] = (await node.provider.send("eth_accounts", [])) as string[];
      const signer = await node.provider.getSigner(from!);
      const to = Wallet.createRandom().address;
      await (await signer.sendTransaction({ to, value: parseEther("1.5") })).wait();
      expect(await provider.getBalance(to)).to.equal(parseEther("1.5"));
      // A batch of calls (ethers batches what is asked in the same tick unless told not to).
      const [block, count] = await Promise.all([provider.getBlockNumber(), provider.getTransactionCount(from!)]);
      expect(block).to.equal(Number(await node.provider.send("eth_blockNumber", [])));
      expect(count).to.equal(Number(await node.provider.send("eth_getTransactionCount", [from, "latest"])));
      // A JSON-RPC error answer: an unknown method is an ethers error carrying the node's words.
      const unknown = await provider.send("troupe_noSuchMethod", []).catch((e: unknown) => e);
      expect(isError(unknown, "UNKNOWN_ERROR") || isError(unknown, "UNSUPPORTED_OPERATION")).to.equal(true, String(unknown));
      // A call that reverts is a CALL_EXCEPTION, as before.
      const reverter = new Contract(to, ["function f() view returns (uint256)"], provider);
      await expectReject(reverter.f!(), /could not decode result data|call revert exception|missing revert data/);
    } finally {
      provider.destroy();
    }
  });

  it("a refused connection is the socket's error, a non-2xx answer a SERVER_ERROR", async () => {
    // A port nobody listens on: one just bound and released.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const closedPort = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const refused = pinnedProvider(`http://127.0.0.1:${closedPort}`, 31337n, 100);
    try {
      await expectReject(refused.getBlockNumber(), /ECONNREFUSED/);
    } finally {
      refused.destroy();
    }
    const server = createServer((_req, res) => {
      res.writeHead(503, { "content-type": "text/plain" });
      res.end("overloaded");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const failing = pinnedProvider(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 31337n, 100);
    try {
      const error = await failing.getBlockNumber().catch((e: unknown) => e);
      expect(isError(error, "SERVER_ERROR"), String(error)).to.equal(true);
      expect(String(error)).to.match(/server response 503/);
    } finally {
      failing.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});
