import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { Contract, type ContractRunner, type JsonRpcProvider } from "ethers";
import { pinnedProvider, probeChainId } from "../../contracts/client/rpc.js";
import { abiOf } from "../../contracts/client/artifacts.js";
import type { OfferBook, ProviderRegistry, TroupeMarket, TroupeToken } from "../../types/ethers-contracts/index.js";

/** Where a market lives: what every actor needs to find it. Written by deploy, read by everyone. */
export interface DeploymentInfo {
  chainId: string;
  rpcUrl: string;
  startBlock: number;
  addresses: { token: string; registry: string; offers: string; market: string; court?: string; models?: string };
}

/** The default deployment file of the local market. */
export const DEFAULT_DEPLOYMENT_FILE = ".troupe/deployment.json";

export function deploymentFile(): string {
  return resolve(process.env.TROUPE_DEPLOYMENT ?? DEFAULT_DEPLOYMENT_FILE);
}

/** Reads the deployment file, with an error that says how to get one. */
export function readDeployment(file = deploymentFile()): DeploymentInfo {
  if (!existsSync(file)) {
    throw new Error(`no deployment at ${file}: start the local market (npm start) or set TROUPE_DEPLOYMENT`);
  }
  let info: DeploymentInfo;
  try {
    info = JSON.parse(readFileSync(file, "utf8")) as DeploymentInfo;
  } catch (error) {
    throw new Error(`the deployment file ${file} is not valid JSON (${(error as Error).message})`);
  }
  for (const key of ["token", "registry", "offers", "market"] as const) {
    if (!/^0x[0-9a-fA-F]{40}$/.test(info.addresses?.[key] ?? "")) {
      throw new Error(`the deployment file ${file} has no valid ${key} address`);
    }
  }
  return info;
}

/** Writes the deployment file atomically. */
export function writeDeployment(info: DeploymentInfo, file = deploymentFile()): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(info, null, 2) + "\n");
  renameSync(`${file}.tmp`, file);
}

/** The market's contracts, bound to a signer or provider. */
export interface MarketContracts {
  token: TroupeToken;
  registry: ProviderRegistry;
  offers: OfferBook;
  market: TroupeMarket;
}

export function connectMarket(info: DeploymentInfo, runner: ContractRunner): MarketContracts {
  return {
    token: new Contract(info.addresses.token, abiOf("TroupeToken") as never, runner) as unknown as TroupeToken,
    registry: new Contract(info.addresses.registry, abiOf("ProviderRegistry") as never, runner) as unknown as ProviderRegistry,
    offers: new Contract(info.addresses.offers, abiOf("OfferBook") as never, runner) as unknown as OfferBook,
    market: new Contract(info.addresses.market, abiOf("TroupeMarket") as never, runner) as unknown as TroupeMarket,
  };
}

/** A JSON-RPC client pinned to the endpoint's chain; fails fast with a clear message when it is unreachable. */
export async function connectRpc(url: string, timeoutMs = 5000): Promise<JsonRpcProvider> {
  let chainId: bigint;
  try {
    chainId = await probeChainId(url, timeoutMs);
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new Error(`cannot reach the RPC endpoint ${url} (${cause})`);
  }
  return pinnedProvider(url, chainId, 250);
}
