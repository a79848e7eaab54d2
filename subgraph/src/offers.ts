import { BigInt, log } from "@graphprotocol/graph-ts";
import { OfferPublished, OfferUpdated, OfferWithdrawn } from "../generated/OfferBook/OfferBook";
import { Offer, Provider } from "../generated/schema";
import { loadSummary } from "./summary";

export function handleOfferPublished(event: OfferPublished): void {
  let provider = event.params.provider.toHexString();
  if (Provider.load(provider) == null) {
    log.warning("skipping offer {} of unknown provider {}", [event.params.offerId.toString(), provider]);
    return;
  }
  let o = new Offer(event.params.offerId.toString());
  o.provider = provider;
  o.pricePerMFuel = event.params.pricePerMFuel;
  o.fee = event.params.fee;
  o.maxFuel = event.params.maxFuel;
  o.memoryMiB = event.params.memoryMiB;
  o.meteringVersion = event.params.meteringVersion;
  o.concurrentJobs = event.params.concurrentJobs;
  o.latencyClass = event.params.latencyClass;
  o.expiresAt = event.params.expiresAt;
  o.withdrawn = false;
  o.createdAt = event.block.timestamp;
  o.updatedAt = event.block.timestamp;
  o.save();
  let s = loadSummary();
  s.offers = s.offers + 1;
  s.save();
}

export function handleOfferUpdated(event: OfferUpdated): void {
  let o = Offer.load(event.params.offerId.toString());
  if (o == null) return;
  o.pricePerMFuel = event.params.pricePerMFuel;
  o.fee = event.params.fee;
  o.maxFuel = event.params.maxFuel;
  o.memoryMiB = event.params.memoryMiB;
  o.meteringVersion = event.params.meteringVersion;
  o.concurrentJobs = event.params.concurrentJobs;
  o.latencyClass = event.params.latencyClass;
  o.expiresAt = event.params.expiresAt;
  o.updatedAt = event.block.timestamp;
  o.save();
}

export function handleOfferWithdrawn(event: OfferWithdrawn): void {
  let o = Offer.load(event.params.offerId.toString());
  if (o == null) return;
  o.withdrawn = true;
  o.expiresAt = BigInt.zero();
  o.updatedAt = event.block.timestamp;
  o.save();
}
