import type { InterfaceAbi } from "ethers";
import { eventDecoders, type EventDecoder } from "./abi-decoder.js";
import { abiOf } from "../../contracts/client/artifacts.js";
import type { Handler } from "./handlers/context.js";
import { registryHandlers } from "./handlers/registry.js";
import { offerHandlers } from "./handlers/offers.js";
import { auctionHandlers } from "./handlers/auction.js";
import { settlementHandlers } from "./handlers/settlement.js";

/** The market's contract addresses, as the indexer watches them. */
export interface MarketAddresses {
  registry: string;
  offers: string;
  market: string;
}

/** One watched contract: its ABI and the handler of each event (events without one are ignored on purpose). */
export interface WatchedContract {
  name: string;
  address: string;
  /** Event decoders by topic 0. */
  decoders: Map<string, EventDecoder>;
  handlers: Record<string, Handler>;
}

/** Events a contract emits that carry no market data. */
const IGNORED_EVENTS = new Set(["EIP712DomainChanged"]);

export function watchedContracts(addresses: MarketAddresses): Map<string, WatchedContract> {
  const list: WatchedContract[] = [
    {
      name: "ProviderRegistry",
      address: addresses.registry,
      decoders: eventDecoders(abiOf("ProviderRegistry") as InterfaceAbi),
      handlers: registryHandlers,
    },
    { name: "OfferBook", address: addresses.offers, decoders: eventDecoders(abiOf("OfferBook") as InterfaceAbi), handlers: offerHandlers },
    {
      name: "TroupeMarket",
      address: addresses.market,
      decoders: eventDecoders(abiOf("TroupeMarket") as InterfaceAbi),
      handlers: { ...auctionHandlers, ...settlementHandlers },
    },
  ];
  return new Map(list.map((c) => [c.address.toLowerCase(), c]));
}

export function isIgnoredEvent(name: string): boolean {
  return IGNORED_EVENTS.has(name);
}
