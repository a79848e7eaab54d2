/**
 * The agent's view of the chain: reads through ethers, with every call retried on RPC errors,
 * logs fetched in bounded block ranges, and amounts converted from wei to token units where
 * the model works in floats.
 */
import { Contract, Interface, type Log, type Provider, type Signer } from "ethers";
import { abiOf } from "../../contracts/client/artifacts.js";
import type { OfferBook, ProviderRegistry, TroupeMarket } from "../../types/ethers-contracts/index.js";
import { withRetry, type RetryOptions } from "./retry.js";
import type { RequestView } from "./types.js";

export const WEI_PER_TOKEN = 10n ** 18n;
export const toTokens = (wei: bigint) => Number(wei) / 1e18;
const tokensOr0 = (v: unknown) => (typeof v === "bigint" ? toTokens(v) : 0);

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
  private readonly iface: Interface;
  private readonly offersIface: Interface;

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
    this.iface = new Interface(abiOf("TroupeMarket") as never);
    this.offersIface = new Interface(abiOf("OfferBook") as never);
  }

  call<T>(label: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, { ...this.retry, label });
  }

  latestBlock(): Promise<number> {
    return this.call("getBlockNumber", () => this.provider.getBlockNumber());
  }

  /** The timestamp of the latest block: the clock the contract judges bid windows by. */
  async chainTime(): Promise<number> {
    const block = await this.call("getBlock", () => this.provider.getBlock("latest"));
    if (!block) throw new Error("the RPC returned no latest block");
    return block.timestamp;
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
    const iface = log.address.toLowerCase() === this.addresses.offers.toLowerCase() ? this.offersIface : this.iface;
    const parsed = iface.parseLog({ topics: [...log.topics], data: log.data });
    if (!parsed) return undefined;
    const args: Record<string, unknown> = {};
    parsed.fragment.inputs.forEach((input, i) => (args[input.name] = parsed.args[i]));
    return { name: parsed.name, args, blockNumber: log.blockNumber, logIndex: log.index };
  }

  /** The stored request `id` as a RequestView, with its status code. */
  async request(id: bigint): Promise<{ view: RequestView; status: number; consumer: string }> {
    const r = await this.call("request", () => this.market.request(id));
    if (r.consumer === "0x0000000000000000000000000000000000000000") throw new Error(`request ${id} does not exist`);
    return {
      status: Number(r.status),
      consumer: r.consumer,
      view: {
        id,
        maxFuel: Number(r.maxFuel),
        maxPricePerMFuel: toTokens(r.maxPricePerMFuel),
        maxFee: toTokens(r.maxFee),
        minMemoryMiB: Number(r.minMemoryMiB),
        allowedTiers: Number(r.allowedTiers),
        region: Number(r.region),
        maxLatencyClass: Number(r.maxLatencyClass),
        bidWindowEnd: Number(r.bidWindowEnd),
        deadline: Number(r.deadline),
        ...newRequestFields(r as unknown as Record<string, unknown>),
      },
    };
  }

  penaltyBps(): Promise<number> {
    return this.call("penaltyBps", async () => Number(await this.market.penaltyBps()));
  }

  async providerProfile(address: string) {
    const [p, bonded] = await this.call("providerOf", () =>
      Promise.all([this.registry.providerOf(address), this.registry.isBonded(address)]),
    );
    return {
      tier: Number(p.tier),
      region: Number(p.region),
      bonded,
      registered: p.hostKey !== "0x0000000000000000000000000000000000000000",
      completed: Number(p.completed),
      breached: Number(p.breached),
      disputesWon: Number(p.disputesWon),
      disputesLost: Number(p.disputesLost),
      // The registry's value-weighted record (the award rule's input), once the registry keeps it.
      completedValue: tokensOr0(safeField(p as unknown as Record<string, unknown>, "completedValue")),
      failedValue: tokensOr0(safeField(p as unknown as Record<string, unknown>, "failedValue")),
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
    ...newRequestFields(args),
  };
}

/**
 * The request fields the award-rule change adds (CONTRACT-API.md: `valueAtRisk`, `execTime`),
 * read when the deployed market has them: until then the value at risk is 0 and the winner has
 * from the window's end to the deadline. The input's size is not on chain (see `inputMiB`).
 */
export function newRequestFields(r: Record<string, unknown>): Pick<RequestView, "valueAtRisk" | "inputMiB" | "execTime"> {
  const value = safeField(r, "valueAtRisk");
  const exec = safeField(r, "execTime");
  return { valueAtRisk: typeof value === "bigint" ? toTokens(value) : 0, inputMiB: 0, ...(typeof exec === "bigint" ? { execTime: Number(exec) } : {}) };
}

/** A named field of an ethers Result or event args, or undefined if the ABI has no such field. */
export function safeField(r: Record<string, unknown>, name: string): unknown {
  try {
    return r[name];
  } catch {
    return undefined;
  }
}
