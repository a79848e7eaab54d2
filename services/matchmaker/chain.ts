/**
 * The agent's view of the chain: reads through ethers, with every call retried on RPC errors,
 * logs fetched in bounded block ranges, and amounts converted from wei to token units where
 * the model works in floats.
 */
import { Contract, Interface, ZeroAddress, type Log, type Provider, type Signer } from "ethers";
import { abiOf } from "../../contracts/client/artifacts.js";
import type { OfferBook, ProviderRegistry, TroupeMarket } from "../../types/ethers-contracts/index.js";
import { withRetry, type RetryOptions } from "./retry.js";
import { valueAtRiskBps } from "../../contracts/client/amounts.js";
import { EventDecoder } from "../../contracts/client/event-decoder.js";
import type { RequestView } from "./types.js";

export const WEI_PER_TOKEN = 10n ** 18n;
export const toTokens = (wei: bigint) => Number(wei) / 1e18;

export interface MarketAddresses {
  market: string;
  registry: string;
  offers: string;
}

/** A decoded market or offer-book event with where it happened. */
export interface ChainEvent {
  name: string;
  args: Record<string, unknown>;
  blockNumber: number;
  logIndex: number;
}

export class MarketChain {
  readonly market: TroupeMarket;
  readonly registry: ProviderRegistry;
  readonly offers: OfferBook;
  private readonly marketEvents: EventDecoder;
  private readonly offerEvents: EventDecoder;

  constructor(
    readonly provider: Provider,
    readonly addresses: MarketAddresses,
    readonly signer?: Signer,
    readonly retry: Partial<RetryOptions> = {},
  ) {
    const runner = signer ?? provider;
    this.market = new Contract(addresses.market, abiOf("TroupeMarket") as never, runner) as unknown as TroupeMarket;
    this.registry = new Contract(addresses.registry, abiOf("ProviderRegistry") as never, provider) as unknown as ProviderRegistry;
    this.offers = new Contract(addresses.offers, abiOf("OfferBook") as never, provider) as unknown as OfferBook;
    this.marketEvents = new EventDecoder([new Interface(abiOf("TroupeMarket") as never)]);
    this.offerEvents = new EventDecoder([new Interface(abiOf("OfferBook") as never)]);
  }

  call<T>(label: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, { ...this.retry, label });
  }

  /** The latest block's number and timestamp, in one call. */
  async head(): Promise<{ number: number; timestamp: number }> {
    const block = await this.call("getBlock", () => this.provider.getBlock("latest"));
    if (!block) throw new Error("the RPC returned no latest block");
    return { number: block.number, timestamp: block.timestamp };
  }

  /** The timestamp of the latest block: the clock the contract judges bid windows by. */
  async chainTime(): Promise<number> {
    return (await this.head()).timestamp;
  }

  /** Market and offer-book events in [from, to], fetched `chunk` blocks at a time. */
  async events(from: number, to: number, chunk = 2_000): Promise<ChainEvent[]> {
    const out: ChainEvent[] = [];
    for (let start = from; start <= to; start += chunk) {
      const end = Math.min(to, start + chunk - 1);
      const logs = await this.call(`getLogs ${start}-${end}`, () =>
        this.provider.getLogs({ address: [this.addresses.market, this.addresses.offers], fromBlock: start, toBlock: end }),
      );
      for (const log of logs) {
        const e = this.decode(log);
        if (e) out.push(e);
      }
    }
    return out.sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
  }

  private decode(log: Log): ChainEvent | undefined {
    const events = log.address.toLowerCase() === this.addresses.offers.toLowerCase() ? this.offerEvents : this.marketEvents;
    const parsed = events.decode(log);
    if (!parsed) return undefined;
    const args: Record<string, unknown> = {};
    parsed.fragment.inputs.forEach((input, i) => (args[input.name] = parsed.values[i]));
    return { name: parsed.name, args, blockNumber: log.blockNumber, logIndex: log.index };
  }

  /**
   * Request `id` as a RequestView, with its status code: the terms as RequestPosted announced them
   * (the region, the content's hashes and URIs are emitted, never stored) and the stored status.
   */
  async request(id: bigint): Promise<{ view: RequestView; status: number; consumer: string; posted: Record<string, unknown> }> {
    const [r, logs] = await Promise.all([
      this.call("request", () => this.market.request(id)),
      this.call("RequestPosted", () => this.market.queryFilter(this.market.filters.RequestPosted(id))),
    ]);
    const log = logs[0];
    if (r.consumer === ZeroAddress || !log) throw new Error(`request ${id} does not exist`);
    const posted: Record<string, unknown> = {};
    log.fragment.inputs.forEach((input, i) => (posted[input.name] = log.args[i]));
    return { status: Number(r.status), consumer: r.consumer, view: requestFromEvent(posted), posted };
  }

  penaltyBps(): Promise<number> {
    return this.call("penaltyBps", async () => Number(await this.market.penaltyBps()));
  }

  /** The dispute bond in wei: part of what each agreement reserves of its provider's stake. */
  disputeBond(): Promise<bigint> {
    return this.call("disputeBond", () => this.market.disputeBond());
  }

  /**
   * `address`'s registration and record, and what the market's bid check reads for a bid sent by
   * `agent` (the registry's `bidderProfile`): the failure rate the bid would carry and the stake
   * not yet reserved by open agreements, both exact.
   */
  async providerProfile(address: string, agent: string = address) {
    const [p, bidder] = await this.call("providerOf", () =>
      Promise.all([this.registry.providerOf(address), this.registry.bidderProfile(address, agent)]),
    );
    return {
      tier: Number(p.tier),
      region: Number(p.region),
      bonded: bidder.bonded,
      authorised: bidder.authorised,
      registered: p.hostKey !== ZeroAddress,
      completed: Number(p.completed),
      breached: Number(p.breached),
      disputesWon: Number(p.disputesWon),
      disputesLost: Number(p.disputesLost),
      completedValue: toTokens(p.completedValue),
      failedValue: toTokens(p.failedValue),
      failureBps: bidder.failureBps,
      freeStakeWei: bidder.freeStake,
    };
  }

  async offer(id: bigint) {
    return this.call("offer", () => this.offers.offer(id));
  }
}


/** A RequestView from a RequestPosted event's arguments. */
export function requestFromEvent(args: Record<string, unknown>): RequestView {
  return {
    id: args.requestId as bigint,
    maxFuel: Number(args.maxFuel as bigint),
    maxPricePerMFuel: toTokens(args.maxPricePerMFuel as bigint),
    maxFee: toTokens(args.maxFee as bigint),
    minMemoryMiB: Number(args.minMemoryMiB as bigint),
    allowedTiers: Number(args.allowedTiers as bigint),
    region: Number(args.region as bigint),
    maxLatencyClass: Number(args.maxLatencyClass as bigint),
    bidWindowEnd: Number(args.bidWindowEnd as bigint),
    deadline: Number(args.deadline as bigint),
    execTime: Number(args.execTime as bigint),
    meteringVersion: Number(args.meteringVersion as bigint),
    valueAtRisk: toTokens(contractValueAtRisk(args.valueAtRisk as bigint, args.escrow as bigint)),
    // Known once the input is fetched and checked (content-gate.ts).
    inputMiB: 0,
  };
}

/**
 * The value at risk the award rule uses, in wei: the contract stores the consumer's value at risk
 * in basis points of the escrow (rounded to the nearest) and weighs failure rates by escrow × bps.
 */
export function contractValueAtRisk(valueAtRisk: bigint, escrow: bigint): bigint {
  return escrow === 0n ? 0n : (escrow * valueAtRiskBps(valueAtRisk, escrow)) / 10_000n;
}
