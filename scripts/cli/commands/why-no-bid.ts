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
 * the given providers (or PROVIDERS), which constraint or expected loss kept it from bidding.
 */
export async function whyNoBidCommand(ctx: Context, argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { provider: { type: "string", multiple: true } } });
  const id = parseId(positionals[0], "request id");
  const providers = values.provider ?? process.env.PROVIDERS?.split(",").filter(Boolean) ?? [];
  if (providers.length === 0) throw new UsageError("name the providers to explain with --provider <address> (or PROVIDERS=a,b)");
  providers.forEach((p) => parseAddress(p.trim(), "--provider"));
  if (Number((await ctx.contracts.market.request(id)).status) === 0) throw new UsageError(`there is no request ${id}`);
  const modelPath = process.env.MODEL_PATH ? resolve(process.env.MODEL_PATH) : cachedModelPath().file;
  if (!existsSync(modelPath)) ctx.print(`(no model at ${modelPath}: training one from the simulator first)`);
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
  ctx.print(formatWhyNoBid(await agent.whyNoBid(id)));
}
