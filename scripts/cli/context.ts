import type { JsonRpcProvider, Wallet } from "ethers";
import { connectMarket, connectRpc, readDeployment, type DeploymentInfo, type MarketContracts } from "../lib/deployment.js";
import { loadKey } from "../lib/keys.js";

/** Everything a command needs: the chain, the market, keys on demand, where to print. */
export interface Context {
  rpcUrl: string;
  deployment: DeploymentInfo;
  provider: JsonRpcProvider;
  /** Read-only contracts. */
  contracts: MarketContracts;
  /** The explorer's GraphQL endpoint. */
  explorerUrl: string;
  /** A signer for a role (`PROVIDER`, `CONSUMER`, ...), loaded from the environment when first asked. */
  signer(role: string): Promise<Wallet>;
  print(line: string): void;
}

export async function createContext(print: (line: string) => void = (l) => console.log(l)): Promise<Context> {
  const deployment = readDeployment();
  const rpcUrl = process.env.RPC_URL ?? deployment.rpcUrl ?? "http://127.0.0.1:8545";
  const provider = await connectRpc(rpcUrl);
  const chainId = (await provider.getNetwork()).chainId;
  if (deployment.chainId && BigInt(deployment.chainId) !== chainId) {
    provider.destroy();
    throw new Error(`the RPC endpoint ${rpcUrl} serves chain ${chainId}, but the deployment is on chain ${deployment.chainId}`);
  }
  const signers = new Map<string, Promise<Wallet>>();
  return {
    rpcUrl,
    deployment,
    provider,
    contracts: connectMarket(deployment, provider),
    explorerUrl: process.env.EXPLORER_URL ?? "http://127.0.0.1:4000/graphql",
    signer(role) {
      let s = signers.get(role);
      if (!s) {
        s = loadKey(role, provider);
        signers.set(role, s);
      }
      return s;
    },
    print,
  };
}
