/**
 * Sends one account's transactions back to back without waiting for each to be mined. The nonce
 * is counted here and the fees are read once per batch, and a fixed gas limit replaces the
 * estimate, so a bid costs one RPC call to send instead of five (nonce, fee data, estimate,
 * chain id, send). Receipts are awaited together at the end.
 */
import type { ContractTransaction, Signer, TransactionResponse } from "ethers";

/** Caps what a failing transaction can burn; a bid does no loops, so its cost is bounded (~100k measured). */
export const BID_GAS_LIMIT = 250_000n;

export class TxBatch {
  private nonce: number | undefined;
  private fees: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } | { gasPrice: bigint } | undefined;

  constructor(
    private readonly signer: Signer,
    private readonly gasLimit: bigint,
  ) {}

  async send(tx: ContractTransaction): Promise<TransactionResponse> {
    this.nonce ??= await this.signer.getNonce("pending");
    this.fees ??= await this.feeFields();
    try {
      const response = await this.signer.sendTransaction({ ...tx, nonce: this.nonce, gasLimit: this.gasLimit, ...this.fees });
      this.nonce++;
      return response;
    } catch (error) {
      // Whether the failed transaction used its nonce (a mined revert) or not (never sent) is
      // unknown here: ask the chain again before the next one.
      this.nonce = undefined;
      throw error;
    }
  }

  private async feeFields() {
    const fee = await this.signer.provider!.getFeeData();
    if (fee.maxFeePerGas !== null && fee.maxPriorityFeePerGas !== null) {
      return { maxFeePerGas: fee.maxFeePerGas, maxPriorityFeePerGas: fee.maxPriorityFeePerGas };
    }
    if (fee.gasPrice === null) throw new Error("the RPC gave no fee data");
    return { gasPrice: fee.gasPrice };
  }
}
