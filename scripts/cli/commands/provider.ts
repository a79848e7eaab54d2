import { parseArgs } from "node:util";
import { formatUnits, isHexString, ZeroAddress } from "ethers";
import type { Context } from "../context.js";
import {
  UsageError, formatTime, parseAddress, parseDuration, parseFuel, parseId, parseInteger, parseTier, parseTokens, TIERS,
} from "../units.js";
import { ensureAllowance, send } from "../tx.js";
import { signHostKeyProof } from "../../../contracts/client/signing.js";
import { METERING_VERSION } from "../../../runtime/wasm/cost-table.js";

const USAGE = `troupe provider register --stake <tokens> --tier cloud|edge|iot --region <n> [--host-key <address> --host-key-proof <signature>] [--metadata <uri> | --endpoint <url>]
troupe provider offer publish --price <tokens per Mfuel> [--fee <tokens>] --max-fuel <fuel> --memory <MiB> [--concurrency <n>] [--latency <class>] [--metering <version>] [--expires <duration>]
troupe provider offer update <offerId> [same options as publish]
troupe provider offer withdraw <offerId>
troupe provider agent authorise <address> [--revoke]
troupe provider host-key-proof <provider address>   (signs with HOST_KEY: run it where the host key is)
troupe provider unbond <tokens> | withdraw
troupe provider status [<provider address>]
(the provider's owner key comes from PROVIDER_KEY or PROVIDER_KEYSTORE; verifiers stake with troupe verifier)`;

export async function providerCommand(ctx: Context, argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case "register": return register(ctx, rest);
    case "offer": return offer(ctx, rest);
    case "agent": return agent(ctx, rest);
    case "host-key-proof": return hostKeyProof(ctx, rest);
    case "unbond": return unbond(ctx, rest);
    case "withdraw": return withdraw(ctx);
    case "status": return status(ctx, rest);
    default: throw new UsageError(sub ? `unknown provider command "${sub}"\n${USAGE}` : USAGE);
  }
}

async function register(ctx: Context, argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      stake: { type: "string" }, "host-key": { type: "string" }, tier: { type: "string" }, region: { type: "string" },
      metadata: { type: "string" }, endpoint: { type: "string" }, "host-key-proof": { type: "string" },
    },
  });
  const stake = parseTokens(required(values.stake, "--stake"), "--stake");
  const tier = parseTier(required(values.tier, "--tier"));
  const region = parseInteger(required(values.region, "--region"), "--region", 16);
  const metadata = values.metadata ?? (values.endpoint ? endpointMetadata(values.endpoint) : "");
  const owner = await ctx.signer("PROVIDER");
  const registry = ctx.contracts.registry.connect(owner);
  const min = await registry.minStake();
  if (stake < min) throw new UsageError(`--stake ${formatUnits(stake)} is below the market's minimum stake of ${formatUnits(min)}`);
  // The host key proves it agreed to sign for this owner: a proof from --host-key-proof (made
  // where the host key lives, with `troupe provider host-key-proof`), or signed here with HOST_KEY.
  let hostKey: string;
  let proof: string;
  if (values["host-key-proof"]) {
    hostKey = parseAddress(values["host-key"], "--host-key");
    proof = values["host-key-proof"];
    if (!isHexString(proof)) throw new UsageError(`--host-key-proof must be a 0x signature, not "${proof}"`);
  } else if (process.env.HOST_KEY || process.env.HOST_KEYSTORE) {
    const host = await ctx.signer("HOST");
    if (values["host-key"] && parseAddress(values["host-key"], "--host-key").toLowerCase() !== host.address.toLowerCase()) {
      throw new UsageError(`--host-key ${values["host-key"]} is not HOST_KEY's address ${host.address}`);
    }
    hostKey = host.address;
    proof = await signHostKeyProof(host, (await ctx.provider.getNetwork()).chainId, ctx.deployment.addresses.registry, owner.address);
  } else {
    throw new UsageError("the host key must prove it signs for this provider: set HOST_KEY, or pass --host-key with --host-key-proof");
  }
  await ensureAllowance(ctx, owner, ctx.deployment.addresses.registry, stake);
  await send("register", owner, registry.register.populateTransaction(hostKey, tier, region, stake, metadata, proof));
  ctx.print(`registered ${owner.address} (${TIERS[tier]}, region ${region}) with a stake of ${formatUnits(stake)}`);
}

/** The metadata URI the local market uses: the host's public endpoint as inline JSON. */
export function endpointMetadata(endpoint: string): string {
  try {
    new URL(endpoint);
  } catch {
    throw new UsageError(`--endpoint must be a URL like http://127.0.0.1:7101, not "${endpoint}"`);
  }
  return `data:application/json,${encodeURIComponent(JSON.stringify({ endpoint }))}`;
}

const OFFER_OPTIONS = {
  price: { type: "string" }, fee: { type: "string" }, "max-fuel": { type: "string" }, memory: { type: "string" },
  concurrency: { type: "string" }, latency: { type: "string" }, expires: { type: "string" }, metering: { type: "string" },
} as const;

async function offer(ctx: Context, argv: string[]) {
  const [action, ...rest] = argv;
  const owner = await ctx.signer("PROVIDER");
  const offers = ctx.contracts.offers.connect(owner);
  if (action === "withdraw") {
    const id = parseId(rest[0], "offer id");
    await send("withdraw offer", owner, offers.withdraw.populateTransaction(id));
    ctx.print(`withdrew offer ${id}`);
    return;
  }
  if (action !== "publish" && action !== "update") throw new UsageError(USAGE);
  const { values, positionals } = parseArgs({ args: rest, options: OFFER_OPTIONS, allowPositionals: true });
  const now = (await ctx.provider.getBlock("latest"))!.timestamp;
  const current = action === "update" ? await ctx.contracts.offers.offer(parseId(positionals[0], "offer id")) : undefined;
  if (current && current.provider === ZeroAddress) throw new UsageError(`there is no offer ${positionals[0]}`);
  const terms = {
    provider: owner.address,
    pricePerMFuel: values.price ? parseTokens(values.price, "--price") : current?.pricePerMFuel ?? missing("--price"),
    fee: values.fee ? parseTokens(values.fee, "--fee") : current?.fee ?? 0n,
    maxFuel: values["max-fuel"] ? parseFuel(values["max-fuel"], "--max-fuel") : current?.maxFuel ?? missing("--max-fuel"),
    memoryMiB: values.memory ? parseInteger(values.memory, "--memory") : current?.memoryMiB ?? missing("--memory"),
    meteringVersion: values.metering ? parseInteger(values.metering, "--metering", 16) : current?.meteringVersion ?? METERING_VERSION,
    concurrentJobs: values.concurrency ? parseInteger(values.concurrency, "--concurrency", 16) : current?.concurrentJobs ?? 1,
    latencyClass: values.latency ? parseInteger(values.latency, "--latency", 8) : current?.latencyClass ?? 1,
    expiresAt: values.expires ? now + parseDuration(values.expires, "--expires") : current?.expiresAt ?? now + 30 * 86_400,
  };
  if (current) {
    const id = parseId(positionals[0], "offer id");
    await send("update offer", owner, offers.update.populateTransaction(id, terms));
    ctx.print(`updated offer ${id}`);
  } else {
    const receipt = await send("publish offer", owner, offers.publish.populateTransaction(terms));
    const log = receipt.logs.map((l) => ctx.contracts.offers.interface.parseLog(l)).find((l) => l?.name === "OfferPublished");
    ctx.print(`published offer ${log?.args.offerId ?? "?"}: ${formatUnits(terms.pricePerMFuel)} per million fuel + ${formatUnits(terms.fee)} per job`);
  }
}

async function agent(ctx: Context, argv: string[]) {
  const { values, positionals } = parseArgs({ args: argv, options: { revoke: { type: "boolean" } }, allowPositionals: true });
  if (positionals[0] !== "authorise" && positionals[0] !== "authorize") throw new UsageError(USAGE);
  const who = parseAddress(positionals[1], "agent address");
  const owner = await ctx.signer("PROVIDER");
  await send("authorise agent", owner, ctx.contracts.registry.connect(owner).authoriseAgent.populateTransaction(who, !values.revoke));
  ctx.print(`${values.revoke ? "revoked" : "authorised"} agent ${who}`);
}

/** Signs, with HOST_KEY, the proof that the host key agrees to sign reports for `provider`. */
async function hostKeyProof(ctx: Context, argv: string[]) {
  const provider = parseAddress(argv[0], "provider address");
  const host = await ctx.signer("HOST");
  const proof = await signHostKeyProof(host, (await ctx.provider.getNetwork()).chainId, ctx.deployment.addresses.registry, provider);
  ctx.print(`--host-key ${host.address} --host-key-proof ${proof}`);
}

async function unbond(ctx: Context, argv: string[]) {
  const amount = parseTokens(required(argv[0], "the amount to unbond"), "amount");
  const owner = await ctx.signer("PROVIDER");
  await send("unbond", owner, ctx.contracts.registry.connect(owner).requestUnbond.populateTransaction(amount));
  const p = await ctx.contracts.registry.providerOf(owner.address);
  ctx.print(`unbonding ${formatUnits(amount)}; withdrawable from ${formatTime(Number(p.unbondReadyAt))}`);
}

async function withdraw(ctx: Context) {
  const owner = await ctx.signer("PROVIDER");
  await send("withdraw", owner, ctx.contracts.registry.connect(owner).withdrawUnbonded.populateTransaction());
  ctx.print("withdrew the unbonded stake");
}

async function status(ctx: Context, argv: string[]) {
  const address = argv[0] ? parseAddress(argv[0], "provider address") : (await ctx.signer("PROVIDER")).address;
  const { registry, offers, market } = ctx.contracts;
  const p = await registry.providerOf(address);
  if (p.hostKey === ZeroAddress) throw new UsageError(`${address} is not a registered provider`);
  const from = ctx.deployment.startBlock;
  ctx.print(`provider ${address}: ${TIERS[Number(p.tier)]}, region ${p.region}, host key ${p.hostKey}`);
  ctx.print(`  stake ${formatUnits(p.stake)} (unbonding ${formatUnits(p.unbonding)}, still slashable), backing ${formatUnits(p.exposure)} of open agreements`);
  ctx.print(`  record: ${formatUnits(p.completedValue)} completed, ${formatUnits(p.failedValue)} failed; failure rate the award prices ${Number(await registry.failureBpsOf(address)) / 100}%`);
  ctx.print(`  agreements: ${p.openAgreements} open, ${p.completed} completed, ${p.breached} breached, disputes ${p.disputesWon} won / ${p.disputesLost} lost`);
  const published = await offers.queryFilter(offers.filters.OfferPublished(undefined, address), from);
  for (const log of published) {
    const id = log.args.offerId;
    const o = await offers.offer(id);
    const live = Number(o.expiresAt) > (await ctx.provider.getBlock("latest"))!.timestamp;
    ctx.print(`  offer ${id}: ${formatUnits(o.pricePerMFuel)}/Mfuel + ${formatUnits(o.fee)}, ${o.memoryMiB} MiB, ${o.maxFuel} fuel, ${o.concurrentJobs} jobs, latency ${o.latencyClass}, metering v${o.meteringVersion}, ${live ? `expires ${formatTime(Number(o.expiresAt))}` : "withdrawn or expired"}`);
  }
  const created = await market.queryFilter(market.filters.AgreementCreated(undefined, address), from);
  const settled = await market.queryFilter(market.filters.AgreementSettled(), from);
  const mine = new Set(created.map((l) => l.args.agreementId));
  const earnings = settled.filter((l) => mine.has(l.args.agreementId)).reduce((sum, l) => sum + l.args.providerPayment, 0n);
  ctx.print(`  ${created.length} agreements won, earnings ${formatUnits(earnings)}`);
}

function required(value: string | undefined, what: string): string {
  if (value === undefined) throw new UsageError(`missing ${what}\n${USAGE}`);
  return value;
}

function missing(what: string): never {
  throw new UsageError(`missing ${what}`);
}
