/**
 * The consumer's own agent on the chain: for one request it reads the live bids, the offers they
 * were placed from and the providers' public history (the explorer's statistics when it answers,
 * else the registry's counters), scores every bid with the model (consumer-choice.ts) and names
 * the bid of highest expected welfare for the consumer. The explanation is stored like a bid's
 * (canonical JSON under its keccak-256) and its hash returned for the caller to record and print.
 * The caller accepts the chosen bid (`acceptBid`) before the window closes.
 *
 * Two modes. `rule` ranks the bids exactly as the contract's award rule does (expected cost =
 * total + escrow × valueAtRiskBps × failureBps / 1e8 from each BidPlaced, then the earlier bid),
 * so accepting early gives what closing the auction would. `auto` ranks them by the model's
 * expected welfare (consumer-choice.ts), with the same value at risk the rule weighs (the
 * request's, as the contract stores it, unless the consumer states another); each bid's rule
 * cost and the rule's own pick are in the explanation either way.
 */
import type { Provider } from "ethers";
import { MarketChain, toTokens, type MarketAddresses } from "./chain.js";
import { chooseBid, chooseByRule, compareByRule, type BidOption, type ScoredBid } from "./consumer-choice.js";
import type { Predictor } from "./evaluate.js";
import type { ExplanationStore } from "./explanations.js";
import type { ExplorerClient } from "./history.js";
import type { ProviderStats, RequestView } from "./types.js";

export interface ConsumerAgentOptions {
  provider: Provider;
  addresses: MarketAddresses;
  model: Predictor & { file?: { trainedOn: number } };
  store: ExplanationStore;
  explorer?: ExplorerClient;
}

/** What the consumer knows of its job that the chain may not say. */
export interface ChoiceTerms {
  /** what a failed job costs the consumer, in tokens (the request's own value when the chain has it) */
  valueAtRisk?: number;
  /** the fuel the job is expected to use; default: the request's cap */
  expectedFuel?: number;
}

/** `auto`: the model's expected welfare; `rule`: the contract's award rule. */
export type ChooseMode = "auto" | "rule";

export interface ConsumerDecision {
  requestId: bigint;
  /** the provider whose bid to accept; undefined when there is no bid */
  provider?: string;
  explanationHash?: string;
  explanation: ConsumerExplanation;
  /** one line for a person */
  summary: string;
}

export interface ConsumerExplanation {
  format: "troupe-consumer-choice/1";
  requestId: bigint;
  mode: ChooseMode;
  valueAtRisk: number;
  expectedFuel: number;
  penaltyBps: number;
  chosen?: string;
  /** the provider the contract's award rule would pick */
  ruleChoice?: string;
  bids: {
    provider: string;
    offerId: bigint;
    seq: number;
    pricePerMFuel: number;
    fee: number;
    pMet: number;
    payment: number;
    expectedWelfare: number;
    failureBps?: number;
    ruleExpectedCost?: number;
    record: { completed: number; breached: number; disputesLost: number };
  }[];
  reason: string;
  modelTrainedOn?: number;
}

export class ConsumerAgent {
  readonly chain: MarketChain;
  private penaltyBps: number | undefined;

  constructor(private readonly o: ConsumerAgentOptions) {
    this.chain = new MarketChain(o.provider, o.addresses);
  }

  /**
   * The live bids on `requestId` (placed from `fromBlock` on), each with its offer, its provider's
   * record, the failure rate the contract attached and its expected cost under the rule, in the
   * order the rule breaks ties by (a provider's latest BidPlaced is its live bid).
   */
  async liveBids(requestId: bigint, fromBlock: number): Promise<BidOption[]> {
    const market = this.chain.market;
    const events = await this.chain.call("BidPlaced", () => market.queryFilter(market.filters.BidPlaced(requestId), fromBlock));
    const latest = new Map<string, (typeof events)[number]>();
    for (const e of events) latest.set(e.args.provider, e); // queryFilter returns logs in chain order
    const ordered = [...latest.values()].sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
    const providers = ordered.map((e) => e.args.provider);
    let explorerStats: Map<string, ProviderStats> | undefined;
    if (this.o.explorer && providers.length > 0) explorerStats = await this.o.explorer.providerStats(providers).catch(() => undefined);
    const options: BidOption[] = [];
    for (const [i, event] of ordered.entries()) {
      const provider = event.args.provider;
      // The contract holds the live bid; its event carries the failure rate and the rule's cost.
      const bid = await this.chain.call("bidOf", () => market.bidOf(requestId, provider));
      if (bid.offerId === 0n || bid.pricePerMFuel !== event.args.pricePerMFuel || bid.fee !== event.args.fee) continue;
      const [terms, profile] = await Promise.all([this.chain.offer(bid.offerId), this.chain.providerProfile(provider)]);
      const fromExplorer = explorerStats?.get(provider.toLowerCase());
      const stats: ProviderStats = {
        ...(fromExplorer ?? {
          completed: profile.completed,
          breached: profile.breached,
          disputesWon: profile.disputesWon,
          disputesLost: profile.disputesLost,
          fuelReported: 0,
          wallMsReported: 0,
        }),
        completedValue: profile.completedValue,
        failedValue: profile.failedValue,
      };
      options.push({
        provider,
        offer: {
          id: bid.offerId,
          provider,
          tier: profile.tier,
          region: profile.region,
          bonded: profile.bonded,
          pricePerMFuel: toTokens(terms.pricePerMFuel),
          fee: toTokens(terms.fee),
          maxFuel: Number(terms.maxFuel),
          memoryMiB: Number(terms.memoryMiB),
          concurrentJobs: Number(terms.concurrentJobs),
          latencyClass: Number(terms.latencyClass),
          expiresAt: Number(terms.expiresAt),
          meteringVersion: Number(terms.meteringVersion),
        },
        stats,
        load: 0,
        pricePerMFuel: toTokens(bid.pricePerMFuel),
        fee: toTokens(bid.fee),
        seq: i + 1,
        failureBps: Number(event.args.failureBps),
        ruleCostWei: event.args.expectedCost,
      });
    }
    return options;
  }

  /**
   * Scores the live bids and names the best for the consumer, with its stored explanation.
   * `terms` may depend on the request (a value at risk in proportion to its escrow).
   */
  async decide(
    requestId: bigint,
    termsOf: ChoiceTerms | ((view: RequestView) => ChoiceTerms) = {},
    fromBlock = 0,
    mode: ChooseMode = "auto",
  ): Promise<ConsumerDecision> {
    this.penaltyBps ??= await this.chain.penaltyBps();
    const { view } = await this.chain.request(requestId);
    const terms = typeof termsOf === "function" ? termsOf(view) : termsOf;
    // The rule weighs failure by the request's own value at risk; the model may take the consumer's word.
    const valueAtRisk = mode === "rule" ? view.valueAtRisk : (terms.valueAtRisk ?? view.valueAtRisk);
    const expectedFuel = terms.expectedFuel ?? view.maxFuel;
    const bids = await this.liveBids(requestId, fromBlock);
    const choice = chooseBid(view, bids, { valueAtRisk, expectedFuel, penaltyBps: this.penaltyBps }, this.o.model);
    const byRule = chooseByRule(bids);
    const ruleRanked = [...choice.ranked].sort((a, b) => compareByRule(a.bid, b.bid));
    const ranked = mode === "rule" ? ruleRanked : choice.ranked;
    const chosen = ranked[0];
    const reason = !chosen
      ? choice.reason
      : mode === "rule"
        ? `bid ${chosen.bid.seq} of ${chosen.bid.provider} by the award rule: expected cost ${toTokens(chosen.bid.ruleCostWei!)} ` +
          `(failure rate ${chosen.bid.failureBps} bps on a value at risk of ${valueAtRisk})` +
          (ranked[1] ? `; next: ${ranked[1].bid.provider} at ${toTokens(ranked[1].bid.ruleCostWei!)}` : "; the only bid")
        : choice.reason + (byRule && byRule.provider !== chosen.bid.provider ? `; the award rule would pick ${byRule.provider}` : "");
    const explanation: ConsumerExplanation = {
      format: "troupe-consumer-choice/1",
      requestId,
      mode,
      valueAtRisk,
      expectedFuel,
      penaltyBps: this.penaltyBps,
      ...(chosen ? { chosen: chosen.bid.provider } : {}),
      ...(byRule ? { ruleChoice: byRule.provider } : {}),
      bids: ranked.map(row),
      reason,
      ...(this.o.model.file ? { modelTrainedOn: this.o.model.file.trainedOn } : {}),
    };
    if (!chosen) return { requestId, explanation, summary: `request ${requestId}: ${reason}` };
    const explanationHash = this.o.store.put(explanation);
    return {
      requestId,
      provider: chosen.bid.provider,
      explanationHash,
      explanation,
      summary: `request ${requestId}: chose ${reason} (explanation ${explanationHash})`,
    };
  }
}

function row(s: ScoredBid): ConsumerExplanation["bids"][number] {
  const r = (x: number) => Math.round(x * 1e6) / 1e6;
  return {
    provider: s.bid.provider,
    offerId: s.bid.offer.id,
    seq: s.bid.seq,
    pricePerMFuel: s.bid.pricePerMFuel,
    fee: s.bid.fee,
    pMet: r(s.pMet),
    payment: r(s.payment),
    expectedWelfare: r(s.expectedWelfare),
    ...(s.bid.failureBps !== undefined ? { failureBps: s.bid.failureBps } : {}),
    ...(s.bid.ruleCostWei !== undefined ? { ruleExpectedCost: toTokens(s.bid.ruleCostWei) } : {}),
    record: { completed: s.bid.stats.completed, breached: s.bid.stats.breached, disputesLost: s.bid.stats.disputesLost },
  };
}

export interface ConsumerChooserConfig {
  provider: Provider;
  addresses: MarketAddresses;
  /** the model file; trained from the simulator and saved there if missing or stale */
  modelPath: string;
  /** where the choice explanations are stored (under `consumer-choices/`) */
  dataDir: string;
  explorerUrl?: string;
  terms: ChoiceTerms | ((view: RequestView) => ChoiceTerms);
  /** how to choose (default auto: the model) */
  mode?: ChooseMode;
  log?: (line: string) => void;
}

/** What the consumer flow calls before the window closes: the provider to accept, and why. */
export type Chooser = (requestId: bigint, fromBlock: number) => Promise<{ provider: string; summary: string; explanationHash: string } | undefined>;

/** The consumer's agent as the `troupe deploy --choose auto` flow and the demo consumer use it. */
export async function consumerChooser(cfg: ConsumerChooserConfig): Promise<Chooser> {
  const { loadOrTrainModel } = await import("./setup.js");
  const { ExplanationStore } = await import("./explanations.js");
  const { ExplorerClient } = await import("./history.js");
  const model = await loadOrTrainModel({ modelPath: cfg.modelPath }, cfg.log ?? (() => {}));
  const agent = new ConsumerAgent({
    provider: cfg.provider,
    addresses: cfg.addresses,
    model,
    store: new ExplanationStore(cfg.dataDir, "consumer-choices"),
    ...(cfg.explorerUrl ? { explorer: new ExplorerClient(cfg.explorerUrl, 3_000) } : {}),
  });
  return async (requestId, fromBlock) => {
    const d = await agent.decide(requestId, cfg.terms, fromBlock, cfg.mode ?? "auto");
    return d.provider && d.explanationHash ? { provider: d.provider, summary: d.summary, explanationHash: d.explanationHash } : undefined;
  };
}
