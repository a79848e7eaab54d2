/**
 * Federated averaging among matchmaker agents, robust to a poisoned peer. Each agent trains on
 * its own outcomes and publishes its weights (never its data); merging takes the current model
 * and the peers' latest updates and returns their average, weighted by the samples each saw,
 * after three guards:
 *
 * 1. **Validation**: an update of another format, feature set or shape, or with a non-finite
 *    weight, is rejected.
 * 2. **Detection and clipping**: each update's distance from the updates' coordinate-wise median
 *    is compared with the median distance; beyond `rejectFactor` times it the update is rejected
 *    as an outlier, and every accepted update is clipped to `clipFactor` times it.
 * 3. **Trimmed mean**: per weight, the `trim` share of the most extreme values on each side is
 *    dropped before the weighted mean; claimed sample counts are capped at `sampleCap` times the
 *    median claim, so a peer cannot buy weight by lying about its data.
 *
 * With n updates of which fewer than the trimmed share are poisoned, a poisoned update moves no
 * weight beyond the honest updates' range.
 */
import { FEATURE_COUNT, FEATURE_NAMES } from "./features.js";
import type { ModelFile } from "./model.js";
import type { BrainNetJSON } from "./fast-net.js";

/** One agent's published model and how many samples it trained on. */
export interface WeightUpdate {
  /** who published it (provider or agent address; in the simulator, the agent's name) */
  from: string;
  samples: number;
  file: ModelFile;
}

export interface AggregateOptions {
  /** share of updates dropped from each end, per weight (at least one each side from 4 updates on) */
  trim: number;
  /** accepted updates are clipped to this multiple of the median distance */
  clipFactor: number;
  /** updates farther than this multiple of the median distance are rejected */
  rejectFactor: number;
  /** sample claims are capped at this multiple of the median claim */
  sampleCap: number;
}

export const DEFAULT_AGGREGATE: AggregateOptions = { trim: 0.2, clipFactor: 1.5, rejectFactor: 4, sampleCap: 2 };

export interface AggregateResult {
  file: ModelFile;
  accepted: string[];
  rejected: { from: string; reason: string }[];
}

type Net = BrainNetJSON;

/** The network's weights as one vector, layer by layer, node by node: bias then weights. */
export function weightsOf(file: ModelFile): Float64Array {
  const net = file.net as unknown as Net;
  const out: number[] = [];
  for (let l = 1; l < net.sizes.length; l++) {
    for (let n = 0; n < net.sizes[l]!; n++) {
      const node = net.layers[l]![String(n)];
      if (!node || node.bias === undefined || !node.weights) throw new Error(`layer ${l} node ${n} has no weights`);
      out.push(node.bias);
      for (let k = 0; k < net.sizes[l - 1]!; k++) out.push(node.weights[String(k)] ?? NaN);
    }
  }
  return Float64Array.from(out);
}

/** A copy of `file` carrying the weights `w` (in `weightsOf`'s order). */
export function withWeights(file: ModelFile, w: Float64Array, trainedOn = file.trainedOn, baseline = file.baseline): ModelFile {
  const net = structuredClone(file.net) as unknown as Net;
  let i = 0;
  for (let l = 1; l < net.sizes.length; l++) {
    for (let n = 0; n < net.sizes[l]!; n++) {
      const node = net.layers[l]![String(n)]!;
      node.bias = w[i++]!;
      for (let k = 0; k < net.sizes[l - 1]!; k++) node.weights![String(k)] = w[i++]!;
    }
  }
  if (i !== w.length) throw new Error(`${w.length} weights for a network of ${i}`);
  return { ...file, net: net as unknown as ModelFile["net"], trainedOn, baseline };
}

/** Why an update cannot be merged into a model of `base`'s shape, or undefined if it can. */
export function invalidUpdate(base: ModelFile, u: WeightUpdate): string | undefined {
  const f = u.file as Partial<ModelFile> | undefined;
  if (!f || f.format !== base.format) return `not a matchmaker model (format ${String(f?.format)})`;
  if (!Array.isArray(f.features) || f.features.length !== FEATURE_COUNT || f.features.some((x, i) => x !== FEATURE_NAMES[i])) {
    return "trained on another feature set";
  }
  const sizes = (f.net as unknown as Net | undefined)?.sizes;
  const want = (base.net as unknown as Net).sizes;
  if (!Array.isArray(sizes) || sizes.join("-") !== want.join("-")) return `shape ${String(sizes?.join("-"))}, the model is ${want.join("-")}`;
  if (!(Number.isFinite(u.samples) && u.samples > 0)) return `claims ${u.samples} samples`;
  let w: Float64Array;
  try {
    w = weightsOf(f as ModelFile);
  } catch (error) {
    return (error as Error).message;
  }
  if (w.some((x) => !Number.isFinite(x))) return "a weight is not a finite number";
  return undefined;
}

const distance = (w: Float64Array, centre: Float64Array) => {
  let sq = 0;
  for (let i = 0; i < w.length; i++) sq += (w[i]! - centre[i]!) ** 2;
  return Math.sqrt(sq);
};

/** The coordinate-wise median of `set` and the median distance from it (floored away from 0). */
function centreAndScale(set: readonly { w: Float64Array }[], size: number): { centre: Float64Array; scale: number } {
  const centre = new Float64Array(size);
  for (let i = 0; i < size; i++) centre[i] = median(set.map((v) => v.w[i]!));
  let centreNorm = 0;
  for (let i = 0; i < size; i++) centreNorm += centre[i]! ** 2;
  const scale = Math.max(median(set.map((v) => distance(v.w, centre))), 1e-6 * Math.sqrt(centreNorm), 1e-12);
  return { centre, scale };
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * Merges `updates` (the agent's own included, if it is to count) into a new model of `base`'s
 * shape. Distances are measured from the kept updates' coordinate-wise median, a centre no
 * single update can drag away, and one a rejected update does not move at all.
 */
export function aggregate(base: ModelFile, updates: readonly WeightUpdate[], options: Partial<AggregateOptions> = {}): AggregateResult {
  const o = { ...DEFAULT_AGGREGATE, ...options };
  const rejected: AggregateResult["rejected"] = [];
  const valid: { u: WeightUpdate; w: Float64Array; dev: number }[] = [];
  for (const u of updates) {
    const why = invalidUpdate(base, u);
    if (why) rejected.push({ from: u.from, reason: why });
    else valid.push({ u, w: weightsOf(u.file), dev: 0 });
  }
  if (valid.length === 0) return { file: base, accepted: [], rejected };
  const size = valid[0]!.w.length;
  // The centre and scale are the kept updates' own: a rejected update must not pull them, or a
  // garbage peer, though refused, still moves what the honest ones are measured and clipped
  // against. Each pass measures every valid update against the previous pass's kept set, until
  // the kept set is a fixed point (or repeats: a cycle ends at the set it returns to), so a
  // rejected update ends exactly as if it had never been sent.
  const keyOf = (set: readonly unknown[]) => set.map((v) => valid.indexOf(v as (typeof valid)[number])).join(",");
  let kept = valid;
  const seen = new Set([keyOf(kept)]);
  for (let pass = 0; kept.length >= 3 && pass < 4 * valid.length; pass++) {
    const { centre, scale } = centreAndScale(kept, size);
    const next = valid.filter((v) => distance(v.w, centre) <= o.rejectFactor * scale);
    const key = keyOf(next);
    if (seen.has(key)) {
      kept = next;
      break;
    }
    seen.add(key);
    kept = next;
  }
  const { centre, scale } = centreAndScale(kept, size);
  for (const v of valid) v.dev = distance(v.w, centre);
  for (const v of valid) {
    if (!kept.includes(v)) rejected.push({ from: v.u.from, reason: `lies ${(v.dev / scale).toFixed(1)}x as far from the others as the median update` });
  }
  const limit = o.clipFactor * scale;
  for (const v of kept) {
    if (v.dev > limit) for (let i = 0; i < size; i++) v.w[i] = centre[i]! + ((v.w[i]! - centre[i]!) * limit) / v.dev;
  }
  const cap = o.sampleCap * median(kept.map((v) => v.u.samples));
  const weights = kept.map((v) => Math.min(v.u.samples, cap));
  const n = kept.length;
  const t = o.trim > 0 && n >= 4 ? Math.max(1, Math.floor(o.trim * n)) : 0;
  const merged = new Float64Array(size);
  const order = kept.map((_, k) => k);
  for (let i = 0; i < size; i++) {
    order.sort((a, b) => kept[a]!.w[i]! - kept[b]!.w[i]! || a - b);
    let sum = 0;
    let wsum = 0;
    for (let r = t; r < n - t; r++) {
      const k = order[r]!;
      sum += kept[k]!.w[i]! * weights[k]!;
      wsum += weights[k]!;
    }
    merged[i] = sum / wsum;
  }
  const total = weights.reduce((a, b) => a + b, 0);
  const baseline = base.baseline.map((_, j) => kept.reduce((acc, v, k) => acc + (v.u.file.baseline[j] ?? 0) * weights[k]!, 0) / total);
  return {
    file: withWeights(base, merged, kept.reduce((acc, v) => acc + v.u.samples, 0), baseline),
    accepted: kept.map((v) => v.u.from),
    rejected,
  };
}
