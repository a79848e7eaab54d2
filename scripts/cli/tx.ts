import type { ContractTransaction, TransactionReceipt, Wallet } from "ethers";
import { formatUnits } from "ethers";
import { senderFor } from "../../contracts/client/sender.js";
import type { Context } from "./context.js";
import { UsageError } from "./units.js";

/**
 * Sends a transaction from `from` through its sender (local nonce, a stuck one replaced with a
 * higher fee) and waits for it. The gas is estimated before it is sent, so a call the contract
 * would refuse fails here with its custom error and costs nothing.
 */
export async function send(what: string, from: Wallet, tx: Promise<ContractTransaction>): Promise<TransactionReceipt> {
  return senderFor(from).sendAndWait(await tx, { label: what });
}

/** Makes sure `owner` has `amount` tokens and has approved `spender` for them. */
export async function ensureAllowance(ctx: Context, owner: Wallet, spender: string, amount: bigint): Promise<void> {
  const token = ctx.contracts.token.connect(owner);
  const balance = await token.balanceOf(owner.address);
  if (balance < amount) {
    throw new UsageError(`${owner.address} holds ${formatUnits(balance)} tokens, but ${formatUnits(amount)} are needed`);
  }
  if ((await token.allowance(owner.address, spender)) < amount) {
    await send("approve", owner, token.approve.populateTransaction(spender, amount));
  }
}
