import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { formatUnits } from "ethers";
import type { Context } from "../context.js";
import { formatTime, parseAddress, parseTokens, UsageError } from "../units.js";
import { ensureAllowance, send } from "../tx.js";

const USAGE = `troupe verifier stake <tokens> | leave <tokens> | withdraw | status [<address>] | run
(the verifier's key comes from VERIFIER_KEY or VERIFIER_KEYSTORE)`;

/** `troupe verifier …`: a verifier's stake in the court, and its agent. */
export async function verifierCommand(ctx: Context, argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case "stake": return stake(ctx, rest);
    case "leave": return leave(ctx, rest);
    case "withdraw": return withdraw(ctx);
    case "status": return status(ctx, rest);
    case "run": return runAgent(ctx);
    default: throw new UsageError(sub ? `unknown verifier command "${sub}"\n${USAGE}` : USAGE);
  }
}

async function stake(ctx: Context, argv: string[]) {
  const amount = parseTokens(argv[0] ?? missing("the amount to stake"), "amount");
  const { court } = ctx.contracts;
  const me = await ctx.signer("VERIFIER");
  const v = await court.verifierOf(me.address);
  const min = await court.minVerifierStake();
  if (v.stake === 0n && amount < min) throw new UsageError(`a first stake must be at least the court's minimum of ${formatUnits(min)}`);
  if ((await court.pendingDraws()) > 0n) throw new UsageError("a panel is waiting to be drawn: stakes are frozen until it is (try again in a block or two)");
  await ensureAllowance(ctx, me, ctx.deployment.addresses.court, amount);
  await send("stake", me, court.connect(me).stake.populateTransaction(amount));
  ctx.print(`${me.address} staked ${formatUnits(amount)}; its stake in the court is ${formatUnits((await court.verifierOf(me.address)).stake)}`);
}

async function leave(ctx: Context, argv: string[]) {
  const amount = parseTokens(argv[0] ?? missing("the amount to take out"), "amount");
  const { court } = ctx.contracts;
  const me = await ctx.signer("VERIFIER");
  const v = await court.verifierOf(me.address);
  const free = v.stake - v.locked;
  if (amount > free) throw new UsageError(`only ${formatUnits(free)} of ${formatUnits(v.stake)} is unlocked (the rest backs open cases)`);
  await send("leave", me, court.connect(me).requestLeave.populateTransaction(amount));
  const after = await court.verifierOf(me.address);
  ctx.print(`leaving with ${formatUnits(after.leaving)}; withdrawable from ${formatTime(Number(after.leaveReadyAt))}`);
}

async function withdraw(ctx: Context) {
  const { court } = ctx.contracts;
  const me = await ctx.signer("VERIFIER");
  const v = await court.verifierOf(me.address);
  if (v.leaving === 0n) throw new UsageError("nothing is leaving: `troupe verifier leave <tokens>` first");
  await send("withdraw", me, court.connect(me).withdraw.populateTransaction());
  ctx.print(`withdrew ${formatUnits(v.leaving)}`);
}

async function status(ctx: Context, argv: string[]) {
  const address = argv[0] ? parseAddress(argv[0], "verifier address") : (await ctx.signer("VERIFIER")).address;
  const { court } = ctx.contracts;
  const v = await court.verifierOf(address);
  const total = await court.totalStake();
  const share = total > 0n ? Number((v.stake * 10_000n) / total) / 100 : 0;
  ctx.print(`verifier ${address}: stake ${formatUnits(v.stake)} (${share}% of the court's ${formatUnits(total)}), locked in cases ${formatUnits(v.locked)}`);
  if (v.leaving > 0n) ctx.print(`  leaving ${formatUnits(v.leaving)}, withdrawable from ${formatTime(Number(v.leaveReadyAt))}`);
  const from = ctx.deployment.startBlock;
  const claims = await court.queryFilter(court.filters.BallotClaimed(undefined, undefined, address), from);
  const coherent = claims.filter((c) => c.args.coherent).length;
  ctx.print(`  ballots claimed: ${claims.length} (${coherent} coherent, ${claims.length - coherent} incoherent or silent)`);
}

/** Runs the verifier agent in the foreground with this CLI's chain, market and key. */
async function runAgent(ctx: Context) {
  const me = await ctx.signer("VERIFIER");
  const root = fileURLToPath(new URL("../../../", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", "runtime/verifier/main.ts"], {
    cwd: root, stdio: "inherit",
    env: {
      ...process.env, RPC_URL: ctx.rpcUrl, VERIFIER_KEY: me.privateKey, MARKET: ctx.deployment.addresses.market,
      START_BLOCK: String(ctx.deployment.startBlock),
    },
  });
  const stop = () => child.kill("SIGTERM");
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const code = await new Promise<number>((resolve) => child.once("exit", (c) => resolve(c ?? 1)));
  if (code !== 0) throw new Error(`the verifier agent exited with ${code}`);
}

function missing(what: string): never {
  throw new UsageError(`missing ${what}\n${USAGE}`);
}
