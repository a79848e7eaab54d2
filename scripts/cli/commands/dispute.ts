import { formatUnits } from "ethers";
import type { Context } from "../context.js";
import { formatTime, parseId, UsageError } from "../units.js";
import { ensureAllowance, send } from "../tx.js";
import { Status, STATUS_NAMES } from "../../../contracts/client/status.js";

/** `troupe dispute <id>`: the consumer disputes a report inside its window, posting the bond. */
export async function disputeCommand(ctx: Context, argv: string[]): Promise<void> {
  const id = parseId(argv[0], "agreement id");
  const { market } = ctx.contracts;
  const r = await market.request(id);
  if (Number(r.status) === Status.None) throw new UsageError(`there is no agreement ${id}`);
  if (Number(r.status) !== Status.Reported) {
    throw new UsageError(`agreement ${id} is ${STATUS_NAMES[Number(r.status)]}: only a reported agreement can be disputed`);
  }
  const consumer = await ctx.signer("CONSUMER");
  if (consumer.address !== r.consumer) throw new UsageError(`only the consumer ${r.consumer} may dispute agreement ${id}`);
  const bond = await market.disputeBond();
  await ensureAllowance(ctx, consumer, ctx.deployment.addresses.market, bond);
  await send("open dispute", consumer, market.connect(consumer).openDispute.populateTransaction(id));
  const d = await market.disputeOf(id);
  ctx.print(`disputed agreement ${id} with a bond of ${formatUnits(bond)}; verifiers have until ${formatTime(Number(d.verdictDeadline))}`);
}
