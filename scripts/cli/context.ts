import type { JsonRpcProvider, Wallet } from "ethers";
import { connectMarket, readDeployment, type DeploymentInfo, type MarketContracts } from "../lib/deployment.js";
import { loadKey } from "../lib/keys.js";
import { pinnedProvider, probeChainId } from "../../contracts/client/rpc.js";
import { UsageError } from "./units.js";

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
  /** Closes the connection, if one was opened. */
  close(): void;
}

/**
 * A context that reads the deployment and connects only when a command first needs them, so a
 * command's own bad input is reported before a missing deployment or an unreachable endpoint. The
 * first call to the endpoint checks that it answers and serves the deployment's chain.
 */
export function createContext(print: (line: string) => void = (l) => console.log(l)): Context {
  let deployment: DeploymentInfo | undefined;
  let provider: JsonRpcProvider | undefined;
  let contracts: MarketContracts | undefined;
  const signers = new Map<string, Promise<Wallet>>();
  const info = () => {
    try {
      return (deployment ??= readDeployment());
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  };
  const rpcUrl = () => process.env.RPC_URL ?? info().rpcUrl ?? "http://127.0.0.1:8545";
  const connect = (): JsonRpcProvider => {
    if (provider) return provider;
    const url = rpcUrl();
    const expected = BigInt(info().chainId);
    const p = pinnedProvider(url, expected, 250);
    let checked: Promise<void> | undefined;
    const send = p.send.bind(p);
    p.send = async (method: string, params: unknown[] | Record<string, unknown>) => {
      await (checked ??= probeChainId(url).then(
        (chainId) => {
          if (chainId !== expected) throw new Error(`the RPC endpoint ${url} serves chain ${chainId}, but the deployment is on chain ${expected}`);
        },
        (error: unknown) => {
          const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
          throw new Error(`cannot reach the RPC endpoint ${url} (${cause})`);
        },
      ));
      return send(method, params);
    };
    return (provider = p);
  };
  return {
    get rpcUrl() {
      return rpcUrl();
    },
    get deployment() {
      return info();
    },
    get provider() {
      return connect();
    },
    get contracts() {
      return (contracts ??= connectMarket(info(), connect()));
    },
    explorerUrl: process.env.EXPLORER_URL ?? "http://127.0.0.1:4000/graphql",
    signer(role) {
      let s = signers.get(role);
      if (!s) {
        s = loadKey(role, connect());
        signers.set(role, s);
      }
      return s;
    },
    print,
    close() {
      provider?.destroy();
    },
  };
}
