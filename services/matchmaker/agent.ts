/**
 * The bidding agent. Each tick it catches up with the chain's events, then for every open
 * request it has not bid on yet evaluates its providers' offers (constraints, model, price) and
 * bids from the best one, with the explanation stored off chain under the hash the bid carries.
 * Outcomes of its agreements feed the online trainer. RPC failures are retried with backoff;
 * a tick that still fails is logged and the next one starts over from the last applied block.
 */
import type { ContractTransaction, Signer } from "ethers";
import { ENERGY_PRICE, TIERS } from "./continuum.js";
import { type MarketChain, toTokens } from "./chain.js";
import { evaluateRequest, type AgentOffer, type RequestEvaluation, type OfferDecision } from "./evaluate.js";
import type { ExplanationStore } from "./explanations.js";
import type { ExplorerClient } from "./history.js";
import { MarketState, rivalBest, ruleScore, type OfferTerms, type OpenRequest } from "./market-state.js";
import { totalFor } from "../../contracts/client/amounts.js";
import type { OnlineTrainer } from "./online-trainer.js";
import type { Federation } from "./federation.js";
import type { PricingParams } from "./pricing.js";
import { sleep } from "./retry.js";
import { inputMiBOf, type ContentGate, type ContentRef } from "./content-gate.js";
import { GAS_LIMITS, senderFor, type Sender } from "../../contracts/client/sender.js";
import { STATUS_NAMES } from "../../contracts/client/status.js";
import { NO_HISTORY, type Candidate, type OfferView, type ProviderStats, type RequestView } from "./types.js";

/** A bid decided in a tick, waiting to be sent with the others. */
interface PlannedBid {
  id: bigint;
  tx: ContractTransaction;
  offerId: bigint;
  reason: string;
  hash: string;
  /** The explanation's file is written (a bid must not go out before what it references). */
  stored: Promise<void>;
}

/**
 * Bids a tick plans, signs and sends at a time. Signing is the slow part of a bid (~10 ms on a busy
 * 2-core machine): sent as one batch, the first bids of a burst of 90 requests waited a second for
 * the last one to be signed, while the windows of all of them ran (measured: planning 0.4 s and
 * sending 0.9 s for one batch of 87).
 */
const BID_BATCH = 16;

export interface AgentOptions {
  chain: MarketChain;
  signer: Signer;
  /** provider (owner) addresses the agent bids for */
  providers: string[];
  store: ExplanationStore;
  trainer: OnlineTrainer;
  /** fetches and checks each request's module and input before any bid (content-gate.ts) */
  content: ContentGate;
  /** first block to read events from */
  startBlock: number;
  /** skip requests whose window closes within this many seconds */
  marginSec?: number;
  /** how often the providers' profiles (tier, bond, history) are re-read, in ms (default 5000) */
  profileRefreshMs?: number;
  /** the providers' operating cost as a share of their offers' floor prices */
  operatingShare?: number;
  pricing?: Partial<PricingParams>;
  explorer?: ExplorerClient;
  /** federated learning with the other agents (federation.ts); unset: the agent learns alone */
  federation?: Federation;
  log?: (message: string) => void;
}

/** Why the agent did (not) bid on a request, per offer. */
export interface WhyNoBid {
  requestId: bigint;
  status: string;
  now: number;
  bidWindowEnd: number;
  /** the live bid one of the agent's providers holds, if any */
  currentBid?: { provider: string; offerId: bigint; explanationHash: string };
  decisions: OfferDecision[];
  summary: string;
}

interface Profile {
  tier: number;
  region: number;
  bonded: boolean;
  stats: ProviderStats;
  /** the failure rate the contract will attach to this provider's next first bid */
  failureBps: bigint;
  /** stake not reserved by open agreements (registry `bidderProfile`), in wei */
  freeStakeWei: bigint;
}

export class MatchmakerAgent {
  readonly state: MarketState;
  private readonly o: Required<Omit<AgentOptions, "explorer" | "pricing" | "federation">> & Pick<AgentOptions, "explorer" | "pricing" | "federation">;
  private profiles = new Map<string, Profile>();
  private penaltyBps: number | undefined;
  private disputeBondWei: bigint | undefined;
  /** requests a bid was refused on (revert): not retried */
  readonly refused = new Map<bigint, string>();
  /** the candidate each bid was scored as, to label its outcome for online training */
  private readonly bidCandidates = new Map<bigint, Candidate>();
  private ticking = false;
  private profilesReadAt = -Infinity;
  private agentAddress = "";

  constructor(options: AgentOptions) {
    this.o = { marginSec: 2, operatingShare: 0.6, profileRefreshMs: 5_000, log: (m) => console.log(m), ...options } as typeof this.o;
    if (options.providers.length === 0) throw new Error("the agent needs at least one provider address (PROVIDERS)");
    this.state = new MarketState(options.providers, options.startBlock);
  }

  /** Catches up with the chain: applies every event up to the latest block. */
  async sync(): Promise<void> {
    const latest = await this.o.chain.latestBlock();
    if (latest <= this.state.cursor) return;
    const events = await this.o.chain.events(this.state.cursor + 1, latest);
    for (const e of events) {
      this.state.apply(e);
      if (e.name === "RequestClosed" || e.name === "AgreementCreated") this.o.content.forget((e.args.requestId ?? e.args.agreementId) as bigint);
    }
    this.state.cursor = latest;
    this.learnFromOutcomes();
  }

  private learnFromOutcomes(): void {
    for (const id of this.state.takeOutcomes()) {
      const candidate = this.bidCandidates.get(id);
      const ag = this.state.agreements.get(id);
      if (!candidate || !ag || ag.met === undefined) continue;
      const slack = candidate.request.deadline - candidate.request.bidWindowEnd;
      const runtimeSec = ag.wallMs !== undefined ? ag.wallMs / 1000 : slack * 1.5;
      this.o.trainer.add({ candidate, met: ag.met, runtimeSec });
      this.bidCandidates.delete(id);
    }
  }

  private async refreshProfiles(): Promise<void> {
    this.penaltyBps ??= await this.o.chain.penaltyBps();
    this.disputeBondWei ??= await this.o.chain.disputeBond();
    if (!this.agentAddress) this.agentAddress = await this.o.signer.getAddress();
    let explorerStats: Map<string, ProviderStats> | undefined;
    if (this.o.explorer) {
      try {
        explorerStats = await this.o.explorer.providerStats(this.o.providers);
      } catch (error) {
        this.o.log(`explorer unavailable, using chain counters: ${String(error)}`);
      }
    }
    for (const address of this.state.providers) {
      const p = await this.o.chain.providerProfile(address, this.agentAddress);
      const usage = this.state.usage.get(address);
      const fromExplorer = explorerStats?.get(address);
      const stats: ProviderStats = {
        ...(fromExplorer ?? {
          completed: p.completed,
          breached: p.breached,
          disputesWon: p.disputesWon,
          disputesLost: p.disputesLost,
          fuelReported: usage?.fuel ?? 0,
          wallMsReported: usage?.wallMs ?? 0,
        }),
        completedValue: p.completedValue,
        failedValue: p.failedValue,
      };
      this.profiles.set(address, {
        tier: p.tier,
        region: p.region,
        bonded: p.bonded && p.registered,
        stats,
        failureBps: p.failureBps,
        freeStakeWei: p.freeStakeWei,
      });
    }
    this.profilesReadAt = performance.now();
  }

  /** Re-reads what changes with every award and settlement: free stake and failure rate (one view call per provider). */
  private async refreshStakes(): Promise<void> {
    for (const [address, profile] of this.profiles) {
      const b = await this.o.chain.call("bidderProfile", () => this.o.chain.registry.bidderProfile(address, this.agentAddress));
      profile.freeStakeWei = b.freeStake;
      profile.failureBps = b.failureBps;
      profile.bonded = b.bonded;
    }
  }

  private offerView(t: OfferTerms, profile: Profile): OfferView {
    return {
      id: t.id,
      provider: t.provider,
      tier: profile.tier,
      region: profile.region,
      bonded: profile.bonded,
      pricePerMFuel: toTokens(t.pricePerMFuelWei),
      fee: toTokens(t.feeWei),
      maxFuel: Number(t.maxFuel),
      memoryMiB: t.memoryMiB,
      concurrentJobs: t.concurrentJobs,
      latencyClass: t.latencyClass,
      expiresAt: t.expiresAt,
      meteringVersion: t.meteringVersion,
    };
  }

  /** What an agreement of `totalWei` reserves of its provider's stake: the penalty plus the dispute bond. */
  private reserveWei(totalWei: bigint): bigint {
    return (totalWei * BigInt(this.penaltyBps ?? 10_000)) / 10_000n + (this.disputeBondWei ?? 0n);
  }

  /**
   * The stake `provider` has for one more agreement, in wei: its free stake less what its bids
   * that may still win would reserve (each can become an agreement, and the contract refunds the
   * consumer at the award when the winner's free stake no longer covers it).
   */
  private uncommittedStakeWei(provider: string, now: number, except?: bigint): bigint {
    const profile = this.profiles.get(provider);
    if (!profile) return 0n;
    let committed = 0n;
    for (const [requestId, b] of this.state.bids) {
      if (b.provider !== provider || requestId === except) continue;
      const request = this.state.open.get(requestId);
      if (request && (now < request.view.bidWindowEnd || !this.state.beaten(request, b))) {
        committed += this.reserveWei(totalFor(request.maxFuel, b.pricePerMFuelWei, b.feeWei));
      }
    }
    return profile.freeStakeWei - committed;
  }

  private agentOffers(now: number): AgentOffer[] {
    const out: AgentOffer[] = [];
    for (const t of this.state.offers.values()) {
      const profile = this.profiles.get(t.provider);
      if (!profile) continue;
      out.push({
        offer: this.offerView(t, profile),
        stats: profile.stats ?? NO_HISTORY,
        load: this.state.load(t.id, now),
        stake: {
          free: toTokens(this.uncommittedStakeWei(t.provider, now)),
          penaltyBps: this.penaltyBps ?? 10_000,
          disputeBond: toTokens(this.disputeBondWei ?? 0n),
        },
        cost: {
          operatingShare: this.o.operatingShare,
          energyPerMFuel: TIERS[profile.tier]?.energyPerMFuel ?? 0,
          energyPrice: ENERGY_PRICE,
        },
      });
    }
    return out;
  }

  private evaluate(request: RequestView, now: number, explain = true): RequestEvaluation {
    return evaluateRequest(request, this.agentOffers(now), this.o.trainer.model, {
      now,
      explain,
      marginSec: this.o.marginSec,
      pricing: { ...this.o.pricing, penaltyBps: this.penaltyBps ?? 10_000 },
    });
  }

  /** One pass: sync, then bid on every open request that has none of ours yet. Returns bids placed. */
  async tick(): Promise<number> {
    if (this.ticking) return 0;
    this.ticking = true;
    try {
      await this.sync();
      if (this.o.federation) {
        // A board or peer that fails never stops bidding: the agent keeps its own model.
        await this.o.federation.tick().catch((error: unknown) => this.o.log(`federated step failed: ${shortError(error)}`));
      }
      // Profiles change slowly (registration, bond, counters): re-read them now and then, not
      // on every tick.
      if (performance.now() - this.profilesReadAt >= this.o.profileRefreshMs) await this.refreshProfiles();
      else await this.refreshStakes();
      let placed = 0;
      const now = await this.o.chain.chainTime();
      // A bid must be mined before the window closes: the margin is at least the time this
      // agent's transactions have been taking to be mined.
      const margin = Math.max(this.o.marginSec, Math.ceil(this.sender.inclusionMs / 1000));
      // Slots are scarce: rank the open requests by what they would earn and bid on the best
      // first (each bid is re-evaluated, since the previous one took a slot).
      const candidates = [...this.state.open.values()]
        .filter((r) => !this.state.bids.has(r.view.id) && !this.refused.has(r.view.id))
        .filter((r) => now + margin < r.view.bidWindowEnd);
      // Attack 10: no bid before the request's module and input were fetched and their sha-256
      // checked (cached by hash); a request whose content fails is skipped, with the reason logged.
      await this.o.content.checkAll(candidates.map(contentRef));
      const ranked = candidates
        .filter((r) => this.o.content.result(r.view.id)?.ok === true)
        .map((r) => {
          r.view.inputMiB = inputMiBOf(this.o.content.result(r.view.id));
          return r;
        })
        .map((r) => ({ r, profit: this.evaluate(r.view, now, false).chosen?.quote.expectedProfit ?? -Infinity }))
        .filter((x) => x.profit > -Infinity)
        .sort((a, b) => b.profit - a.profit);
      // A burst of requests is bid on in batches of BID_BATCH: each planned one bid after another
      // (a planned bid takes its slot at once), its explanations written, then sent in one JSON-RPC
      // round trip with consecutive nonces. Receipts are not awaited here: on a chain with real block
      // times the next tick must not wait for a block; a bid that fails frees its slot when its
      // receipt says so.
      for (let at = 0; at < ranked.length; at += BID_BATCH) {
        const planned: PlannedBid[] = [];
        for (const { r } of ranked.slice(at, at + BID_BATCH)) {
          const bid = await this.planBid(r, now);
          if (bid) planned.push(bid);
        }
        if (planned.length === 0) continue;
        let sent: Awaited<ReturnType<Sender["sendBatch"]>>;
        try {
          await Promise.all(planned.map((b) => b.stored));
          sent = await this.sender.sendBatch(planned.map((b) => ({ tx: b.tx, gasLimit: GAS_LIMITS.bid, label: `bid on request ${b.id}` })));
        } catch (error) {
          // The explanations or the batch never made it: every bid of the batch frees its slot and is
          // tried next tick (as are the requests of the batches after it, not planned yet).
          for (const bid of planned) this.refuse(bid.id, error);
          throw error;
        }
        for (const [i, outcome] of sent.entries()) {
          const bid = planned[i]!;
          if (outcome instanceof Error) {
            this.refuse(bid.id, outcome);
            continue;
          }
          placed++;
          outcome.wait().then(
            () => this.o.log(`bid on request ${bid.id} from offer ${bid.offerId}: ${bid.reason} (explanation ${bid.hash})`),
            (error: unknown) => this.refuse(bid.id, error),
          );
        }
      }
      return placed;
    } finally {
      this.ticking = false;
    }
  }

  /** Forgets a bid that did not make it; a revert is final for the request, an RPC failure is retried. */
  private refuse(id: bigint, error: unknown): void {
    const reason = shortError(error);
    this.state.bids.delete(id);
    this.bidCandidates.delete(id);
    if ((error as { code?: string }).code === "CALL_EXCEPTION" || /revert/i.test(reason)) {
      this.refused.set(id, reason);
      this.o.log(`bid on request ${id} refused: ${reason}`);
    } else {
      this.o.log(`bid on request ${id} failed, will retry: ${reason}`);
    }
  }

  /**
   * Decides one bid and counts it against its slot at once (so the next request of the tick sees
   * the slot taken); returns the transaction to send, or undefined when it bids not.
   */
  private async planBid(request: OpenRequest, now: number): Promise<PlannedBid | undefined> {
    const evaluation = this.evaluate(request.view, now);
    const chosen = evaluation.chosen;
    if (!chosen) return undefined;
    const planned = this.plannedBid(request, chosen);
    const { rival } = planned;
    let { price, fee } = planned;
    // A bid that does not beat the best one wins only if the consumer passes over a better bid
    // (by accepting it early): not worth a slot held until the window closes, nor the gas.
    if (rival) return undefined;
    // The contract refuses a bid whose provider's free stake does not cover its reserve; the
    // floor reserves the least (the constraint checked that in tokens; this is exact, in wei).
    const free = this.uncommittedStakeWei(chosen.provider, now);
    if (free < this.reserveWei(totalFor(request.maxFuel, price, fee))) {
      const terms = this.state.offers.get(chosen.offerId)!;
      if (free < this.reserveWei(totalFor(request.maxFuel, terms.pricePerMFuelWei, terms.feeWei))) {
        this.o.log(`request ${request.view.id} skipped: ${chosen.provider}'s free stake ${toTokens(free)} does not cover the reserve of a bid`);
        return undefined;
      }
      ({ pricePerMFuelWei: price, feeWei: fee } = terms);
    }
    const explanation = {
      format: "troupe-bid-explanation/1",
      requestId: request.view.id,
      offerId: chosen.offerId,
      provider: chosen.provider,
      agent: this.agentAddress,
      pricePerMFuel: price,
      fee,
      prediction: chosen.prediction,
      quote: chosen.quote,
      topFactors: evaluation.factors,
      reason: chosen.reason,
      modelTrainedOn: this.o.trainer.model.file.trainedOn,
      decidedAt: now,
    };
    const { hash, stored } = this.o.store.putLater(explanation);
    const id = request.view.id;
    const tx = await this.o.chain.market.connect(this.o.signer).bid.populateTransaction(id, chosen.offerId, price, fee, hash);
    this.state.bids.set(id, {
      provider: chosen.provider,
      offerId: chosen.offerId,
      pricePerMFuelWei: price,
      feeWei: fee,
      explanationHash: hash,
      failureBps: this.ownFailureBps(chosen.provider),
    });
    const offer = this.agentOffers(now).find((a) => a.offer.id === chosen.offerId)!;
    this.bidCandidates.set(id, { request: request.view, offer: offer.offer, stats: offer.stats, load: offer.load });
    return { id, tx, offerId: chosen.offerId, reason: chosen.reason, hash, stored };
  }

  /** The agent key's one sender: local nonce, pipelined bids, stuck bids replaced. */
  private get sender(): Sender {
    return senderFor(this.o.signer as Signer & { address: string }, { log: this.o.log });
  }

  /** The failure rate the contract will attach to `provider`'s bid: the registry's, as `bidderProfile` reads it. */
  private ownFailureBps(provider: string): bigint {
    return this.profiles.get(provider.toLowerCase())?.failureBps ?? 10_000n;
  }

  /**
   * What `chosen` would bid on `request`, in wei, and the rival bid (another provider's) that
   * already scores at least as well under the award rule, if any.
   */
  private plannedBid(request: OpenRequest, chosen: NonNullable<RequestEvaluation["chosen"]>) {
    const { price, fee } = bidAmounts(this.state.offers.get(chosen.offerId)!, request, chosen.quote.markup);
    const total = totalFor(request.maxFuel, price, fee);
    const score = ruleScore(request, total, this.ownFailureBps(chosen.provider));
    const best = rivalBest(request, chosen.provider);
    return { price, fee, total, rival: best && best.score <= score ? best : undefined };
  }

  /** Why the agent does or does not bid on `requestId`, offer by offer, as of now. */
  async whyNoBid(requestId: bigint, asOf?: (view: RequestView) => number): Promise<WhyNoBid> {
    await this.sync();
    await this.refreshProfiles();
    const [{ view, status, posted }, chainNow] = await Promise.all([this.o.chain.request(requestId), this.o.chain.chainTime()]);
    // A closed request is judged as of a moment inside its window (`asOf`), or nothing but the closed window shows.
    const now = asOf ? asOf(view) : chainNow;
    const statusName = STATUS_NAMES[status] ?? String(status);
    const content = statusName === "Open" ? await this.o.content.check(contentRef({ view, ...(posted as Omit<ContentRef, "id">) })) : undefined;
    if (content?.ok) view.inputMiB = inputMiBOf(content);
    const evaluation = this.evaluate(view, now);
    const bid = this.state.bids.get(requestId);
    const answer: WhyNoBid = { requestId, status: statusName, now, bidWindowEnd: view.bidWindowEnd, decisions: evaluation.decisions, summary: "" };
    if (bid) answer.currentBid = { provider: bid.provider, offerId: bid.offerId, explanationHash: bid.explanationHash };
    if (evaluation.decisions.length === 0) answer.summary = "the agent's providers have no offers";
    else if (bid) answer.summary = `already bid from offer ${bid.offerId} (explanation ${bid.explanationHash})`;
    else if (statusName !== "Open") answer.summary = `the request is ${statusName}: no bids are taken`;
    else if (this.refused.has(requestId)) answer.summary = `the bid was refused on chain: ${this.refused.get(requestId)}`;
    else if (content && !content.ok) answer.summary = `no bid on content that cannot be run: ${content.reason}`;
    else if (evaluation.chosen) {
      const open = this.state.open.get(requestId);
      const planned = open && this.plannedBid(open, evaluation.chosen);
      answer.summary = planned?.rival
        ? `offer ${evaluation.chosen.offerId} would bid ${toTokens(planned.total)} in all, but ${planned.rival.provider} already bids ${toTokens(planned.rival.total)}: a bid that does not beat the best wins only if the consumer passes over the better one`
        : `would bid from offer ${evaluation.chosen.offerId}: ${evaluation.chosen.reason}`;
    }
    else answer.summary = "no offer qualifies or pays: see each offer's reason";
    return answer;
  }

  /** Runs ticks every `intervalMs` until `signal` aborts; a failed tick backs off, never stops the loop. */
  async run(signal: AbortSignal, intervalMs = 2_000): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        await this.tick();
        failures = 0;
      } catch (error) {
        failures++;
        this.o.log(`tick failed (${failures} in a row): ${shortError(error)}`);
      }
      await sleep(Math.min(60_000, intervalMs * 2 ** Math.min(failures, 5)));
    }
  }
}

/** The bid in wei: the floor times the markup (to 1e-6), inside [floor, ceiling]. */
export function bidAmounts(terms: OfferTerms, request: OpenRequest, markup: number): { price: bigint; fee: bigint } {
  const ppm = BigInt(Math.max(1_000_000, Math.floor(markup * 1_000_000)));
  const clamp = (floor: bigint, ceiling: bigint) => {
    const v = (floor * ppm) / 1_000_000n;
    return v > ceiling ? ceiling : v < floor ? floor : v;
  };
  return { price: clamp(terms.pricePerMFuelWei, request.maxPricePerMFuelWei), fee: clamp(terms.feeWei, request.maxFeeWei) };
}

function shortError(error: unknown): string {
  const e = error as { shortMessage?: string; message?: string };
  return e?.shortMessage ?? e?.message ?? String(error);
}

/** What a request names for the host to run. */
function contentRef(r: Pick<OpenRequest, "workloadHash" | "workloadURI" | "inputHash" | "inputURI"> & { view: Pick<RequestView, "id"> }): ContentRef {
  return { id: r.view.id, workloadHash: r.workloadHash, workloadURI: r.workloadURI, inputHash: r.inputHash, inputURI: r.inputURI };
}
