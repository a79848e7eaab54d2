import { formatUnits, ZeroAddress } from "ethers";
import type { Context } from "../context.js";
import { formatTime, parseId, UsageError } from "../units.js";
import { ensureAllowance, send } from "../tx.js";
import { RULING_NAMES, Status, STATUS_NAMES } from "../../../contracts/client/status.js";
import { UNAVAILABLE_OUTPUT } from "../../../contracts/client/typed-data.js";

/**
 * `troupe dispute <id>`: the consumer disputes a report inside its window, posting the bond.
 * `troupe dispute status <id>`: the case in the verifier court, round by round.
 * `troupe dispute appeal <id>`: a party (or anyone) appeals the last round's decision with the round's bond.
 */
export async function disputeCommand(ctx: Context, argv: string[]): Promise<void> {
  if (argv[0] === "status") return caseStatus(ctx, parseId(argv[1], "agreement id"));
  if (argv[0] === "appeal") return appeal(ctx, parseId(argv[1], "agreement id"));
  const id = parseId(argv[0], "agreement id");
  const { market, court } = ctx.contracts;
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
  const seats = await court.panelSize(0);
  ctx.print(`disputed agreement ${id} with a bond of ${formatUnits(bond)}; a panel of ${seats} staked verifiers is drawn at random from the court`);
  ctx.print(`follow it with: troupe dispute status ${id}`);
}

async function caseStatus(ctx: Context, id: bigint): Promise<void> {
  const { court } = ctx.contracts;
  const c = await caseOf(ctx, id);
  const from = ctx.deployment.startBlock;
  const ruling = Number(c.ruling);
  ctx.print(`case ${id}: consumer ${c.consumer} against provider ${c.provider}; ${ruling ? `ruled ${RULING_NAMES[ruling]}` : `open, round ${c.round}`}`);
  ctx.print(`  the report claims ${c.unavailable ? "the content was unavailable" : `key ${c.reportKey}`}; base bond ${formatUnits(c.baseBond)}`);
  // Each revealed verdict once, with the claim key the court files it under.
  const reveals = await Promise.all((await court.queryFilter(court.filters.VerdictRevealed(id), from)).map(async (e) => ({
    e, key: await court.claimKey(e.args.fuelUsed, e.args.outputHash),
  })));
  const claims = new Map(reveals.map(({ e, key }) => [
    key, e.args.outputHash === UNAVAILABLE_OUTPUT ? "content unavailable" : `${e.args.fuelUsed} fuel, output ${e.args.outputHash.slice(0, 14)}…`,
  ]));
  const describe = (key: string) => (key === c.reportKey ? "the report" : claims.get(key) ?? key);
  const draws = await court.queryFilter(court.filters.VerifierDrawn(id), from);
  for (let round = 0; round <= Number(c.round); round++) {
    const rd = await court.roundOf(id, round);
    const drawn = draws.filter((e) => Number(e.args.round) === round);
    ctx.print(`  round ${round}: ${rd.drawBlock !== 0n ? `panel not drawn yet (draw block ${rd.drawBlock})` : `${rd.totalVotes} votes`}${rd.appellant !== ZeroAddress ? `, appealed by ${rd.appellant} (bond ${formatUnits(rd.bond)})` : ""}`);
    if (drawn.length) ctx.print(`    drawn: ${[...new Set(drawn.map((e) => e.args.verifier))].join(", ")}`);
    if (rd.commitDeadline !== 0n) {
      ctx.print(`    commits ${rd.committedVotes}/${rd.totalVotes} by ${formatTime(Number(rd.commitDeadline))}; reveals ${rd.revealedVotes} by ${formatTime(Number(rd.revealDeadline))}`);
    }
    for (const { e, key } of reveals.filter(({ e }) => Number(e.args.round) === round)) {
      ctx.print(`    ${e.args.verifier} revealed ${e.args.votes} vote(s): ${describe(key)}`);
    }
    if (rd.tallied) {
      ctx.print(`    decided: ${describe(rd.decidedKey)} (${rd.leadingVotes} of ${rd.revealedVotes} revealed votes)${ruling ? "" : `; appeal until ${formatTime(Number(rd.appealDeadline))}`}`);
    }
  }
  for (const e of await court.queryFilter(court.filters.CaseClosed(id), from)) {
    ctx.print(`  closed: ${RULING_NAMES[Number(e.args.ruling)]}; bonds forfeited ${formatUnits(e.args.forfeited)}, stake slashed ${formatUnits(e.args.slashedStake)}, shared among coherent verifiers ${formatUnits(e.args.rewardPool)}`);
  }
  for (const e of await court.queryFilter(court.filters.BallotClaimed(id), from)) {
    ctx.print(`    round ${e.args.round}: ${e.args.verifier} ${e.args.coherent ? `rewarded, got ${formatUnits(e.args.amount)}` : `incoherent or silent, got back ${formatUnits(e.args.amount)}`}`);
  }
}

async function appeal(ctx: Context, id: bigint): Promise<void> {
  const { court } = ctx.contracts;
  const c = await caseOf(ctx, id);
  if (Number(c.ruling) !== 0) throw new UsageError(`case ${id} is closed (${RULING_NAMES[Number(c.ruling)]}): nothing to appeal`);
  const rd = await court.roundOf(id, c.round);
  if (!rd.tallied) throw new UsageError(`round ${c.round} of case ${id} is not decided yet: appeal once it is counted`);
  if (Number(c.round) >= Number(await court.sampledRounds())) throw new UsageError(`case ${id} already reached the full court: its decision is final`);
  const who = await ctx.signer("TROUPE");
  const bond = await court.appealBond(id, c.round);
  await ensureAllowance(ctx, who, ctx.deployment.addresses.court, bond);
  await send("appeal", who, court.connect(who).appeal.populateTransaction(id));
  ctx.print(`appealed round ${c.round} of case ${id} with a bond of ${formatUnits(bond)} (refunded if the final ruling bears the appeal out); a larger panel is drawn`);
}

/** Agreement `id`'s case in the court; a usage error when it was never disputed. */
async function caseOf(ctx: Context, id: bigint) {
  const c = await ctx.contracts.court.caseOf(id);
  if (c.consumer === ZeroAddress) throw new UsageError(`agreement ${id} has no case in the court`);
  return c;
}
