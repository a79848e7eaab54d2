import { existsSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import type { Context } from "../context.js";
import { UsageError, parseDuration, parseFuel, parseInteger, parseTiers, parseTokens } from "../units.js";
import { contentLocation } from "../../lib/content.js";
import { DeployRefused, checkModule, deployWorkload, escrowOf } from "../../lib/consumer.js";
import { cachedModelPath } from "../../lib/model-cache.js";
import { consumerChooser } from "../../../services/matchmaker/consumer-agent.js";
import type { InputBundle } from "../../../runtime/job/index.js";
import { registeredProviders, whyNoBid } from "./why-no-bid.js";

/** `troupe deploy <module.wasm> …`: the consumer's whole deployment, from request to verified, settled output. */
export async function deployCommand(ctx: Context, argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      input: { type: "string" }, arg: { type: "string", multiple: true }, env: { type: "string", multiple: true },
      file: { type: "string", multiple: true }, output: { type: "string", multiple: true },
      "max-price": { type: "string" }, "max-fee": { type: "string" }, "max-fuel": { type: "string" },
      memory: { type: "string" }, tiers: { type: "string" }, region: { type: "string" }, latency: { type: "string" },
      deadline: { type: "string" }, "bid-window": { type: "string" }, "accept-first": { type: "boolean" },
      choose: { type: "string" }, "value-at-risk": { type: "string" },
    },
  });
  const path = positionals[0];
  if (!path) throw new UsageError("troupe deploy <module.wasm> [--input <file>] [--max-price <tokens>] [--max-fuel <fuel>] [--tiers cloud,edge,iot] [--region <n>] [--deadline <duration>] [--choose auto|rule] [--value-at-risk <tokens>]");
  const module = readLocal(path, "the module");
  try {
    checkModule(module, path);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const input: InputBundle = {
    args: [basename(path), ...(values.arg ?? [])],
    env: Object.fromEntries((values.env ?? []).map((kv) => splitPair(kv, "--env"))),
    stdin: values.input ? readLocal(values.input, "--input") : new Uint8Array(),
    files: Object.fromEntries((values.file ?? []).map((kv) => {
      const [name, local] = splitPair(kv, "--file");
      return [name, readLocal(local, `--file ${name}`)];
    })),
    outputs: values.output ?? [],
  };
  const choose = values.choose ?? "rule";
  if (choose !== "auto" && choose !== "rule") throw new UsageError(`--choose takes auto or rule, not "${choose}"`);
  const maxFuel = parseFuel(values["max-fuel"] ?? "1G", "--max-fuel");
  const maxPricePerMFuel = parseTokens(values["max-price"] ?? "0.05", "--max-price");
  const maxFee = parseTokens(values["max-fee"] ?? "0.01", "--max-fee");
  // What a failed job costs the consumer; by default what it is ready to pay.
  const valueAtRisk = values["value-at-risk"] ? parseTokens(values["value-at-risk"], "--value-at-risk") : escrowOf({ maxFuel, maxPricePerMFuel, maxFee });
  const consumer = await ctx.signer("CONSUMER");
  const chainId = (await ctx.provider.getNetwork()).chainId;
  try {
    const result = await deployWorkload(
      { deployment: ctx.deployment, contracts: ctx.contracts, consumer, content: contentLocation(), chainId },
      {
        module, input,
        maxFuel, maxPricePerMFuel, maxFee, valueAtRisk,
        minMemoryMiB: parseInteger(values.memory ?? "64", "--memory"),
        allowedTiers: parseTiers(values.tiers ?? "all"),
        region: parseInteger(values.region ?? "0", "--region", 16),
        maxLatencyClass: parseInteger(values.latency ?? "255", "--latency", 8),
        bidWindow: parseDuration(values["bid-window"] ?? "15s", "--bid-window"),
        deadlineIn: parseDuration(values.deadline ?? "10m", "--deadline"),
        acceptFirstBid: values["accept-first"] ?? false,
        ...(choose === "auto" ? { choose: await consumerChooser({
          provider: ctx.provider, addresses: ctx.deployment.addresses, modelPath: cachedModelPath().file,
          dataDir: process.env.TROUPE_CONSUMER_DIR ?? ".troupe/consumer", explorerUrl: ctx.explorerUrl,
          terms: { valueAtRisk: Number(valueAtRisk) / 1e18 }, log: (line) => ctx.print(line),
        }) } : {}),
      },
      (line) => ctx.print(line),
    );
    if (result.stdout && result.stdout.length > 0) {
      ctx.print("--- stdout ---");
      ctx.print(Buffer.from(result.stdout).toString("utf8").replace(/\n$/, ""));
    }
    if (result.noBid) {
      // Say why, in the matchmakers' own words (no model is trained for this: that takes minutes).
      const explained = await registeredProviders(ctx)
        .then((providers) => (providers.length ? whyNoBid(ctx, result.id, providers, false, true) : "no provider is registered on this market"))
        .catch((error: Error) => `(why-no-bid could not answer: ${error.message.split("\n")[0]})`);
      ctx.print(`why no bid (troupe why-no-bid ${result.id}):`);
      ctx.print(explained);
    }
    if (result.problem) throw new Error(`request ${result.id}: ${result.problem}`);
  } catch (error) {
    if (error instanceof DeployRefused) throw new UsageError(error.message);
    throw error;
  }
}

function readLocal(path: string, what: string): Uint8Array {
  if (!existsSync(path)) throw new UsageError(`${what}: no such file ${path}`);
  return new Uint8Array(readFileSync(path));
}

function splitPair(text: string, flag: string): [string, string] {
  const at = text.indexOf("=");
  if (at <= 0) throw new UsageError(`${flag} takes name=value, not "${text}"`);
  return [text.slice(0, at), text.slice(at + 1)];
}
