import { formatUnits } from "ethers";
import type { Context } from "../context.js";
import { formatTime, parseId, UsageError, TIERS } from "../units.js";
import { CLOSE_REASON_TEXT, RULING_NAMES, Status, STATUS_NAMES } from "../../../contracts/client/status.js";
import { OUTCOME_NAMES } from "../../../contracts/client/typed-data.js";

/** `troupe status <id>`: a request / agreement and its timeline, read from the chain. */
export async function statusCommand(ctx: Context, argv: string[]): Promise<void> {
  const id = parseId(argv[0], "request id");
  const { market } = ctx.contracts;
  const r = await market.request(id);
  if (Number(r.status) === 0) throw new UsageError(`there is no request ${id}`);
  const from = ctx.deployment.startBlock;
  const when = async (blockNumber: number) => {
    const block = await ctx.provider.getBlock(blockNumber);
    return block ? formatTime(block.timestamp) : `block ${blockNumber}`;
  };
  const tiers = TIERS.filter((_, i) => (Number(r.allowedTiers) >> i) & 1).join(",");
  ctx.print(`request ${id}: ${STATUS_NAMES[Number(r.status)]}`);
  ctx.print(`  consumer ${r.consumer}; max ${r.maxFuel} fuel at ${formatUnits(r.maxPricePerMFuel)}/Mfuel + ${formatUnits(r.maxFee)}; tiers ${tiers}; ${r.minMemoryMiB} MiB`);
  ctx.print(`  bid window ends ${formatTime(Number(r.bidWindowEnd))}, ${Number(r.status) === Status.Open ? `${r.execTime} s to run from the award, latest` : "report due by"} ${formatTime(Number(r.deadline))}; metering v${r.meteringVersion}`);

  const [posted] = await market.queryFilter(market.filters.RequestPosted(id), from);
  if (posted) ctx.print(`  requested  ${await when(posted.blockNumber)}  escrow ${formatUnits(posted.args.escrow)}, value at risk ${formatUnits(posted.args.valueAtRisk)}  workload ${posted.args.workloadURI}`);
  const bids = await market.queryFilter(market.filters.BidPlaced(id), from);
  for (const b of bids) {
    ctx.print(`  bid        ${await when(b.blockNumber)}  ${b.args.provider} offer ${b.args.offerId}: ${formatUnits(b.args.pricePerMFuel)}/Mfuel + ${formatUnits(b.args.fee)}, failure rate ${Number(b.args.failureBps) / 100}%, expected cost ${formatUnits(b.args.expectedCost)}`);
  }
  for (const e of await market.queryFilter(market.filters.RequestClosed(id), from)) {
    ctx.print(`  closed     ${await when(e.blockNumber)}  ${STATUS_NAMES[Number(e.args.status)]} (${CLOSE_REASON_TEXT[Number(e.args.reason)] ?? `reason ${e.args.reason}`}), escrow of ${formatUnits(e.args.refund)} refunded`);
  }
  for (const e of await market.queryFilter(market.filters.AgreementCreated(id), from)) {
    ctx.print(`  awarded    ${await when(e.blockNumber)}  to ${e.args.provider} at ${formatUnits(e.args.pricePerMFuel)}/Mfuel + ${formatUnits(e.args.fee)}${e.args.acceptedEarly ? " (accepted early)" : ""}, penalty ${formatUnits(e.args.penalty)}`);
  }
  for (const e of await market.queryFilter(market.filters.UsageReported(id), from)) {
    ctx.print(`  reported   ${await when(e.blockNumber)}  ${e.args.fuelUsed} fuel, ${OUTCOME_NAMES[Number(e.args.outcome)] ?? e.args.outcome} (exit ${e.args.exitCode}), ${e.args.wallMs} ms, output ${e.args.outputHash}`);
  }
  for (const e of await market.queryFilter(market.filters.DisputeOpened(id), from)) {
    ctx.print(`  disputed   ${await when(e.blockNumber)}  bond ${formatUnits(e.args.bond)}; the verifier court judges (troupe dispute status ${id})`);
  }
  for (const e of await market.queryFilter(market.filters.DisputeResolved(id), from)) {
    ctx.print(`  resolved   ${await when(e.blockNumber)}  ${RULING_NAMES[Number(e.args.ruling)] ?? e.args.ruling}; provider ${formatUnits(e.args.providerPayment)}, consumer ${formatUnits(e.args.consumerRefund)}, penalty ${formatUnits(e.args.penalty)}, slashed ${formatUnits(e.args.slashed)}`);
  }
  for (const e of await market.queryFilter(market.filters.AgreementSettled(id), from)) {
    ctx.print(`  settled    ${await when(e.blockNumber)}  provider ${formatUnits(e.args.providerPayment)}, consumer refund ${formatUnits(e.args.consumerRefund)}${e.args.cosigned ? " (co-signed)" : ""}`);
  }
  for (const e of await market.queryFilter(market.filters.AgreementBreached(id), from)) {
    ctx.print(`  breached   ${await when(e.blockNumber)}  refund ${formatUnits(e.args.refund)} + penalty ${formatUnits(e.args.penalty)}`);
  }
}
