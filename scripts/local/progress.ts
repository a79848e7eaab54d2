import { formatUnits, type Provider } from "ethers";
import type { MarketContracts } from "../lib/deployment.js";
import { CLOSE_REASON_TEXT, RULING_NAMES, TIER_NAMES } from "../../contracts/client/status.js";
import { OUTCOME_NAMES } from "../../contracts/client/typed-data.js";

/**
 * Prints the market's life as it happens, from chain events alone: requests, bids, awards,
 * reports, settlements, breaches and disputes. Returns a function that stops it.
 */
export function watchMarket(provider: Provider, contracts: MarketContracts, fromBlock: number, print: (line: string) => void, pollMs = 500): () => void {
  const { market, registry } = contracts;
  const tierOf = new Map<string, string>();
  let next = fromBlock;
  let stopped = false;
  const short = (a: string) => `${a.slice(0, 8)}…`;
  const fmt = (v: bigint) => Number(formatUnits(v)).toPrecision(4);

  async function tick() {
    const head = await provider.getBlockNumber();
    if (head < next) return;
    for (const log of await registry.queryFilter(registry.filters.ProviderRegistered(), next, head)) {
      tierOf.set(log.args.provider, `${TIER_NAMES[Number(log.args.tier)]}/r${log.args.region}`);
    }
    const logs = await market.queryFilter("*" as never, next, head);
    for (const log of logs) {
      const parsed = market.interface.parseLog(log);
      if (!parsed) continue;
      const a = parsed.args;
      const who = (p: string) => `${tierOf.get(p) ?? "?"} ${short(p)}`;
      switch (parsed.name) {
        case "RequestPosted": print(`request  #${a.requestId} by ${short(a.consumer)}: ≤${a.maxFuel} fuel at ≤${fmt(a.maxPricePerMFuel)}/Mfuel, escrow ${fmt(a.escrow)}`); break;
        case "BidPlaced": print(`bid      #${a.requestId} ${who(a.provider)} ${fmt(a.pricePerMFuel)}/Mfuel + ${fmt(a.fee)}, fails ${Number(a.failureBps) / 100}%, expected cost ${fmt(a.expectedCost)}`); break;
        case "AgreementCreated": print(`award    #${a.agreementId} → ${who(a.provider)} at ${fmt(a.pricePerMFuel)}/Mfuel${a.acceptedEarly ? " (accepted early)" : ""}`); break;
        case "UsageReported": print(`report   #${a.agreementId} ${a.fuelUsed} fuel, ${OUTCOME_NAMES[Number(a.outcome)] ?? a.outcome}, ${a.wallMs} ms`); break;
        case "AgreementSettled": print(`settled  #${a.agreementId} provider +${fmt(a.providerPayment)}, consumer refund ${fmt(a.consumerRefund)}${a.cosigned ? " (co-signed)" : ""}`); break;
        case "AgreementBreached": print(`BREACH   #${a.agreementId} refund ${fmt(a.refund)} + penalty ${fmt(a.penalty)}`); break;
        case "RequestClosed": print(`closed   #${a.requestId} without agreement (${CLOSE_REASON_TEXT[Number(a.reason)] ?? a.reason}), refund ${fmt(a.refund)}`); break;
        case "DisputeOpened": print(`dispute  #${a.agreementId} bond ${fmt(a.bond)}`); break;
        case "DisputeResolved": print(`resolved #${a.agreementId} ${RULING_NAMES[Number(a.ruling)] ?? a.ruling}, slashed ${fmt(a.slashed)}`); break;
      }
    }
    const { court } = contracts;
    for (const log of await court.queryFilter("*" as never, next, head)) {
      const parsed = court.interface.parseLog(log);
      if (!parsed) continue;
      const a = parsed.args;
      switch (parsed.name) {
        case "PanelDrawn": print(`panel    #${a.id} round ${a.round}: ${a.seats} seats drawn`); break;
        case "VerdictRevealed": print(`verdict  #${a.id} round ${a.round} ${short(a.verifier)}: ${a.fuelUsed} fuel (${a.votes} votes)`); break;
        case "Appealed": print(`appeal   #${a.id} round ${a.round} by ${short(a.appellant)}, bond ${fmt(a.bond)}`); break;
        case "CaseClosed": print(`ruling   #${a.id} ${RULING_NAMES[Number(a.ruling)] ?? a.ruling}, stake slashed ${fmt(a.slashedStake)}`); break;
      }
    }
    next = head + 1;
  }

  (async () => {
    while (!stopped) {
      await tick().catch((error: Error) => print(`(progress: ${error.message.split("\n")[0]})`));
      await new Promise((r) => setTimeout(r, pollMs));
    }
  })();
  return () => {
    stopped = true;
  };
}
