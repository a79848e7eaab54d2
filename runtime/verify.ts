// Re-executes an agreement's job and says whether a usage report's fuel and output hash match.
// Run `npm run verify -- --help`. (Judging a dispute is the verifier agent's: runtime/verifier.)
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { tmpdir } from "node:os";
import { pathToFileURL } from "node:url";
import * as engine from "./job/index.js";
import { TroupeMarket__factory } from "../types/ethers-contracts/index.js";
import { agreementMemoryMiB, inputLocation } from "./host/agreement.js";
import { ContentStore } from "./host/content-store.js";
import { fetchJobContent, type ContentPart } from "./host/job-content.js";
import { toJson } from "./host/json.js";
import { uriPolicyFromEnv } from "./host/uri-policy.js";
import { briefError } from "./host/rpc.js";
import { pinnedProvider, probeChainId } from "../contracts/client/rpc.js";
import { verifyUsage, type ClaimedUsage, type Reexecution, type Verification } from "./host/verification.js";

export { verifyUsage, type Verification, type Reexecution, type ClaimedUsage };

const USAGE = `usage: npm run verify -- [options]

From the chain (reads the request and the report, fetches module and input by their URIs):
  --rpc URL --market ADDRESS --agreement ID [--from-block N]
From files (everything given explicitly):
  --module FILE --input FILE --chain-id N --market ADDRESS --agreement ID
  --max-fuel N --memory-mib N --fuel N --output-hash HEX [--metering-version N]
Either way:
  --module FILE / --input FILE   use these bytes instead of fetching (their hashes are still checked on chain)
  --timeout-ms N                  wall-clock watchdog (default 60000)
Exit status: 0 the report matches, 1 it does not, 2 an error.`;

export interface Options {
  rpc?: string;
  market?: string;
  agreement?: string;
  "from-block"?: string;
  module?: string;
  input?: string;
  "chain-id"?: string;
  "max-fuel"?: string;
  "memory-mib"?: string;
  fuel?: string;
  "output-hash"?: string;
  "metering-version"?: string;
  "timeout-ms"?: string;
  help?: boolean;
}

function need(opts: Options, name: keyof Options): string {
  const value = opts[name];
  if (typeof value !== "string" || value === "") throw new Error(`--${name} is required (see --help)`);
  return value;
}

function bigintOption(opts: Options, name: keyof Options): bigint {
  const value = need(opts, name);
  if (!/^\d+$/.test(value)) throw new Error(`--${name} must be a non-negative integer, not ${JSON.stringify(value)}`);
  return BigInt(value);
}

/** An agreement's job as the chain describes it: its module and input (fetched, hash-checked) and limits. */
export interface ChainJob {
  job: Reexecution;
  /** The metering version the request fixed. */
  meteringVersion: number;
  /** The report on chain, if any. */
  reported?: ClaimedUsage;
}

/**
 * Reads agreement `id`'s request (and report) from the chain and fetches its module and input by
 * their URIs (or from the files given), checking both against the hashes on chain. A fetch that
 * fails or returns other bytes throws a `ContentUnavailable`.
 */
export async function loadJob(opts: Options, timeoutMs: number): Promise<ChainJob> {
  const rpc = need(opts, "rpc");
  const id = bigintOption(opts, "agreement");
  const chainId = await probeChainId(rpc);
  const provider = pinnedProvider(rpc, chainId, 1000);
  try {
    const market = TroupeMarket__factory.connect(need(opts, "market"), provider);
    const fromBlock = opts["from-block"] ? Number(opts["from-block"]) : 0;
    const posted = (await market.queryFilter(market.filters.RequestPosted(id), fromBlock)).at(-1);
    if (!posted) throw new Error(`no RequestPosted event for request ${id} since block ${fromBlock}`);
    const reported = (await market.queryFilter(market.filters.UsageReported(id), fromBlock)).at(-1);
    const p = posted.args;
    const store = new ContentStore(join(tmpdir(), "troupe-verify-store"));
    // The consumer's URIs reach only what CONTENT_DIRS and FETCH_ALLOW_ADDRESSES allow (as the host's do); a file given here is trusted.
    const uriPolicy = uriPolicyFromEnv(process.env);
    const load = async (file: string | undefined, uri: string, sha256: string, what: ContentPart) => {
      try {
        const policy = file ? { contentDirs: [dirname(resolve(file))], allowAddresses: [] } : uriPolicy;
        return await fetchJobContent(what, file ? pathToFileURL(resolve(file)).href : uri, { sha256, maxBytes: 256 * 1024 * 1024, store, policy });
      } catch (error) {
        throw new ContentUnavailable(`the ${what} of agreement ${id} at ${uri || "(no URI)"}: ${briefError(error)}`);
      }
    };
    return {
      job: {
        module: await load(opts.module, p.workloadURI, p.workloadHash, "module"),
        input: await load(opts.input, inputLocation(p), p.inputHash, "input"),
        chainId,
        market: await market.getAddress(),
        agreementId: id,
        maxFuel: p.maxFuel,
        memoryMiB: agreementMemoryMiB(Number(p.minMemoryMiB)),
        wallTimeoutMs: timeoutMs,
      },
      meteringVersion: Number(p.meteringVersion),
      reported: reported
        ? { fuelUsed: reported.args.fuelUsed, outputHash: reported.args.outputHash, meteringVersion: Number(reported.args.meteringVersion) }
        : undefined,
    };
  } finally {
    provider.destroy();
  }
}

/** The consumer's content could not be fetched, or its bytes had another hash. */
export class ContentUnavailable extends Error {}

/** Reads the job and the claimed usage from the chain, fetching what was not given as a file. */
export async function fromChain(opts: Options, timeoutMs: number): Promise<{ job: Reexecution; claimed: ClaimedUsage }> {
  const { job, reported } = await loadJob(opts, timeoutMs);
  const claimed = reported ?? (opts.fuel !== undefined ? fromFlags(opts) : undefined);
  if (!claimed) throw new Error(`agreement ${job.agreementId} has no UsageReported event: pass --fuel and --output-hash to check a report by hand`);
  return { job, claimed };
}

function fromFlags(opts: Options): ClaimedUsage {
  const outputHash = need(opts, "output-hash");
  return {
    fuelUsed: bigintOption(opts, "fuel"),
    outputHash,
    meteringVersion: opts["metering-version"] ? Number(opts["metering-version"]) : engine.METERING_VERSION,
  };
}

function fromFiles(opts: Options, timeoutMs: number): { job: Reexecution; claimed: ClaimedUsage } {
  const read = (name: "module" | "input") => new Uint8Array(readFileSync(need(opts, name)));
  return {
    job: {
      module: read("module"),
      input: read("input"),
      chainId: bigintOption(opts, "chain-id"),
      market: need(opts, "market"),
      agreementId: bigintOption(opts, "agreement"),
      maxFuel: bigintOption(opts, "max-fuel"),
      memoryMiB: Number(bigintOption(opts, "memory-mib")),
      wallTimeoutMs: timeoutMs,
    },
    claimed: fromFlags(opts),
  };
}

/** Runs the CLI; returns the exit status. */
export async function runVerifyCli(argv: string[], log: (line: string) => void = console.log): Promise<number> {
  const { values: opts } = parseArgs({
    args: argv,
    options: {
      rpc: { type: "string" }, market: { type: "string" }, agreement: { type: "string" }, "from-block": { type: "string" },
      module: { type: "string" }, input: { type: "string" }, "chain-id": { type: "string" }, "max-fuel": { type: "string" },
      "memory-mib": { type: "string" }, fuel: { type: "string" }, "output-hash": { type: "string" },
      "metering-version": { type: "string" }, "timeout-ms": { type: "string" }, help: { type: "boolean" },
    },
  }) as { values: Options };
  if (opts.help) {
    log(USAGE);
    return 0;
  }
  if (!opts.rpc && !opts.module) throw new Error("give --rpc (read the agreement from the chain) or --module and --input (files); see --help");
  const timeoutMs = opts["timeout-ms"] ? Number(bigintOption(opts, "timeout-ms")) : 60_000;
  const { job, claimed } = opts.rpc ? await fromChain(opts, timeoutMs) : fromFiles(opts, timeoutMs);
  const verification = await verifyUsage(engine, job, claimed);
  log(toJson({ agreementId: job.agreementId, ...verification }));
  return verification.matches ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  runVerifyCli(process.argv.slice(2)).then(
    (status) => process.exit(status),
    (error: unknown) => {
      console.error(`verify: ${briefError(error)}`);
      process.exit(2);
    },
  );
}
