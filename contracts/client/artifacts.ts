import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The ABI and bytecode of one compiled contract, as Hardhat writes it to `artifacts/`. */
export interface Artifact {
  contractName: string;
  abi: readonly unknown[];
  bytecode: string;
}

/** Where each deployable contract's artifact lives, relative to `artifacts/contracts`. */
const ARTIFACT_PATHS = {
  TroupeToken: "TroupeToken.sol/TroupeToken.json",
  ProviderRegistry: "ProviderRegistry.sol/ProviderRegistry.json",
  OfferBook: "OfferBook.sol/OfferBook.json",
  TroupeMarket: "TroupeMarket.sol/TroupeMarket.json",
  VerifierCourt: "VerifierCourt.sol/VerifierCourt.json",
  ModelUpdates: "ModelUpdates.sol/ModelUpdates.json",
} as const;

export type ContractName = keyof typeof ARTIFACT_PATHS;

const root = new URL("../../artifacts/contracts/", import.meta.url);
const cache = new Map<ContractName, Artifact>();

/** Loads a compiled artifact; run `npx hardhat build` first. */
export function loadArtifact(name: ContractName): Artifact {
  let artifact = cache.get(name);
  if (!artifact) {
    const file = fileURLToPath(new URL(ARTIFACT_PATHS[name], root));
    try {
      artifact = JSON.parse(readFileSync(file, "utf8")) as Artifact;
    } catch (error) {
      throw new Error(`cannot read the ${name} artifact at ${file}: run \`npx hardhat build\` first (${String(error)})`);
    }
    cache.set(name, artifact);
  }
  return artifact;
}

/** The ABI of a market contract, for ethers `Contract` / `Interface`. */
export function abiOf(name: ContractName): readonly unknown[] {
  return loadArtifact(name).abi;
}
