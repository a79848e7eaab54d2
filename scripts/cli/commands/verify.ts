import { delimiter } from "node:path";
import type { Context } from "../context.js";
import { contentLocation } from "../../lib/content.js";
import { parseId, UsageError } from "../units.js";
import * as engine from "../../../runtime/job/index.js";
import { fromChain } from "../../../runtime/verify.js";
import { verifyUsage } from "../../../runtime/host/verification.js";

/**
 * `troupe verify <agreement>`: anyone re-runs the agreement's module on its input (fetched by the
 * URIs and checked against the hashes on chain) and says whether the attested fuel and output hash
 * match. Exit status 1 when they do not.
 */
export async function verifyCommand(ctx: Context, argv: string[]): Promise<void> {
  const id = parseId(argv[0], "agreement id");
  if (Number((await ctx.contracts.market.request(id)).status) === 0) throw new UsageError(`there is no agreement ${id}`);
  // The consumer's URIs are fetched under the host's rules (CONTENT_DIRS, FETCH_ALLOW_ADDRESSES);
  // this CLI's own content directory, where `troupe deploy` publishes, is readable too.
  process.env.CONTENT_DIRS = [contentLocation().dir, process.env.CONTENT_DIRS].filter(Boolean).join(delimiter);
  try {
    const { job, claimed } = await fromChain(
      { rpc: ctx.rpcUrl, market: ctx.deployment.addresses.market, agreement: String(id), "from-block": String(ctx.deployment.startBlock) },
      60_000,
    );
    const v = await verifyUsage(engine, job, claimed);
    const mark = (ok: boolean) => (ok ? "matches" : "DIFFERS");
    ctx.print(`agreement ${id}: re-executed under metering version ${v.measured.meteringVersion}`);
    ctx.print(`  fuel        ${mark(v.fuelMatches)}: attested ${v.claimed.fuelUsed}, measured ${v.measured.fuelUsed}`);
    ctx.print(`  output hash ${mark(v.outputMatches)}: attested ${v.claimed.outputHash}, measured ${v.measured.outputHash}`);
    if (!v.matches) throw new Error(`agreement ${id}: the report does not match the re-execution`);
    ctx.print("  the report is correct");
  } finally {
    await engine.shutdownJobPool();
  }
}
