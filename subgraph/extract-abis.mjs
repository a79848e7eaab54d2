// Copies the ABIs of the market's contracts from Hardhat's artifacts into subgraph/abis/, so the
// subgraph is always built against the contracts in this tree (run `hardhat build` first).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";

const root = new URL("../artifacts/contracts/", import.meta.url);
const out = new URL("./abis/", import.meta.url);
mkdirSync(out, { recursive: true });
for (const name of ["ProviderRegistry", "OfferBook", "TroupeMarket", "VerifierCourt", "ModelUpdates"]) {
  const file = new URL(`${name}.sol/${name}.json`, root);
  let artifact;
  try {
    artifact = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    console.error(`cannot read ${file.pathname}: run \`npx hardhat build\` first (${error.message})`);
    process.exit(1);
  }
  writeFileSync(new URL(`${name}.json`, out), JSON.stringify(artifact.abi, null, 2) + "\n");
}
