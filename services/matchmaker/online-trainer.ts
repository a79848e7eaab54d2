/**
 * Retrains the model as outcomes arrive without blocking bidding: training runs on a copy of the
 * network in small slices (`sliceSize` samples of one pass each, yielding to the event loop
 * between slices, so bids and RPC replies keep flowing), and the finished model replaces the
 * live one in a single assignment. (brain.js 1.6.1's own `trainAsync` cannot construct its
 * thaw.js helper under Node's module loader, hence the slicing here.)
 */
import { MatchModel, toTrainingData, type Sample } from "./model.js";

export interface OnlineTrainerOptions {
  /** outcomes kept for replay (oldest dropped first) */
  window: number;
  /** retrain after this many new outcomes */
  retrainEvery: number;
  /** passes over the data per retraining */
  iterations: number;
  learningRate: number;
  /** samples trained between two yields to the event loop */
  sliceSize: number;
}

export const DEFAULT_ONLINE: OnlineTrainerOptions = {
  window: 5_000,
  retrainEvery: 20,
  iterations: 30,
  learningRate: 0.1,
  sliceSize: 256,
};

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export class OnlineTrainer {
  private current: MatchModel;
  private readonly kept: Sample[] = [];
  private sinceRetrain = 0;
  private running: Promise<MatchModel> | undefined;
  private readonly opts: OnlineTrainerOptions;
  /** retrainings completed so far */
  generation = 0;
  /** why the last background retraining failed, if it did */
  lastError: unknown;

  constructor(model: MatchModel, options: Partial<OnlineTrainerOptions> = {}, onSwap?: (m: MatchModel) => void) {
    this.current = model;
    this.opts = { ...DEFAULT_ONLINE, ...options };
    this.onSwap = onSwap;
  }

  private readonly onSwap: ((m: MatchModel) => void) | undefined;

  /** The model bidding uses right now. */
  get model(): MatchModel {
    return this.current;
  }

  /** outcomes kept for the next retraining */
  get samples(): number {
    return this.kept.length;
  }

  get training(): boolean {
    return this.running !== undefined;
  }

  /**
   * Replaces the live model with `model` (a federated merge), unless a retraining is running:
   * its result would overwrite the merge, so the caller tries again later. Returns whether it did.
   */
  adopt(model: MatchModel): boolean {
    if (this.running) return false;
    this.current = model;
    this.onSwap?.(model);
    return true;
  }

  /** Records an outcome; starts a background retraining when enough new ones arrived. */
  add(sample: Sample): void {
    this.kept.push(sample);
    if (this.kept.length > this.opts.window) this.kept.splice(0, this.kept.length - this.opts.window);
    this.sinceRetrain++;
    if (this.sinceRetrain >= this.opts.retrainEvery && !this.running) {
      // A failed retraining keeps the live model; the error is kept for whoever asks.
      this.retrain().catch((error: unknown) => (this.lastError = error));
    }
  }

  /** Retrains on the kept outcomes, continuing from the live weights; resolves with the new model. */
  retrain(): Promise<MatchModel> {
    if (this.running) return this.running;
    this.sinceRetrain = 0;
    const data = toTrainingData(this.kept);
    const base = this.current;
    this.running = (async () => {
      try {
        if (data.length === 0) return base;
        const net = base.brainNet();
        for (let pass = 0; pass < this.opts.iterations; pass++) {
          for (let at = 0; at < data.length; at += this.opts.sliceSize) {
            net.train(data.slice(at, at + this.opts.sliceSize), {
              iterations: 1,
              learningRate: this.opts.learningRate,
              errorThresh: 1e-6,
            });
            await yieldToEventLoop();
          }
        }
        const next = MatchModel.fromBrain(net.toJSON(), base.file.baseline, base.file.trainedOn + data.length);
        this.current = next; // the swap: bidding picks the new model up on its next read
        this.generation++;
        this.onSwap?.(next);
        return next;
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }
}
