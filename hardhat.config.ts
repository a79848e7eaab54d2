import { createRequire } from "node:module";
import { configVariable, defineConfig } from "hardhat/config";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";

// `npm test` (scripts/setup/run.mjs) runs the mocha files in TROUPE_TEST_JOBS worker processes at
// once: the slowest files (test/e2e, a whole local market each) spend most of their time waiting on
// block times and deadlines, and one after the other they left a 2-core machine half idle.
const testJobs = Number(process.env.TROUPE_TEST_JOBS ?? "1");

// The compiler comes from the pinned npm `solc` package, so no build step downloads anything.
const require = createRequire(import.meta.url);
const solcVersion: string = require("solc/package.json").version;

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    version: solcVersion,
    path: require.resolve("solc/soljson.js"),
    settings: {
      optimizer: { enabled: true, runs: 2000 },
      viaIR: true,
      evmVersion: "cancun",
    },
  },
  test: {
    mocha: testJobs > 1 ? { parallel: true, jobs: testJobs } : {},
  },
  paths: {
    tests: { mocha: "test", solidity: "test/solidity" },
  },
  networks: {
    // The chain `hardhat node` serves to the local market. Many transactions a second would push an
    // automining chain's clock ahead of the wall clock (each block at least a second after the
    // last), shrinking every bid window and deadline; same-second blocks keep the two in step.
    node: {
      type: "edr-simulated",
      allowBlocksWithSameTimestamp: true,
    },
    // The local market's node (`npm start` runs it); Hardhat's public dev accounts sign there.
    localhost: {
      type: "http",
      url: process.env.LOCAL_RPC_URL ?? "http://127.0.0.1:8545",
    },
    // Any other EVM network: URL and deployer key come from the environment (or Hardhat's
    // keystore), never from this file.
    troupe: {
      type: "http",
      url: configVariable("RPC_URL"),
      accounts: [configVariable("DEPLOYER_KEY")],
    },
  },
});
