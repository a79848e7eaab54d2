import { addressId, bigintArg, boolArg, numberArg, stringArg, type Handler } from "./context.js";
import { updateSummary } from "./summary.js";

export const TIER_NAMES = ["cloud", "edge", "iot"];

/** (completed + 1) * 10000 / (completed + breached + disputesLost + 2), as ProviderRegistry.reputationOf. */
export function reputationOf(completed: number, breached: number, disputesLost: number): number {
  return Math.floor(((completed + 1) * 10_000) / (completed + breached + disputesLost + 2));
}

const providerRegistered: Handler = ({ args, at, store }) => {
  const id = addressId(args.provider);
  if (store.get("Provider", id)) throw new Error(`Provider ${id} is registered already`);
  const tier = numberArg(args, "tier");
  const stake = bigintArg(args, "stake");
  store.set("Provider", {
    id,
    hostKey: addressId(args.hostKey),
    tier,
    tierName: TIER_NAMES[tier] ?? `tier${tier}`,
    region: numberArg(args, "region"),
    metadataURI: stringArg(args, "metadataURI"),
    stake,
    unbonding: 0n,
    unbondReadyAt: 0n,
    slashed: 0n,
    verifier: false,
    openAgreements: 0,
    completed: 0,
    breached: 0,
    disputesWon: 0,
    disputesLost: 0,
    reputation: reputationOf(0, 0, 0),
    earnings: 0n,
    fuelReported: 0n,
    wallMsReported: 0n,
    registeredAt: BigInt(at.timestamp),
    registeredBlock: BigInt(at.blockNumber),
  });
  updateSummary(store, { providers: 1, stake });
};

/** Applies `change` to the provider named by the event's `provider` argument. */
function updateProvider(change: (p: Record<string, unknown>, ctx: Parameters<Handler>[0]) => void): Handler {
  return (ctx) => {
    const p = ctx.store.require("Provider", addressId(ctx.args.provider));
    change(p, ctx);
    ctx.store.set("Provider", p);
  };
}

export const registryHandlers: Record<string, Handler> = {
  ProviderRegistered: providerRegistered,
  StakeAdded: updateProvider((p, { args, store }) => {
    p.stake = bigintArg(args, "stake");
    updateSummary(store, { stake: bigintArg(args, "amount") });
  }),
  HostKeyChanged: updateProvider((p, { args }) => {
    p.hostKey = addressId(args.hostKey);
  }),
  MetadataChanged: updateProvider((p, { args }) => {
    p.metadataURI = stringArg(args, "metadataURI");
  }),
  VerifierChanged: updateProvider((p, { args }) => {
    p.verifier = boolArg(args, "verifier");
  }),
  UnbondRequested: updateProvider((p, { args, store }) => {
    p.stake = bigintArg(args, "stake");
    p.unbonding = bigintArg(args, "amount");
    p.unbondReadyAt = bigintArg(args, "readyAt");
    updateSummary(store, { stake: -bigintArg(args, "amount") });
  }),
  Unbonded: updateProvider((p) => {
    p.unbonding = 0n;
    p.unbondReadyAt = 0n;
  }),
  Slashed: updateProvider((p, { args, store }) => {
    const amount = bigintArg(args, "amount");
    p.stake = bigintArg(args, "stake");
    p.slashed = (p.slashed as bigint) + amount;
    updateSummary(store, { stake: -amount });
  }),
  ReputationChanged: updateProvider((p, { args }) => {
    p.openAgreements = numberArg(args, "openAgreements");
    p.completed = numberArg(args, "completed");
    p.breached = numberArg(args, "breached");
    p.disputesWon = numberArg(args, "disputesWon");
    p.disputesLost = numberArg(args, "disputesLost");
    p.reputation = reputationOf(p.completed as number, p.breached as number, p.disputesLost as number);
  }),
  AgentAuthorised: ({ args, at, store }) => {
    const provider = addressId(args.provider);
    store.require("Provider", provider);
    const agent = addressId(args.agent);
    store.set("Agent", {
      id: `${provider}-${agent}`,
      provider,
      agent,
      authorised: boolArg(args, "authorised"),
      updatedAt: BigInt(at.timestamp),
    });
  },
  // The binding is deployment plumbing, not market data.
  MarketBound: () => {},
};
