/**
 * The bidding agent. Each tick it catches up with the chain's events, then for every open
 * request it has not bid on yet evaluates its providers' offers (constraints, model, price) and
 * bids from the best one, with the explanation stored off chain under the hash the bid carries.
 * Outcomes of its agreements feed the online trainer. RPC failures are retried with backoff;
 * a tick that still fails is logged and the next one starts over from the last applied block.
 */
import { createHash } from "node:crypto";
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
import { ChainClock } from "./chain-clock.js";
import { inputMiBOf, type ContentGate, type ContentRef } from "./content-gate.js";
import { GAS_LIMITS, senderFor, type Sender } from "../../contracts/client/sender.js";
import { STATUS_NAMES } from "../../contracts/client/status.js";
import { NO_HISTORY, type Candidate, type OfferView, type ProviderStats, type RequestView } from "./types.js";

/** An open request in a tick's bidding order, with the agent's own draw for it (see `draw`). */
interface Queued {
  r: OpenRequest;
  draw: number;
}

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

/**
 * How far apart (as a share of expected profit) an agent's own draw may set two requests that earn
 * alike, when its slots or stake cannot take every open request (see `biddingOrder`).
 */
const SPREAD = 0.05;

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
  private profileRead: Promise<void> | undefined;
  private explorerStats: Map<string, ProviderStats> | undefined;
  private explorerReadAt = -Infinity;
  private explorerRead: Promise<void> | undefined;
  private agentAddress = "";
  private readonly clock = new ChainClock();

  constructor(options: AgentOptions) {
    this.o = { marginSec: 2, operatingShare: 0.6, profileRefreshMs: 5_000, log: (m) => console.log(m), ...options } as typeof this.o;
    if (options.providers.length === 0) throw new Error("the agent needs at least one provider address (PROVIDERS)");
    this.state = new MarketState(options.providers, options.startBlock);
  }

  /** Catches up with the chain: applies every event up to the latest block. Returns that block's number and timestamp. */
  async sync(): Promise<{ number: number; timestamp: number }> {
    const head = await this.o.chain.head();
    if (head.number <= this.state.cursor) return head;
    const events = await this.o.chain.events(this.state.cursor + 1, head.number);
    for (const e of events) {
      this.state.apply(e);
      if (e.name === "RequestClosed" || e.name === "AgreementCreated") this.o.content.forget((e.args.requestId ?? e.args.agreementId) as bigint);
    }
    this.state.cursor = head.number;
    this.learnFromOutcomes();
    return head;
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

  /**
   * Re-reads the providers' profiles: registration, tier, region and record (from the explorer when
   * it answered, else the chain's counters). The stake fields, which change with every award, are
   * taken only for a provider seen for the first time: `refreshStakes` keeps them current, and a
   * slower read finishing after it must not put an older free stake back.
   */
  private async refreshProfiles(waitForExplorer = false): Promise<void> {
    this.profilesReadAt = performance.now();
    this.readExplorerLater(waitForExplorer);
    if (waitForExplorer) await this.explorerRead;
    this.penaltyBps ??= await this.o.chain.penaltyBps();
    this.disputeBondWei ??= await this.o.chain.disputeBond();
    if (!this.agentAddress) this.agentAddress = await this.o.signer.getAddress();
    for (const address of this.state.providers) {
      const p = await this.o.chain.providerProfile(address, this.agentAddress);
      const usage = this.state.usage.get(address);
      const fromExplorer = this.explorerStats?.get(address);
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
      const known = this.profiles.get(address);
      if (known) Object.assign(known, { tier: p.tier, region: p.region, stats });
      else this.profiles.set(address, { tier: p.tier, region: p.region, bonded: p.bonded && p.registered, stats, failureBps: p.failureBps, freeStakeWei: p.freeStakeWei });
    }
  }

  /**
   * Profiles change slowly: they are re-read every `profileRefreshMs` beside the ticks, which never
   * wait for them (they took up to 0.2 s of a tick in a burst, while windows ran).
   */
  private refreshProfilesLater(): void {
    if (this.profileRead || performance.now() - this.profilesReadAt < this.o.profileRefreshMs) return;
    this.profileRead = this.refreshProfiles()
      .catch((error: unknown) => this.o.log(`reading the providers' profiles failed, keeping the last ones: ${shortError(error)}`))
      .finally(() => (this.profileRead = undefined));
  }

  /**
   * Asks the explorer for the providers' records, at most every `profileRefreshMs` (or now, when
   * `force`); the answer serves the next profile read. Nothing waits for it but `whyNoBid`: an
   * explorer that is slow or down (10 s timeout) must not hold bids back.
   */
  private readExplorerLater(force = false): void {
    const explorer = this.o.explorer;
    if (!explorer || this.explorerRead || (!force && performance.now() - this.explorerReadAt < this.o.profileRefreshMs)) return;
    this.explorerReadAt = performance.now();
    this.explorerRead = explorer.providerStats(this.o.providers).then(
      (stats) => void (this.explorerStats = stats),
      (error: unknown) => this.o.log(`explorer unavailable, using chain counters: ${String(error)}`),
    ).finally(() => (this.explorerRead = undefined));
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
      this.clock.observe((await this.sync()).timestamp);
      // A tick that bids on a burst takes seconds: a window open at its start may close before its end.
      const chainNow = () => this.clock.now();
      if (this.o.federation) {
        // A board or peer that fails never stops bidding: the agent keeps its own model.
        await this.o.federation.tick().catch((error: unknown) => this.o.log(`federated step failed: ${shortError(error)}`));
      }
      if (this.profilesReadAt === -Infinity) await this.refreshProfiles();
      else {
        this.refreshProfilesLater();
        await this.refreshStakes();
      }
      let placed = 0;
      // A bid must be mined before the window closes: the margin is at least the time this
      // agent's transactions have been taking to be mined.
      const margin = Math.max(this.o.marginSec, Math.ceil(this.sender.inclusionMs / 1000));
      const inTime = (r: OpenRequest, now: number) => now + margin < r.view.bidWindowEnd;
      const open = [...this.state.open.values()].filter((r) => !this.state.bids.has(r.view.id) && !this.refused.has(r.view.id) && inTime(r, chainNow()));
      const groups = await this.biddingOrder(open, Math.floor(chainNow()));
      const queued = groups.reduce((n, g) => n + g.length, 0);
      // A burst of requests is bid on in batches of BID_BATCH: each one's content checked, its bids
      // planned one after another (a planned bid takes its slot at once) and their explanations
      // written, then sent in one JSON-RPC round trip with consecutive nonces. Receipts are not
      // awaited here: on a chain with real block times the next tick must not wait for a block; a
      // bid that fails frees its slot when its receipt says so.
      let late = 0;
      for (let first = true; groups.length > 0; first = false) {
        // What the chain did while the last batch went out: a request closed, or a rival's bid that
        // already beats this agent's (planBid bids not where it cannot win).
        if (!first) this.clock.observe((await this.sync()).timestamp);
        const stillInTime = (r: OpenRequest, now: number) => inTime(r, now) || (late++, false);
        let now = chainNow();
        const batch = this.nextBatch(groups).filter((r) => this.state.open.has(r.view.id) && stillInTime(r, now));
        // Attack 10: no bid before the request's module and input were fetched and their sha-256
        // checked (cached by hash); a request whose content fails is skipped, with the reason logged.
        await this.o.content.checkAll(batch.map(contentRef));
        now = chainNow();
        const planned: PlannedBid[] = [];
        for (const r of batch.filter((r) => stillInTime(r, now))) {
          const content = this.o.content.result(r.view.id);
          if (!content?.ok) continue;
          r.view.inputMiB = inputMiBOf(content);
          const bid = await this.planBid(r, Math.floor(now));
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
      if (late > 0) this.o.log(`${late} of this tick's ${queued} requests not bid on: their windows closed (within ${margin} s) before their turn`);
      return placed;
    } finally {
      this.ticking = false;
    }
  }

  /**
   * The order a tick bids in, as groups taken one after the other (see `nextBatch` for the order
   * inside a group). When one of the agent's offers has a free slot, and its provider the stake,
   * for every open request, they are one group: in a burst ranked by profit, the last requests
   * reached their turn after their windows closed.
   *
   * When slots or stake are scarce, the agent bids where it earns most: its requests are ranked by
   * expected profit, each spread by up to SPREAD by a draw of its own (requests alike would
   * otherwise be ranked alike by every agent, whose stakes all ran out on the same requests while
   * the last ones of a burst got no bid from anyone). The ones its slots and stake can take are the
   * first group; the rest, in rank order, the second, bid on if a slot frees meanwhile.
   * The ranking takes a request's input size as known so far (0 before its content is checked,
   * batch by batch: checking a whole burst first held its first bids back by up to 0.8 s); each
   * bid itself is decided on the checked size.
   */
  private async biddingOrder(open: OpenRequest[], now: number): Promise<Queued[][]> {
    // Each request's draw is made once per tick: `nextBatch` sorts by it again for every batch.
    const queued = open.map((r) => ({ r, draw: this.draw(r.view.id) }));
    if ([...this.state.offers.values()].some((t) => this.takesAll(t, open, now))) return [queued];
    const ranked = queued
      .filter(({ r }) => this.o.content.result(r.view.id)?.ok !== false)
      .map(({ r, draw }) => {
        const chosen = this.evaluate(r.view, now, false).chosen;
        return { r, draw, chosen, rank: chosen ? chosen.quote.expectedProfit * (1 + SPREAD * draw) : -Infinity };
      })
      .filter((x) => x.rank > -Infinity)
      .sort((a, b) => b.rank - a.rank);
    // Which of them the free slots and stake can take, in rank order, each at its offer's floor.
    const slots = new Map<bigint, number>();
    const stake = new Map<string, bigint>();
    const first: Queued[] = [];
    const later: Queued[] = [];
    for (const { r, draw, chosen } of ranked) {
      const terms = this.state.offers.get(chosen!.offerId)!;
      const slotsLeft = slots.get(terms.id) ?? terms.concurrentJobs - this.state.load(terms.id, now);
      const stakeLeft = stake.get(terms.provider) ?? this.uncommittedStakeWei(terms.provider, now);
      const reserve = this.reserveWei(totalFor(r.maxFuel, terms.pricePerMFuelWei, terms.feeWei));
      if (slotsLeft > 0 && stakeLeft >= reserve) {
        slots.set(terms.id, slotsLeft - 1);
        stake.set(terms.provider, stakeLeft - reserve);
        first.push({ r, draw });
      } else later.push({ r, draw });
    }
    return [first, later].filter((g) => g.length > 0);
  }

  /**
   * Takes the next batch from the first of `groups` (dropping groups it empties). Inside a group
   * the window that closes first goes first; among windows that close together (a burst), a
   * request no rival has bid on yet goes before one that has a bid (every request gets a bid soonest,
   * and a rival's better bid seen meanwhile spares this one); then the agent's own draw (agents all
   * going through a burst in the same order left its last requests unbid by all of them longest).
   * Re-sorted for every batch, since the chain was read again in between.
   */
  private nextBatch(groups: Queued[][]): OpenRequest[] {
    const group = groups[0]!;
    const rivalBid = (q: Queued) => (q.r.best ? 1 : 0);
    group.sort((a, b) => a.r.view.bidWindowEnd - b.r.view.bidWindowEnd || rivalBid(a) - rivalBid(b) || a.draw - b.draw);
    const batch = group.splice(0, BID_BATCH).map((q) => q.r);
    if (group.length === 0) groups.shift();
    return batch;
  }

  /** Whether offer `t` has a free slot, and its provider the stake to reserve, for each of `requests` (at the offer's floor). */
  private takesAll(t: OfferTerms, requests: readonly OpenRequest[], now: number): boolean {
    if (!this.profiles.has(t.provider) || t.expiresAt <= now) return false;
    if (t.concurrentJobs - this.state.load(t.id, now) < requests.length) return false;
    let reserve = 0n;
    for (const r of requests) reserve += this.reserveWei(totalFor(r.maxFuel, t.pricePerMFuelWei, t.feeWei));
    return reserve <= this.uncommittedStakeWei(t.provider, now);
  }

  /** A number in [0, 1) drawn for `requestId` by this agent alone (the same every time it asks). */
  private draw(requestId: bigint): number {
    const digest = createHash("sha256").update(`${this.agentAddress}:${requestId}`).digest();
    return digest.readUInt32BE(0) / 2 ** 32;
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
    await this.refreshProfiles(true);
    await this.refreshStakes();
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

  /** Runs ticks every `intervalMs` (at once after one that bid) until `signal` aborts; a failed tick backs off, never stops the loop. */
  async run(signal: AbortSignal, intervalMs = 2_000): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      let placed = 0;
      try {
        placed = await this.tick();
        failures = 0;
      } catch (error) {
        failures++;
        this.o.log(`tick failed (${failures} in a row): ${shortError(error)}`);
      }
      // A tick that bid took its time, and requests posted meanwhile wait for the next one: it starts at once.
      if (placed === 0) await sleep(Math.min(60_000, intervalMs * 2 ** Math.min(failures, 5)));
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
