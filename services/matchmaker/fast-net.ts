/**
 * A tight forward pass over a trained brain.js network's weights: one Float64Array, no
 * allocation per call, many rows per call. brain.js `run` allocates and checks per input, which
 * caps it far below the scoring rate a busy agent needs; this gives the same outputs (up to
 * brain.js's float32 storage) at a fraction of the cost.
 */

/** The parts of brain.js's NeuralNetwork JSON this pass reads. */
export interface BrainNetJSON {
  sizes: number[];
  layers: Record<string, { bias?: number; weights?: Record<string, number> }>[];
  activation?: string;
}

export class FastNet {
  readonly sizes: readonly number[];
  /** per layer l >= 1: for each node, bias then sizes[l-1] weights */
  private readonly params: Float64Array;
  private readonly offsets: number[];
  private readonly scratchA: Float64Array;
  private readonly scratchB: Float64Array;

  constructor(json: BrainNetJSON) {
    if ((json.activation ?? "sigmoid") !== "sigmoid") {
      throw new Error(`FastNet supports sigmoid networks only, not ${json.activation}`);
    }
    if (!Array.isArray(json.sizes) || json.sizes.length < 2 || json.layers.length !== json.sizes.length) {
      throw new Error("not a trained brain.js NeuralNetwork JSON (sizes/layers missing)");
    }
    this.sizes = json.sizes.slice();
    let total = 0;
    this.offsets = [0];
    for (let l = 1; l < this.sizes.length; l++) {
      this.offsets.push(total);
      total += this.sizes[l]! * (this.sizes[l - 1]! + 1);
    }
    this.params = new Float64Array(total);
    for (let l = 1; l < this.sizes.length; l++) {
      const fanIn = this.sizes[l - 1]!;
      for (let n = 0; n < this.sizes[l]!; n++) {
        const node = json.layers[l]![String(n)];
        if (!node || node.bias === undefined || !node.weights) throw new Error(`layer ${l} node ${n} has no weights`);
        const base = this.offsets[l]! + n * (fanIn + 1);
        this.params[base] = node.bias;
        for (let k = 0; k < fanIn; k++) this.params[base + 1 + k] = node.weights[String(k)] ?? 0;
      }
    }
    const widest = Math.max(...this.sizes);
    this.scratchA = new Float64Array(widest);
    this.scratchB = new Float64Array(widest);
  }

  get inputSize(): number {
    return this.sizes[0]!;
  }

  get outputSize(): number {
    return this.sizes[this.sizes.length - 1]!;
  }

  /**
   * Runs `rows` inputs stored row-major in `inputs` and writes their outputs row-major to `out`.
   */
  runBatch(inputs: Float64Array, rows: number, out: Float64Array): void {
    const sizes = this.sizes;
    const p = this.params;
    const inSize = sizes[0]!;
    const outSize = this.outputSize;
    const last = sizes.length - 1;
    for (let r = 0; r < rows; r++) {
      let src: Float64Array = inputs;
      let srcOff = r * inSize;
      let dst = this.scratchA;
      for (let l = 1; l <= last; l++) {
        const fanIn = sizes[l - 1]!;
        const width = sizes[l]!;
        const target = l === last ? out : dst;
        const targetOff = l === last ? r * outSize : 0;
        let base = this.offsets[l]!;
        for (let n = 0; n < width; n++) {
          let sum = p[base]!;
          for (let k = 0; k < fanIn; k++) sum += p[base + 1 + k]! * src[srcOff + k]!;
          target[targetOff + n] = 1 / (1 + Math.exp(-sum));
          base += fanIn + 1;
        }
        src = dst;
        srcOff = 0;
        dst = dst === this.scratchA ? this.scratchB : this.scratchA;
      }
    }
  }

  /** One input, a fresh output array (convenient, not for the hot path). */
  run(input: ArrayLike<number>): Float64Array {
    const out = new Float64Array(this.outputSize);
    this.runBatch(Float64Array.from(input), 1, out);
    return out;
  }
}
