/**
 * The learned part of the matchmaker: a brain.js network that maps a candidate's public
 * features to [P(SLA met), run time]. Trained with brain.js, saved as its JSON, scored through
 * FastNet (the same weights in a tight loop).
 */
import { readFileSync, renameSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import brain from "brain.js";
import type { INeuralNetworkJSON } from "brain.js";
import { FEATURE_COUNT, FEATURE_NAMES, decodeRuntime, encodeRuntime, featureMatrix, features } from "./features.js";
import { FastNet, type BrainNetJSON } from "./fast-net.js";
import { Rng } from "./prng.js";
import type { Candidate, Prediction } from "./types.js";

/** A labelled outcome: what happened when this candidate was placed. */
export interface Sample {
  candidate: Candidate;
  met: boolean;
  runtimeSec: number;
}

export interface TrainOptions {
  hiddenLayers: number[];
  iterations: number;
  learningRate: number;
  errorThresh: number;
  /** brain.js's optimiser: plain SGD with momentum, or Adam */
  praxis?: "adam";
  /** seeds the initial weights, so the same data always gives the same model */
  seed: number;
}

/**
 * Training is bounded by iterations only, never by wall time, and the initial weights come from
 * the seed: the same samples give the same model on any machine under any load.
 */
export const DEFAULT_TRAIN: TrainOptions = {
  hiddenLayers: [16, 8],
  iterations: 600,
  learningRate: 0.1,
  errorThresh: 0.0001,
  seed: 1,
};

/**
 * Runs `fn` with Math.random drawn from a seeded PRNG: brain.js draws its initial weights from
 * Math.random, and training is synchronous, so nothing else sees the swap.
 */
function withSeededRandom<T>(seed: number, fn: () => T): T {
  const original = Math.random;
  const rng = new Rng(seed);
  Math.random = () => rng.next();
  try {
    return fn();
  } finally {
    Math.random = original;
  }
}

/** What is saved: the brain.js network plus the feature baseline explanations compare against. */
export interface ModelFile {
  format: "troupe-matchmaker-model/1";
  features: readonly string[];
  /** mean feature vector of the training set */
  baseline: number[];
  trainedOn: number;
  net: INeuralNetworkJSON;
}

/** One factor behind a prediction: how much P(SLA met) moves if the feature were typical. */
export interface Factor {
  feature: string;
  value: number;
  /** P(met) with this candidate's value minus P(met) with the baseline value */
  effect: number;
}

/** A saved model built for another feature set: it must be retrained, never used as it is. */
export class StaleModelError extends Error {
  constructor(saved: readonly string[]) {
    super(
      `the model was trained on a different feature set (${saved.length} features, this matchmaker computes ` +
        `${FEATURE_COUNT}: ${FEATURE_NAMES.filter((f) => !saved.includes(f)).join(", ") || "same names, other order"} new); retrain it`,
    );
    this.name = "StaleModelError";
  }
}

type BrainTrainingDatum = { input: number[]; output: number[] };

export function toTrainingData(samples: readonly Sample[]): BrainTrainingDatum[] {
  return samples.map((s) => ({
    input: Array.from(features(s.candidate)),
    output: [s.met ? 1 : 0, encodeRuntime(s.runtimeSec)],
  }));
}

/** Samples as brain.js trains on them, with their mean feature vector: built once, trained on many times. */
export interface PreparedSamples {
  data: BrainTrainingDatum[];
  baseline: number[];
}

export function prepareSamples(samples: readonly Sample[]): PreparedSamples {
  const data = toTrainingData(samples);
  return { data, baseline: data.length ? meanVector(data) : new Array<number>(FEATURE_COUNT).fill(0) };
}

function meanVector(data: readonly BrainTrainingDatum[]): number[] {
  const mean = new Array<number>(FEATURE_COUNT).fill(0);
  for (const d of data) for (let i = 0; i < FEATURE_COUNT; i++) mean[i]! += d.input[i]! / data.length;
  return mean;
}

export class MatchModel {
  readonly fast: FastNet;
  private readonly scratchOut = new Float64Array(2);

  private constructor(readonly file: ModelFile) {
    if (file.format !== "troupe-matchmaker-model/1") throw new Error(`unknown model format ${String(file.format)}`);
    if (!Array.isArray(file.features)) throw new Error("not a matchmaker model: its feature list is missing");
    if (file.features.length !== FEATURE_COUNT || file.features.some((f, i) => f !== FEATURE_NAMES[i])) {
      throw new StaleModelError(file.features);
    }
    this.fast = new FastNet(file.net as unknown as BrainNetJSON);
    if (this.fast.inputSize !== FEATURE_COUNT || this.fast.outputSize !== 2) {
      throw new Error(`model shape ${this.fast.sizes.join("-")} does not fit ${FEATURE_COUNT} features -> 2 outputs`);
    }
  }

  static fromFile(file: ModelFile): MatchModel {
    return new MatchModel(file);
  }

  /** Trains a fresh network (synchronously: for bootstrapping, not while bidding). */
  static train(samples: readonly Sample[], options: Partial<TrainOptions> = {}): MatchModel {
    if (samples.length === 0) throw new Error("cannot train on zero samples");
    const opts = { ...DEFAULT_TRAIN, ...options };
    const data = toTrainingData(samples);
    const net = new brain.NeuralNetwork({ hiddenLayers: opts.hiddenLayers, activation: "sigmoid" });
    withSeededRandom(opts.seed, () =>
      net.train(data, {
        iterations: opts.iterations,
        learningRate: opts.learningRate,
        errorThresh: opts.errorThresh,
        ...(opts.praxis ? { praxis: opts.praxis } : {}),
      }),
    );
    return MatchModel.fromBrain(net.toJSON(), meanVector(data), samples.length);
  }

  /**
   * An untrained network with its weights drawn from `seed`: where every federated agent starts,
   * so that their models stay comparable weight by weight.
   */
  static initial(seed: number, hiddenLayers: number[] = DEFAULT_TRAIN.hiddenLayers): MatchModel {
    const net = new brain.NeuralNetwork({ hiddenLayers, activation: "sigmoid" });
    const shape = [{ input: new Array<number>(FEATURE_COUNT).fill(0), output: [0, 0] }];
    withSeededRandom(seed, () => (net as unknown as { verifyIsInitialized(d: typeof shape): void }).verifyIsInitialized(shape));
    return MatchModel.fromBrain(net.toJSON(), new Array<number>(FEATURE_COUNT).fill(0), 0);
  }

  /**
   * Continues training these weights on `samples` (or the same, prepared once) for `iterations`
   * passes (brain.js, plain SGD): a federated agent's local step. Deterministic: no randomness is
   * drawn once weights exist.
   */
  trainedFurther(samples: readonly Sample[] | PreparedSamples, iterations: number, learningRate = DEFAULT_TRAIN.learningRate): MatchModel {
    const set = "data" in samples ? samples : prepareSamples(samples);
    if (set.data.length === 0) return this;
    const net = this.brainNet();
    net.train(set.data, { iterations, learningRate, errorThresh: DEFAULT_TRAIN.errorThresh, timeout: Infinity });
    return MatchModel.fromBrain(net.toJSON(), set.baseline, this.file.trainedOn + set.data.length);
  }

  static fromBrain(net: INeuralNetworkJSON, baseline: number[], trainedOn: number): MatchModel {
    return new MatchModel({ format: "troupe-matchmaker-model/1", features: [...FEATURE_NAMES], baseline, trainedOn, net });
  }

  static load(path: string): MatchModel {
    let parsed: ModelFile;
    try {
      parsed = JSON.parse(readFileSync(path, "utf8")) as ModelFile;
    } catch (error) {
      throw new Error(`cannot read the model at ${path}: ${String(error)}`);
    }
    return new MatchModel(parsed);
  }

  /** Saves atomically (write then rename), so a crash never leaves half a model. */
  save(path: string): void {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.file));
    renameSync(tmp, path);
  }

  /** A brain.js network with these weights (to keep training it, or to cross-check FastNet). */
  brainNet(): InstanceType<typeof brain.NeuralNetwork> {
    return new brain.NeuralNetwork().fromJSON(structuredClone(this.file.net));
  }

  predict(c: Candidate): Prediction {
    this.fast.runBatch(features(c), 1, this.scratchOut);
    return { pMet: this.scratchOut[0]!, runtimeSec: decodeRuntime(this.scratchOut[1]!) };
  }

  /** Scores many candidates at once; `out` gets [pMet, runtime code] per candidate. */
  predictBatch(candidates: readonly Candidate[], scratch?: Float64Array, out?: Float64Array): Float64Array {
    const x = featureMatrix(candidates, scratch);
    const y = out && out.length >= candidates.length * 2 ? out : new Float64Array(candidates.length * 2);
    this.fast.runBatch(x, candidates.length, y);
    return y;
  }

  /** The `top` features that move this prediction most against the training baseline. */
  explain(c: Candidate, top = 4): Factor[] {
    const x = features(c);
    const base = this.pMetOf(x);
    const factors: Factor[] = [];
    for (let i = 0; i < FEATURE_COUNT; i++) {
      const saved = x[i]!;
      x[i] = this.file.baseline[i]!;
      const effect = base - this.pMetOf(x);
      x[i] = saved;
      factors.push({ feature: FEATURE_NAMES[i]!, value: round(saved), effect: round(effect) });
    }
    factors.sort((a, b) => Math.abs(b.effect) - Math.abs(a.effect));
    return factors.slice(0, top);
  }

  private pMetOf(x: Float64Array): number {
    this.fast.runBatch(x, 1, this.scratchOut);
    return this.scratchOut[0]!;
  }
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;
