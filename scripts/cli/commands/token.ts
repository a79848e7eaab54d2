import { parseArgs } from "node:util";
import { formatUnits } from "ethers";
import type { Context } from "../context.js";
import { UsageError, parseAddress, parseTokens } from "../units.js";
import { send } from "../tx.js";
import { localAccount } from "../../local/accounts.js";
import { GAS_LIMITS, senderFor } from "../../../contracts/client/sender.js";

/** The local dev chains' id (Hardhat's node and anvil both): the only chain the faucet serves. */
const LOCAL_CHAIN_ID = 31337n;

/** `troupe token balance [<address>]` and `troupe token transfer <to> <tokens>` (from TROUPE_KEY). */
export async function tokenCommand(ctx: Context, argv: string[]): Promise<void> {
  const [action, ...rest] = argv;
  const { token } = ctx.contracts;
  if (action === "balance") {
    const who = rest[0] ? parseAddress(rest[0], "address") : (await ctx.signer("TROUPE")).address;
    const [tokens, ether] = await Promise.all([token.balanceOf(who), ctx.provider.getBalance(who)]);
    ctx.print(`${who}: ${formatUnits(tokens)} tokens, ${formatUnits(ether)} ether`);
    return;
  }
  if (action === "transfer") {
    const to = parseAddress(rest[0], "recipient");
    const amount = parseTokens(rest[1] ?? "", "the amount");
    const from = await ctx.signer("TROUPE");
    const balance = await token.balanceOf(from.address);
    if (balance < amount) throw new UsageError(`${from.address} holds ${formatUnits(balance)} tokens, not ${formatUnits(amount)}`);
    const receipt = await send("transfer", from, token.connect(from).transfer.populateTransaction(to, amount));
    ctx.print(`sent ${formatUnits(amount)} tokens from ${from.address} to ${to} (transaction ${receipt.hash})`);
    return;
  }
  throw new UsageError(action ? `unknown token command "${action}": balance or transfer` : "troupe token balance|transfer … (troupe token --help)");
}

/** `troupe faucet <address> [--tokens N] [--ether N]`: local chains only; mints from the local deployer. */
export async function faucetCommand(ctx: Context, argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { tokens: { type: "string" }, ether: { type: "string" } } });
  const to = parseAddress(positionals[0], "address");
  const tokens = parseTokens(values.tokens ?? "10000", "--tokens");
  const ether = parseTokens(values.ether ?? "10", "--ether");
  const { chainId } = await ctx.provider.getNetwork();
  if (chainId !== LOCAL_CHAIN_ID) throw new UsageError(`the faucet serves local chains only (chain id ${LOCAL_CHAIN_ID}); this is chain ${chainId}: use troupe token transfer`);
  const deployer = localAccount(0, ctx.provider);
  const sender = senderFor(deployer);
  const sent = [
    await sender.send(await ctx.contracts.token.connect(deployer).mint.populateTransaction(to, tokens), { gasLimit: GAS_LIMITS.transfer, label: "mint" }),
    ...(ether > 0n ? [await sender.send({ to, value: ether }, { gasLimit: GAS_LIMITS.ether, label: "send ether" })] : []),
  ];
  await Promise.all(sent.map((s) => s.wait()));
  ctx.print(`${to} got ${formatUnits(tokens)} tokens and ${formatUnits(ether)} ether (it may now register with troupe provider register, or deploy)`);
}


