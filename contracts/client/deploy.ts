import { ContractFactory, type Signer, type BaseContract } from "ethers";
import type {
  OfferBook,
  ProviderRegistry,
  TroupeMarket,
  TroupeToken,
} from "../../types/ethers-contracts/index.js";
import { loadArtifact, type ContractName } from "./artifacts.js";

/** The market's parameters; every field has a local-market default. */
export interface MarketParams {
  /** An existing ERC-20 to use instead of deploying a TroupeToken. */
  tokenAddress?: string;
  /** TroupeToken supply minted to the deployer (ignored with `tokenAddress`). */
  tokenSupply: bigint;
  minStake: bigint;
  unbondingDelay: number;
  disputeWindow: number;
  verdictWindow: number;
  penaltyBps: number;
  disputeBond: bigint;
  verifierQuorum: number;
  verifierPanel: number;
}

export const DEFAULT_MARKET_PARAMS: MarketParams = {
  tokenSupply: 10n ** 9n * 10n ** 18n,
  minStake: 100n * 10n ** 18n,
  unbondingDelay: 7 * 24 * 3600,
  disputeWindow: 3600,
  verdictWindow: 3600,
  penaltyBps: 10_000,
  disputeBond: 10n * 10n ** 18n,
  verifierQuorum: 2,
  verifierPanel: 3,
};

/** The deployed market. */
export interface MarketDeployment {
  token: TroupeToken;
  registry: ProviderRegistry;
  offers: OfferBook;
  market: TroupeMarket;
  addresses: { token: string; registry: string; offers: string; market: string };
  /** The chain's head just before the deployment: an indexer starting here misses nothing. */
  startBlock: number;
  params: MarketParams;
}

async function deploy<T extends BaseContract>(name: ContractName, deployer: Signer, args: unknown[]): Promise<T> {
  const { abi, bytecode } = loadArtifact(name);
  const factory = new ContractFactory(abi as never, bytecode, deployer);
  const contract = await factory.deploy(...args);
  await contract.waitForDeployment();
  return contract as unknown as T;
}

/** Deploys token (unless given), registry, offer book and market, and binds the market. */
export async function deployMarket(deployer: Signer, overrides: Partial<MarketParams> = {}): Promise<MarketDeployment> {
  const params = { ...DEFAULT_MARKET_PARAMS, ...overrides };
  const provider = deployer.provider;
  if (!provider) throw new Error("the deployer signer has no provider");
  const startBlock = await provider.getBlockNumber();
  const deployerAddress = await deployer.getAddress();

  const token = params.tokenAddress
    ? (attach("TroupeToken", params.tokenAddress, deployer) as TroupeToken)
    : await deploy<TroupeToken>("TroupeToken", deployer, [deployerAddress, params.tokenSupply]);
  const tokenAddress = await token.getAddress();
  const registry = await deploy<ProviderRegistry>("ProviderRegistry", deployer, [
    tokenAddress,
    params.minStake,
    params.unbondingDelay,
  ]);
  const registryAddress = await registry.getAddress();
  const offers = await deploy<OfferBook>("OfferBook", deployer, [registryAddress]);
  const offersAddress = await offers.getAddress();
  const market = await deploy<TroupeMarket>("TroupeMarket", deployer, [
    {
      token: tokenAddress,
      registry: registryAddress,
      offers: offersAddress,
      disputeWindow: params.disputeWindow,
      verdictWindow: params.verdictWindow,
      penaltyBps: params.penaltyBps,
      disputeBond: params.disputeBond,
      verifierQuorum: params.verifierQuorum,
      verifierPanel: params.verifierPanel,
    },
  ]);
  const marketAddress = await market.getAddress();
  await (await registry.bindMarket(marketAddress)).wait();
  return {
    token,
    registry,
    offers,
    market,
    addresses: { token: tokenAddress, registry: registryAddress, offers: offersAddress, market: marketAddress },
    startBlock,
    params,
  };
}

/** An ethers contract for an already deployed market contract. */
export function attach(name: ContractName, address: string, runner: Signer): BaseContract {
  const { abi, bytecode } = loadArtifact(name);
  return new ContractFactory(abi as never, bytecode, runner).attach(address);
}
