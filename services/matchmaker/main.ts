/**
 * The matchmaker's entry point.
 *
 *   npm run matchmaker                       run the bidding agent (until SIGINT/SIGTERM)
 *   npm run matchmaker -- why-no-bid <id>    say, per offer, why the agent does (not) bid on request <id>
 *   npm run matchmaker -- train              (re)train the model and save it to MODEL_PATH
 *
 * Environment: RPC_URL, AGENT_KEY, PROVIDERS (comma-separated provider addresses), MARKET,
 * REGISTRY, OFFERS, EXPLORER_URL (optional), DATA_DIR, MODEL_PATH, START_BLOCK, POLL_MS,
 * BID_MARGIN_SEC (skip windows closing sooner than this; default 2),
 * EXPLANATIONS_PORT (optional: serve GET /explanations/<hash> and /model-updates/<hash>),
 * MODEL_UPDATES (optional: the ModelUpdates contract, for federated learning), FEDERATED_MERGE_SEC
 * (default 300), PUBLIC_URL (the URL EXPLANATIONS_PORT is reached at, announced with updates).
 */
import { join } from "node:path";
import { createAgent, trainModel } from "./setup.js";
import { ConfigError, loadConfig } from "./config.js";
import { ExplanationStore } from "./explanations.js";
import { formatWhyNoBid } from "./why-no-bid.js";

async function main(argv: string[]): Promise<void> {
  const [command = "run", ...rest] = argv;
  switch (command) {
    case "run": {
      const cfg = loadConfig();
      const agent = await createAgent(cfg);
      if (cfg.explanationsPort !== undefined) {
        const { url } = await new ExplanationStore(cfg.dataDir).serve(cfg.explanationsPort, "127.0.0.1", [new ExplanationStore(cfg.dataDir, "model-updates")]);
        console.log(`explanations served at ${url}/explanations/<hash>`);
      }
      const stop = new AbortController();
      process.once("SIGINT", () => stop.abort());
      process.once("SIGTERM", () => stop.abort());
      console.log(`matchmaker bidding for ${cfg.providers.join(", ")}`);
      await agent.run(stop.signal, cfg.pollMs);
      process.exit(0);
      break;
    }
    case "why-no-bid": {
      const raw = rest[0];
      if (!raw || !/^\d+$/.test(raw)) throw new ConfigError("usage: why-no-bid <requestId> (a decimal request id)");
      const agent = await createAgent(loadConfig(process.env, false));
      console.log(formatWhyNoBid(await agent.whyNoBid(BigInt(raw))));
      break;
    }
    case "train": {
      // Training needs no chain: only where to save, and optionally the explorer to learn from.
      const dataDir = process.env.DATA_DIR?.trim() || ".troupe/matchmaker";
      const cfg = {
        modelPath: process.env.MODEL_PATH?.trim() || join(dataDir, "model.json"),
        ...(process.env.EXPLORER_URL?.trim() ? { explorerUrl: process.env.EXPLORER_URL.trim() } : {}),
      };
      const model = await trainModel(cfg);
      console.log(`model trained on ${model.file.trainedOn} samples, saved to ${cfg.modelPath}`);
      break;
    }
    default:
      throw new ConfigError(`unknown command ${command}: use run, why-no-bid <requestId> or train`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `matchmaker: ${error.message}` : error);
  process.exit(1);
});
