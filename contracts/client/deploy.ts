import { ContractFactory, type Signer, type BaseContract } from "ethers";
import type {
  ModelUpdates,
  OfferBook,
  ProviderRegistry,
  TroupeMarket,
  TroupeToken,
  VerifierCourt,
} from "../../types/ethers-contracts/index.js";
import { loadArtifact, type ContractName } from "./artifacts.js";

const TOKEN = 10n ** 18n;

/** The market's parameters; every field has a default (the local market shortens the windows). */
export interface MarketParams {
  /** An existing ERC-20 to use instead of deploying a TroupeToken. */
  tokenAddress?: string;
  /** TroupeToken supply minted to the deployer (ignored with `tokenAddress`). */
  tokenSupply: bigint;
  /** The most TroupeTokens that may ever exist. */
  tokenCap: bigint;
  /** Whether the deployer may mint more TroupeTokens later (the local market's faucet only). */
  tokenMintable: boolean;
  minStake: bigint;
  unbondingDelay: number;
  /** The weight of the providers' failure-rate prior, in tokens. */
  priorValue: bigint;
  /** The failure rate assumed for a provider with no record, in basis points. */
  priorFailureBps: number;
  disputeWindow: number;
  penaltyBps: number;
  disputeBond: bigint;
  minEscrow: bigint;
  minBidStepBps: number;
  minVerifierStake: bigint;
  verifierLeaveDelay: number;
  /** Seats of a dispute's first round (odd). */
  verifierPanel: number;
  /** Sampled rounds before the full court. */
  sampledRounds: number;
  seatStake: bigint;
  commitWindow: number;
  revealWindow: number;
  appealWindow: number;
  courtLockBps: number;
}

export const DEFAULT_MARKET_PARAMS: MarketParams = {
  tokenSupply: 10n ** 9n * TOKEN,
  tokenCap: 10n ** 10n * TOKEN,
  tokenMintable: false,
  minStake: 100n * TOKEN,
  unbondingDelay: 7 * 24 * 3600,
  priorValue: 10n * TOKEN,
  priorFailureBps: 1_000,
  disputeWindow: 3600,
  penaltyBps: 10_000,
  disputeBond: 10n * TOKEN,
  minEscrow: TOKEN / 1000n,
  minBidStepBps: 100,
  minVerifierStake: 100n * TOKEN,
  verifierLeaveDelay: 7 * 24 * 3600,
  verifierPanel: 5,
  sampledRounds: 2,
  seatStake: 20n * TOKEN,
  commitWindow: 3600,
  revealWindow: 3600,
  appealWindow: 3600,
  courtLockBps: 1_000,
};

/** The deployed market. */
export interface MarketDeployment {
  token: TroupeToken;
  registry: ProviderRegistry;
  offers: OfferBook;
  court: VerifierCourt;
  market: TroupeMarket;
  models: ModelUpdates;
  addresses: { token: string; registry: string; offers: string; court: string; market: string; models: string };
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

/** The market's constructor config, from the parameters and the addresses it depends on. */
export function marketConfig(p: MarketParams, a: { token: string; registry: string; offers: string; court: string }) {
  return {
    token: a.token,
    registry: a.registry,
    offers: a.offers,
    court: a.court,
    disputeWindow: p.disputeWindow,
    penaltyBps: p.penaltyBps,
    disputeBond: p.disputeBond,
    minEscrow: p.minEscrow,
    minBidStepBps: p.minBidStepBps,
  };
}

/** The court's game parameters (`DisputeCourt.Params`). */
export function courtParams(p: MarketParams) {
  return {
    panel: p.verifierPanel,
    sampledRounds: p.sampledRounds,
    seatStake: p.seatStake,
    commitWindow: p.commitWindow,
    revealWindow: p.revealWindow,
    appealWindow: p.appealWindow,
    courtLockBps: p.courtLockBps,
  };
}

/** Deploys token (unless given), registry, offer book, court, market and model board, and binds them. */
export async function deployMarket(deployer: Signer, overrides: Partial<MarketParams> = {}): Promise<MarketDeployment> {
  const params = { ...DEFAULT_MARKET_PARAMS, ...overrides };
  const provider = deployer.provider;
  if (!provider) throw new Error("the deployer signer has no provider");
  const startBlock = await provider.getBlockNumber();
  const deployerAddress = await deployer.getAddress();

  const token = params.tokenAddress
    ? (attach("TroupeToken", params.tokenAddress, deployer) as TroupeToken)
    : await deploy<TroupeToken>("TroupeToken", deployer, [
        deployerAddress,
        params.tokenSupply,
        params.tokenCap,
        params.tokenMintable,
      ]);
  const tokenAddress = await token.getAddress();
  const registry = await deploy<ProviderRegistry>("ProviderRegistry", deployer, [
    tokenAddress,
    params.minStake,
    params.unbondingDelay,
    params.priorValue,
    params.priorFailureBps,
  ]);
  const registryAddress = await registry.getAddress();
  const offers = await deploy<OfferBook>("OfferBook", deployer, [registryAddress]);
  const offersAddress = await offers.getAddress();
  const court = await deploy<VerifierCourt>("VerifierCourt", deployer, [
    tokenAddress,
    registryAddress,
    params.minVerifierStake,
    params.verifierLeaveDelay,
    courtParams(params),
  ]);
  const courtAddress = await court.getAddress();
  const addresses = { token: tokenAddress, registry: registryAddress, offers: offersAddress, court: courtAddress };
  const market = await deploy<TroupeMarket>("TroupeMarket", deployer, [marketConfig(params, addresses)]);
  const marketAddress = await market.getAddress();
  const models = await deploy<ModelUpdates>("ModelUpdates", deployer, [registryAddress]);
  await (await registry.bindMarket(marketAddress)).wait();
  await (await court.bindMarket(marketAddress)).wait();
  return {
    token,
    registry,
    offers,
    court,
    market,
    models,
    addresses: { ...addresses, market: marketAddress, models: await models.getAddress() },
    startBlock,
    params,
  };
}

/** An ethers contract for an already deployed market contract. */
export function attach(name: ContractName, address: string, runner: Signer): BaseContract {
  const { abi, bytecode } = loadArtifact(name);
  return new ContractFactory(abi as never, bytecode, runner).attach(address);
}
