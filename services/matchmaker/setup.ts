/**
 * Wiring shared by the entry point and the `troupe` CLI: builds the chain client, model and
 * agent from a config. The model comes from MODEL_PATH, or is bootstrapped from the simulator
 * (and the explorer's history, if reachable) and saved there on first start.
 */
import { existsSync } from "node:fs";
import { Wallet, type Signer } from "ethers";
import { pinnedProvider, probeChainId } from "../../contracts/client/rpc.js";
import { MatchmakerAgent } from "./agent.js";
import { bootstrapModel, simulatedSamples } from "./bootstrap.js";
import { MarketChain } from "./chain.js";
import type { MatchmakerConfig } from "./config.js";
import { ExplanationStore } from "./explanations.js";
import { ExplorerClient } from "./history.js";
import { MatchModel, StaleModelError } from "./model.js";
import { OnlineTrainer } from "./online-trainer.js";
import { withRetry } from "./retry.js";
import { Federation } from "./federation.js";
import { ChainBoard } from "./update-board.js";
import { ContentGate } from "./content-gate.js";
import { ContentStore } from "../../runtime/host/content-store.js";

/** Seeds the bootstrap model trains on; the benchmark evaluates on other seeds. */
export const BOOTSTRAP_SEEDS = [1, 2, 3, 4, 5, 6];

/** Trains a model from the simulator plus, if given, the explorer's finished agreements; saves it. */
export async function trainModel(cfg: Pick<MatchmakerConfig, "modelPath" | "explorerUrl">, log = console.log): Promise<MatchModel> {
  const samples = simulatedSamples(BOOTSTRAP_SEEDS);
  if (cfg.explorerUrl) {
    try {
      const live = await new ExplorerClient(cfg.explorerUrl).outcomeSamples();
      log(`training on ${samples.length} simulated and ${live.length} live outcomes`);
      // Live outcomes count more: repeat them so they weigh like a tenth of the set.
      const weight = live.length ? Math.max(1, Math.round(samples.length / 10 / live.length)) : 0;
      for (let i = 0; i < weight; i++) samples.push(...live);
    } catch (error) {
      log(`explorer history unavailable, training on the simulator only: ${String(error)}`);
    }
  }
  const model = MatchModel.train(samples);
  model.save(cfg.modelPath);
  return model;
}

/** The saved model, or a fresh one when there is none or the saved one predates the feature set. */
export async function loadOrTrainModel(cfg: Pick<MatchmakerConfig, "modelPath" | "explorerUrl">, log = console.log): Promise<MatchModel> {
  if (existsSync(cfg.modelPath)) {
    try {
      return MatchModel.load(cfg.modelPath);
    } catch (error) {
      if (!(error instanceof StaleModelError)) throw error;
      log(`${cfg.modelPath}: ${error.message}; bootstrapping a new one from the simulator`);
    }
  } else {
    log(`no model at ${cfg.modelPath}: bootstrapping one from the simulator`);
  }
  return cfg.explorerUrl ? trainModel(cfg, log) : saveModel(bootstrapModel(BOOTSTRAP_SEEDS), cfg.modelPath);
}

function saveModel(model: MatchModel, path: string): MatchModel {
  model.save(path);
  return model;
}

export async function createAgent(cfg: MatchmakerConfig, log = console.log): Promise<MatchmakerAgent> {
  const onRetry = (error: unknown, attempt: number, delay: number) => log(`RPC error (attempt ${attempt}, retrying in ${delay} ms): ${String(error)}`);
  // Pinned to the chain it starts on: no network detection before every call, no response cache.
  const chainId = await withRetry(() => probeChainId(cfg.rpcUrl), { label: "eth_chainId", onRetry, retries: 8 });
  const provider = pinnedProvider(cfg.rpcUrl, chainId, cfg.pollMs);
  // Read-only commands run without a key; the random wallet can then never send anything that matters.
  const signer: Signer = (cfg.agentKey ? new Wallet(cfg.agentKey) : Wallet.createRandom()).connect(provider);
  const chain = new MarketChain(provider, { market: cfg.market, registry: cfg.registry, offers: cfg.offers }, signer, { onRetry });
  const model = await loadOrTrainModel(cfg, log);
  const trainer = new OnlineTrainer(model, {}, (m) => {
    m.save(cfg.modelPath);
    log(`retrained the model on ${m.file.trainedOn} outcomes`);
  });
  const federation = cfg.modelUpdates
    ? new Federation({
        board: new ChainBoard(cfg.modelUpdates, provider, signer),
        store: new ExplanationStore(cfg.dataDir, "model-updates"),
        provider: cfg.providers[0]!,
        trainer,
        mergeEveryMs: cfg.federatedMergeSec * 1000,
        ...(cfg.publicUrl ? { baseUrl: cfg.publicUrl } : {}),
        log,
      })
    : undefined;
  const options = {
    chain,
    signer,
    providers: cfg.providers,
    store: new ExplanationStore(cfg.dataDir),
    content: new ContentGate({
      // A cache: what it holds was checked against its hash and is checked again when read.
      store: new ContentStore(cfg.contentDir, { durable: false }),
      maxModuleBytes: cfg.maxModuleBytes,
      maxInputBytes: cfg.maxInputBytes,
      fetch: { policy: cfg.fetchPolicy, timeoutMs: cfg.fetchTimeoutMs },
      log,
    }),
    ...(federation ? { federation } : {}),
    trainer,
    startBlock: cfg.startBlock,
    marginSec: cfg.bidMarginSec,
    log,
    ...(cfg.explorerUrl ? { explorer: new ExplorerClient(cfg.explorerUrl) } : {}),
  };
  return new MatchmakerAgent(options);
}
