/**
 * Welfare, the yardstick of the evaluation: for each placed job, the consumer's value of it if
 * the SLA was met (zero otherwise), minus what running it really cost (the provider's operating
 * cost and the energy, both counted even when the job failed). Payments are transfers between
 * consumer and provider and cancel out; an unplaced request adds zero.
 */
import type { SimRequest, Truth } from "./simulator.js";

export function welfareOf(req: SimRequest, truth: Truth): number {
  return (truth.met ? req.value : 0) - truth.cost;
}
