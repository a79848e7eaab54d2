/**
 * Retrains the model as outcomes arrive without blocking bidding: training runs on a copy in
 * brain.js's async mode (one pass over the data per timer tick, so the event loop keeps
 * serving), and the finished model replaces the live one in a single assignment.
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
}

export const DEFAULT_ONLINE: OnlineTrainerOptions = { window: 5_000, retrainEvery: 20, iterations: 30, learningRate: 0.1 };

export class OnlineTrainer {
  private current: MatchModel;
  private readonly kept: Sample[] = [];
  private sinceRetrain = 0;
  private running: Promise<MatchModel> | undefined;
  private readonly opts: OnlineTrainerOptions;
  /** retrainings completed so far */
  generation = 0;

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

  /** Records an outcome; starts a background retraining when enough new ones arrived. */
  add(sample: Sample): void {
    this.kept.push(sample);
    if (this.kept.length > this.opts.window) this.kept.splice(0, this.kept.length - this.opts.window);
    this.sinceRetrain++;
    if (this.sinceRetrain >= this.opts.retrainEvery && !this.running) void this.retrain();
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
        await net.trainAsync(data, {
          iterations: this.opts.iterations,
          learningRate: this.opts.learningRate,
          errorThresh: 0,
        });
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
