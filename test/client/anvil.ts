import { spawn, type ChildProcess } from "node:child_process";
import { JsonRpcProvider, Network } from "ethers";
import { anvilBinary, rpc } from "../../scripts/local/chain.js";
import { LOCAL_MNEMONIC } from "../../scripts/local/accounts.js";
import { freePorts } from "../e2e/helpers.js";

/** A Foundry anvil node of its own, for one test file. */
export interface Anvil {
  url: string;
  provider: JsonRpcProvider;
  rpc(method: string, params?: unknown[]): Promise<unknown>;
  stop(): Promise<void>;
}

export async function startAnvil(args: string[] = []): Promise<Anvil> {
  const port = await freePorts(1);
  const child: ChildProcess = spawn(anvilBinary(), ["--host", "127.0.0.1", "--port", String(port), "--mnemonic", LOCAL_MNEMONIC, "--silent", ...args], { stdio: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      await rpc(url, "eth_chainId");
      break;
    } catch (error) {
      if (i > 100) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const network = Network.from(31337n);
  const provider = new JsonRpcProvider(url, network, { staticNetwork: network, pollingInterval: 100, cacheTimeout: -1, batchMaxCount: 1 });
  return {
    url,
    provider,
    rpc: (method, params = []) => rpc(url, method, params),
    async stop() {
      provider.destroy();
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
    },
  };
}
