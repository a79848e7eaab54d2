import { network } from "hardhat";
import { JsonRpcProvider } from "ethers";

/** A Hardhat chain served over JSON-RPC on loopback, for services that run as separate processes. */
export interface RpcNode {
  url: string;
  /** A client of the served chain; its signers are Hardhat's funded, unlocked dev accounts. */
  provider: JsonRpcProvider;
  close(): Promise<void>;
}

/** Starts a fresh in-process Hardhat chain and serves it on 127.0.0.1 (port 0 = any free port). */
export async function startRpcNode(port = 0): Promise<RpcNode> {
  const server = await network.createServer({}, "127.0.0.1", port);
  const { address, port: bound } = await server.listen();
  const url = `http://${address}:${bound}`;
  const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true, pollingInterval: 100 });
  return {
    url,
    provider,
    async close() {
      provider.destroy();
      await server.close();
    },
  };
}
