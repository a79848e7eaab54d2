import { addressId, bigintArg, boolArg, numberArg, stringArg, type Handler } from "./context.js";
import { recordAgreementCreated } from "./market-stats.js";
import { updateSummary } from "./summary.js";
import { STATUS_NAMES } from "../../../contracts/client/status.js";
import { totalFor } from "../../../contracts/client/amounts.js";


export const auctionHandlers: Record<string, Handler> = {
  RequestPosted: ({ args, at, store }) => {
    const id = bigintArg(args, "requestId").toString();
    if (store.get("DeploymentRequest", id)) throw new Error(`DeploymentRequest ${id} exists already`);
    store.set("DeploymentRequest", {
      id,
      consumer: addressId(args.consumer),
      workloadHash: stringArg(args, "workloadHash"),
      workloadURI: stringArg(args, "workloadURI"),
      inputHash: stringArg(args, "inputHash"),
      inputURI: stringArg(args, "inputURI"),
      maxFuel: bigintArg(args, "maxFuel"),
      maxPricePerMFuel: bigintArg(args, "maxPricePerMFuel"),
      maxFee: bigintArg(args, "maxFee"),
      minMemoryMiB: numberArg(args, "minMemoryMiB"),
      allowedTiers: numberArg(args, "allowedTiers"),
      region: numberArg(args, "region"),
      maxLatencyClass: numberArg(args, "maxLatencyClass"),
      bidWindowEnd: bigintArg(args, "bidWindowEnd"),
      deadline: bigintArg(args, "deadline"),
      escrow: bigintArg(args, "escrow"),
      status: "Open",
      bidCount: 0,
      refund: null,
      createdAt: BigInt(at.timestamp),
      createdBlock: BigInt(at.blockNumber),
      closedAt: null,
      txHash: at.txHash,
      agreement: null,
    });
    updateSummary(store, { requests: 1 });
  },

  BidPlaced: ({ args, at, store }) => {
    const requestId = bigintArg(args, "requestId").toString();
    const request = store.require("DeploymentRequest", requestId);
    const provider = addressId(args.provider);
    store.require("Provider", provider);
    const seq = numberArg(args, "seq");
    const price = bigintArg(args, "pricePerMFuel");
    const fee = bigintArg(args, "fee");
    const id = `${requestId}-${seq}`;
    store.set("Bid", {
      id,
      request: requestId,
      provider,
      offer: bigintArg(args, "offerId").toString(),
      agent: addressId(args.agent),
      pricePerMFuel: price,
      fee,
      total: totalFor(request.maxFuel as bigint, price, fee),
      seq,
      explanationHash: stringArg(args, "explanationHash"),
      createdAt: BigInt(at.timestamp),
      createdBlock: BigInt(at.blockNumber),
      txHash: at.txHash,
    });
    store.set("LiveBid", { id: `${requestId}-${provider}`, request: requestId, provider, bid: id });
    store.set("DeploymentRequest", { ...request, bidCount: seq });
  },

  RequestClosed: ({ args, at, store }) => {
    const request = store.require("DeploymentRequest", bigintArg(args, "requestId").toString());
    const code = numberArg(args, "status");
    store.set("DeploymentRequest", {
      ...request,
      status: STATUS_NAMES[code] ?? `Status${code}`,
      refund: bigintArg(args, "refund"),
      closedAt: BigInt(at.timestamp),
    });
  },

  AgreementCreated: ({ args, at, store }) => {
    const id = bigintArg(args, "agreementId").toString();
    const request = store.require("DeploymentRequest", id);
    const provider = addressId(args.provider);
    const price = bigintArg(args, "pricePerMFuel");
    const liveBid = store.get("LiveBid", `${id}-${provider}`);
    store.set("Agreement", {
      id,
      request: id,
      provider,
      consumer: addressId(args.consumer),
      offer: bigintArg(args, "offerId").toString(),
      winningBid: liveBid ? liveBid.bid : null,
      pricePerMFuel: price,
      fee: bigintArg(args, "fee"),
      maxFuel: bigintArg(args, "maxFuel"),
      deadline: bigintArg(args, "deadline"),
      penalty: bigintArg(args, "penalty"),
      disputeWindow: bigintArg(args, "disputeWindow"),
      acceptedEarly: boolArg(args, "acceptedEarly"),
      status: "Awarded",
      requestedAt: request.createdAt,
      awardedAt: BigInt(at.timestamp),
      reportedAt: null,
      disputedAt: null,
      closedAt: null,
      providerPayment: null,
      consumerRefund: null,
      usageReport: null,
      dispute: null,
      settlement: null,
      createdBlock: BigInt(at.blockNumber),
      txHash: at.txHash,
    });
    store.set("DeploymentRequest", { ...request, status: "Awarded", agreement: id });
    recordAgreementCreated(store, provider, at.timestamp, price);
    updateSummary(store, { agreements: 1 });
  },
};
