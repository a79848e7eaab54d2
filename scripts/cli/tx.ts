import type { ContractTransactionReceipt, ContractTransactionResponse, Wallet } from "ethers";
import { formatUnits } from "ethers";
import type { Context } from "./context.js";
import { UsageError } from "./units.js";

/**
 * Sends a transaction and waits for it. Contract calls are estimated before they are sent, so a
 * call the contract would refuse fails here with its custom error and costs nothing.
 */
export async function send(what: string, tx: Promise<ContractTransactionResponse>): Promise<ContractTransactionReceipt> {
  const response = await tx;
  const receipt = await response.wait();
  if (!receipt || receipt.status !== 1) throw new Error(`${what} failed in transaction ${response.hash}`);
  return receipt;
}

/** Makes sure `owner` has `amount` tokens and has approved `spender` for them. */
export async function ensureAllowance(ctx: Context, owner: Wallet, spender: string, amount: bigint): Promise<void> {
  const token = ctx.contracts.token.connect(owner);
  const balance = await token.balanceOf(owner.address);
  if (balance < amount) {
    throw new UsageError(`${owner.address} holds ${formatUnits(balance)} tokens, but ${formatUnits(amount)} are needed`);
  }
  if ((await token.allowance(owner.address, spender)) < amount) {
    await send("approve", token.approve(spender, amount));
  }
}
