/**
 * What the agent knows of the market, rebuilt from chain events alone (so a restart replays the
 * logs and loses nothing): open requests, its providers' offers, bids, running agreements and
 * outcomes, and the fuel and wall time every provider has reported.
 */
import type { ChainEvent } from "./chain.js";
import { requestFromEvent } from "./chain.js";
import type { RequestView } from "./types.js";
import { expectedCost, totalFor, valueAtRiskBps } from "../../contracts/client/amounts.js";

/** An open request with its ceilings in wei (bids are sent in wei) and the best bid so far. */
export interface OpenRequest {
  view: RequestView;
  /** the module's sha-256 (bytes32) and where to fetch it */
  workloadHash: string;
  workloadURI: string;
  /** the input bundle's sha-256 and where to fetch it ("" when the consumer hands it to the host directly) */
  inputHash: string;
  inputURI: string;
  maxFuel: bigint;
  maxPricePerMFuelWei: bigint;
  maxFeeWei: bigint;
  /** what the consumer escrowed: the request's total at its ceilings */
  escrowWei: bigint;
  /** the consumer's value at risk as the contract stores it: basis points of the escrow */
  valueAtRiskBps: bigint;
  /** the best bid by the award rule so far (lowest expected cost, then the earlier), and whose it is */
  best?: { score: bigint; total: bigint; provider: string };
}

/**
 * A bid's score under the award rule, exactly as the contract computes it: its total plus
 * escrow × valueAtRiskBps × failureBps / 1e8, with the failure rate the contract read when the
 * provider first bid on the request (`failureBps` of BidPlaced).
 */
export function ruleScore(request: Pick<OpenRequest, "escrowWei" | "valueAtRiskBps">, total: bigint, failureBps: bigint): bigint {
  return expectedCost(total, request.escrowWei, request.valueAtRiskBps, failureBps);
}


/** The best bid on `request` if another provider than `provider` holds it. */
export function rivalBest(request: OpenRequest, provider: string): OpenRequest["best"] {
  return request.best && request.best.provider !== provider.toLowerCase() ? request.best : undefined;
}

/** An offer of one of the agent's providers, in wei as the offer book stores it. */
export interface OfferTerms {
  id: bigint;
  provider: string;
  pricePerMFuelWei: bigint;
  feeWei: bigint;
  maxFuel: bigint;
  memoryMiB: number;
  concurrentJobs: number;
  latencyClass: number;
  expiresAt: number;
  meteringVersion: number;
}

export interface OurBid {
  provider: string;
  offerId: bigint;
  pricePerMFuelWei: bigint;
  feeWei: bigint;
  explanationHash: string;
  /** the failure rate the contract read for it */
  failureBps: bigint;
}

export interface OurAgreement {
  provider: string;
  offerId: bigint;
  /** true until the usage report lands or the agreement is breached */
  running: boolean;
  met?: boolean;
  wallMs?: number;
}

export class MarketState {
  readonly providers: ReadonlySet<string>;
  readonly open = new Map<bigint, OpenRequest>();
  readonly offers = new Map<bigint, OfferTerms>();
  readonly bids = new Map<bigint, OurBid>();
  readonly agreements = new Map<bigint, OurAgreement>();
  /** agreements that reached an outcome since the last `takeOutcomes()` */
  private fresh: bigint[] = [];
  /** per provider (lower-case): fuel and wall time from usage reports */
  readonly usage = new Map<string, { fuel: number; wallMs: number }>();
  /** the last block applied */
  cursor: number;

  constructor(providers: readonly string[], startBlock: number) {
    this.providers = new Set(providers.map((p) => p.toLowerCase()));
    this.cursor = startBlock - 1;
  }

  isOurs(address: unknown): boolean {
    return typeof address === "string" && this.providers.has(address.toLowerCase());
  }

  apply(e: ChainEvent): void {
    const a = e.args;
    switch (e.name) {
      case "RequestPosted": {
        const escrow = a.escrow as bigint;
        this.open.set(a.requestId as bigint, {
          view: requestFromEvent(a),
          workloadHash: a.workloadHash as string,
          workloadURI: a.workloadURI as string,
          inputHash: a.inputHash as string,
          inputURI: a.inputURI as string,
          escrowWei: escrow,
          valueAtRiskBps: escrow === 0n ? 0n : valueAtRiskBps(a.valueAtRisk as bigint, escrow),
          maxFuel: a.maxFuel as bigint,
          maxPricePerMFuelWei: a.maxPricePerMFuel as bigint,
          maxFeeWei: a.maxFee as bigint,
        });
        break;
      }
      case "RequestClosed":
        this.open.delete(a.requestId as bigint);
        this.bids.delete(a.requestId as bigint);
        break;
      case "BidPlaced": {
        const request = this.open.get(a.requestId as bigint);
        const failureBps = a.failureBps as bigint;
        if (request) {
          // The contract's own bookkeeping: bids are never withdrawn and a replacement always
          // undercuts, so the best bid changes hands only to a strictly lower expected cost (on an
          // equal one the earlier bid keeps its place), and the holder's replacement lowers its own.
          const provider = (a.provider as string).toLowerCase();
          const total = totalFor(request.maxFuel, a.pricePerMFuel as bigint, a.fee as bigint);
          // The contract's formula (equal to BidPlaced's `expectedCost`: the event carries the failure rate it used).
          const score = ruleScore(request, total, failureBps);
          if (!request.best || request.best.provider === provider || score < request.best.score) request.best = { score, total, provider };
        }
        if (this.isOurs(a.provider)) {
          this.bids.set(a.requestId as bigint, {
            provider: (a.provider as string).toLowerCase(),
            offerId: a.offerId as bigint,
            pricePerMFuelWei: a.pricePerMFuel as bigint,
            feeWei: a.fee as bigint,
            explanationHash: a.explanationHash as string,
            failureBps,
          });
        }
        break;
      }
      case "AgreementCreated": {
        const id = a.agreementId as bigint;
        this.open.delete(id);
        this.bids.delete(id);
        if (this.isOurs(a.provider)) {
          this.agreements.set(id, { provider: (a.provider as string).toLowerCase(), offerId: a.offerId as bigint, running: true });
        }
        break;
      }
      case "UsageReported": {
        const p = (a.provider as string).toLowerCase();
        const u = this.usage.get(p) ?? { fuel: 0, wallMs: 0 };
        u.fuel += Number(a.fuelUsed as bigint);
        u.wallMs += Number(a.wallMs as bigint);
        this.usage.set(p, u);
        const ag = this.agreements.get(a.agreementId as bigint);
        if (ag) {
          ag.running = false;
          ag.wallMs = Number(a.wallMs as bigint);
        }
        break;
      }
      case "AgreementSettled":
        this.finish(a.agreementId as bigint, true);
        break;
      case "AgreementBreached":
        this.finish(a.agreementId as bigint, false);
        break;
      case "DisputeResolved": {
        // Ruling: 1 upheld, 2 overturned, 3 content withheld (the consumer's fault), 4 void.
        const ruling = Number(a.ruling as bigint);
        if (ruling === 1 || ruling === 3) this.finish(a.agreementId as bigint, true);
        else if (ruling === 2) this.finish(a.agreementId as bigint, false);
        else this.finishUnlabelled(a.agreementId as bigint);
        break;
      }
      case "OfferPublished":
      case "OfferUpdated":
        if (this.isOurs(a.provider)) {
          this.offers.set(a.offerId as bigint, {
            id: a.offerId as bigint,
            provider: (a.provider as string).toLowerCase(),
            pricePerMFuelWei: a.pricePerMFuel as bigint,
            feeWei: a.fee as bigint,
            maxFuel: a.maxFuel as bigint,
            memoryMiB: Number(a.memoryMiB as bigint),
            concurrentJobs: Number(a.concurrentJobs as bigint),
            latencyClass: Number(a.latencyClass as bigint),
            expiresAt: Number(a.expiresAt as bigint),
            meteringVersion: Number(a.meteringVersion as bigint),
          });
        }
        break;
      case "OfferWithdrawn": {
        const o = this.offers.get(a.offerId as bigint);
        if (o) o.expiresAt = 0;
        break;
      }
    }
  }

  private finish(id: bigint, met: boolean): void {
    const ag = this.agreements.get(id);
    if (!ag || ag.met !== undefined) return;
    ag.running = false;
    ag.met = met;
    this.fresh.push(id);
  }

  /**
   * Jobs an offer is committed to at chain time `now`: running agreements plus live bids that may
   * still win. A bid another provider has undercut can only win if the consumer accepts it
   * before the window closes; after that it can never win and holds no capacity. (A bid tied
   * with the best still counts.)
   */
  load(offerId: bigint, now: number): number {
    let n = 0;
    for (const ag of this.agreements.values()) if (ag.running && ag.offerId === offerId) n++;
    for (const [requestId, b] of this.bids) {
      if (b.offerId !== offerId) continue;
      const request = this.open.get(requestId);
      if (request && (now < request.view.bidWindowEnd || !this.beaten(request, b))) n++;
    }
    return n;
  }

  /** Whether another provider's bid on `request` scores strictly better than `bid` under the award rule. */
  beaten(request: OpenRequest, bid: Pick<OurBid, "provider" | "pricePerMFuelWei" | "feeWei" | "failureBps">): boolean {
    const rival = rivalBest(request, bid.provider);
    return !!rival && rival.score < ruleScore(request, totalFor(request.maxFuel, bid.pricePerMFuelWei, bid.feeWei), bid.failureBps);
  }

  /** An agreement that ended without a verdict on the provider: it frees its slot, teaches nothing. */
  private finishUnlabelled(id: bigint): void {
    const ag = this.agreements.get(id);
    if (ag) ag.running = false;
  }

  /** Agreements of ours that reached an outcome since the last call. */
  takeOutcomes(): bigint[] {
    const out = this.fresh;
    this.fresh = [];
    return out;
  }
}

