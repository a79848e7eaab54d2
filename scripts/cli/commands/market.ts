import { formatUnits } from "ethers";
import type { Context } from "../context.js";
import { TIERS } from "../units.js";

const QUERY = `{
  _meta { block { number } }
  marketSummary(id: "market") { providers offers requests agreements settled breached overturned disputes fuel volume stake }
  providers(first: 10, orderBy: reputation, orderDirection: desc) { id tier region stake reputation completed breached earnings }
  offers(first: 5, orderBy: pricePerMFuel, orderDirection: asc, where: { withdrawn: false }) { id pricePerMFuel fee memoryMiB provider { id tier } }
}`;

interface Answer {
  data?: {
    _meta: { block: { number: number } };
    marketSummary: Record<string, string | number> | null;
    providers: { id: string; tier: number; region: number; stake: string; reputation: number; completed: number; breached: number; earnings: string }[];
    offers: { id: string; pricePerMFuel: string; fee: string; memoryMiB: number; provider: { id: string; tier: number } }[];
  };
  errors?: { message: string }[];
}

/** `troupe market`: a summary of the market through the explorer's GraphQL API. */
export async function marketCommand(ctx: Context): Promise<void> {
  let answer: Answer;
  try {
    const res = await fetch(ctx.explorerUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: QUERY }),
      signal: AbortSignal.timeout(10_000),
    });
    answer = (await res.json()) as Answer;
  } catch (error) {
    throw new Error(`cannot reach the explorer at ${ctx.explorerUrl} (${(error as Error).message}); set EXPLORER_URL`);
  }
  if (answer.errors?.length || !answer.data) throw new Error(`the explorer answered: ${answer.errors?.[0]?.message ?? "no data"}`);
  const { _meta, marketSummary: s, providers, offers } = answer.data;
  ctx.print(`market at block ${_meta.block.number}`);
  if (s) {
    ctx.print(`  ${s.providers} providers, ${s.offers} offers, ${s.requests} requests, ${s.agreements} agreements`);
    ctx.print(`  ${s.settled} settled, ${s.breached} breached, ${s.overturned} overturned, ${s.disputes} disputes`);
    ctx.print(`  ${s.fuel} fuel sold for ${formatUnits(String(s.volume))} tokens; ${formatUnits(String(s.stake))} staked`);
  }
  ctx.print("  providers by reputation:");
  for (const p of providers) {
    ctx.print(`    ${p.id} ${TIERS[p.tier]} r${p.region}  ${(p.reputation / 100).toFixed(1)}%  ${p.completed} done / ${p.breached} breached  earned ${formatUnits(p.earnings)}`);
  }
  ctx.print("  cheapest offers:");
  for (const o of offers) {
    ctx.print(`    offer ${o.id} (${TIERS[o.provider.tier]} ${o.provider.id}): ${formatUnits(o.pricePerMFuel)}/Mfuel + ${formatUnits(o.fee)}, ${o.memoryMiB} MiB`);
  }
}
