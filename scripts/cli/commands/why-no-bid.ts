import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Context } from "../context.js";
import { cachedModelPath } from "../../lib/model-cache.js";
import { UsageError, parseAddress, parseId } from "../units.js";
import { loadConfig } from "../../../services/matchmaker/config.js";
import { createAgent } from "../../../services/matchmaker/setup.js";
import { formatWhyNoBid } from "../../../services/matchmaker/why-no-bid.js";

/**
 * `troupe why-no-bid <id> [--provider <address> …]`: asks the matchmaker's reasoning, per offer of
 * the given providers (or PROVIDERS, or every registered provider), which constraint or expected
 * loss kept it from bidding.
 */
export async function whyNoBidCommand(ctx: Context, argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { provider: { type: "string", multiple: true } } });
  const id = parseId(positionals[0], "request id");
  const named = values.provider ?? process.env.PROVIDERS?.split(",").filter(Boolean) ?? [];
  named.forEach((p) => parseAddress(p.trim(), "--provider"));
  if (Number((await ctx.contracts.market.request(id)).status) === 0) throw new UsageError(`there is no request ${id}`);
  const providers = named.length > 0 ? named : await registeredProviders(ctx);
  if (providers.length === 0) throw new UsageError("the market has no registered provider to explain");
  ctx.print(await whyNoBid(ctx, id, providers));
}

/** Every provider that ever registered on this market. */
export async function registeredProviders(ctx: Context): Promise<string[]> {
  const { registry } = ctx.contracts;
  const logs = await registry.queryFilter(registry.filters.ProviderRegistered(), ctx.deployment.startBlock);
  return [...new Set(logs.map((l) => l.args.provider))];
}

/** The matchmaker's reasoning for `providers` on request `id`, as text (trains a model first if there is none). */
export async function whyNoBid(ctx: Context, id: bigint, providers: string[], train = true, duringWindow = false): Promise<string> {
  const modelPath = process.env.MODEL_PATH ? resolve(process.env.MODEL_PATH) : cachedModelPath().file;
  if (!existsSync(modelPath)) {
    if (!train) return `(no matchmaker model at ${modelPath}: run \`troupe why-no-bid ${id}\` to train one and ask)`;
    ctx.print(`(no model at ${modelPath}: training one from the simulator first)`);
  }
  const { addresses, startBlock } = ctx.deployment;
  const cfg = loadConfig(
    {
      RPC_URL: ctx.rpcUrl, PROVIDERS: providers.join(","), MARKET: addresses.market, REGISTRY: addresses.registry,
      OFFERS: addresses.offers, START_BLOCK: String(startBlock), MODEL_PATH: modelPath,
      DATA_DIR: process.env.DATA_DIR ?? ".troupe/why-no-bid", ...(process.env.EXPLORER_URL ? { EXPLORER_URL: process.env.EXPLORER_URL } : {}),
    },
    false,
  );
  const agent = await createAgent(cfg, () => {});
  // After the window, the question is why nobody bid while it was open: judge it as of then.
  return formatWhyNoBid(await agent.whyNoBid(id, duringWindow ? (view) => view.bidWindowEnd - cfg.bidMarginSec - 1 : undefined));
}
