import type { EventArgs } from "../abi-decoder.js";
import { addressId, bigintArg, numberArg, type Handler } from "./context.js";
import { updateSummary } from "./summary.js";

function terms(args: EventArgs) {
  return {
    pricePerMFuel: bigintArg(args, "pricePerMFuel"),
    fee: bigintArg(args, "fee"),
    maxFuel: bigintArg(args, "maxFuel"),
    memoryMiB: numberArg(args, "memoryMiB"),
    concurrentJobs: numberArg(args, "concurrentJobs"),
    latencyClass: numberArg(args, "latencyClass"),
    expiresAt: bigintArg(args, "expiresAt"),
  };
}

export const offerHandlers: Record<string, Handler> = {
  OfferPublished: ({ args, at, store }) => {
    const provider = addressId(args.provider);
    store.require("Provider", provider);
    const now = BigInt(at.timestamp);
    store.set("Offer", {
      id: bigintArg(args, "offerId").toString(),
      provider,
      ...terms(args),
      withdrawn: false,
      createdAt: now,
      updatedAt: now,
    });
    updateSummary(store, { offers: 1 });
  },
  OfferUpdated: ({ args, at, store }) => {
    const offer = store.require("Offer", bigintArg(args, "offerId").toString());
    store.set("Offer", { ...offer, ...terms(args), updatedAt: BigInt(at.timestamp) });
  },
  OfferWithdrawn: ({ args, at, store }) => {
    const offer = store.require("Offer", bigintArg(args, "offerId").toString());
    store.set("Offer", { ...offer, withdrawn: true, expiresAt: 0n, updatedAt: BigInt(at.timestamp) });
  },
};
