/**
 * Sends one account's transactions back to back without waiting for each to be mined. The nonce
 * is counted here and the fees are read once per batch, and a fixed gas limit replaces the
 * estimate, so a transaction costs one RPC call to send instead of five (nonce, fee data,
 * estimate, send). A batch lives for one pass of its sender: the next pass reads the nonce anew.
 */
import type { ContractTransaction, Signer, TransactionResponse } from "ethers";

/**
 * Gas caps for the market's bounded-cost calls (none loops over bids or agreements): about 2.5×
 * what they were measured to use (bench/results/gas.json), so a cap only limits a failing call.
 */
export const GAS_LIMITS = { bid: 250_000n, report: 400_000n } as const;

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
