/**
 * Deploys the market with the Ignition module to the network Hardhat runs against
 * (`hardhat run --network localhost scripts/local/deploy.ts`) and writes the deployment file
 * every actor reads (TROUPE_DEPLOYMENT, default .troupe/deployment.json).
 * Module parameters may be given as JSON in TROUPE_PARAMETERS.
 */
import { network } from "hardhat";
import TroupeModule from "../../ignition/modules/Troupe.js";
import { deploymentFile, writeDeployment } from "../lib/deployment.js";

const connection = await network.getOrCreate();
const { ignition, ethers } = connection;
const startBlock = await ethers.provider.getBlockNumber();
const parameters = process.env.TROUPE_PARAMETERS ? JSON.parse(process.env.TROUPE_PARAMETERS) : {};
const { token, registry, offers, court, market, models } = await ignition.deploy(TroupeModule, {
  parameters: { Troupe: parameters },
  deploymentId: `troupe-${Date.now()}`,
  displayUi: false,
  // The local node automines while the market is deployed: no block would ever come to confirm deeper.
  config: { requiredConfirmations: 1 },
});
const { chainId } = await ethers.provider.getNetwork();
const rpcUrl = process.env.LOCAL_RPC_URL ?? "http://127.0.0.1:8545";
writeDeployment({
  chainId: chainId.toString(),
  rpcUrl,
  startBlock,
  addresses: {
    token: await token.getAddress(),
    registry: await registry.getAddress(),
    offers: await offers.getAddress(),
    market: await market.getAddress(),
    court: await court.getAddress(),
    models: await models.getAddress(),
  },
});
console.log(`deployed the market on chain ${chainId} (${rpcUrl}); wrote ${deploymentFile()}`);
