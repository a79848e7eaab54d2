import { AbiCoder, TypedDataEncoder, keccak256, type Signer } from "ethers";
import {
  HOST_KEY_TYPES,
  UNAVAILABLE_OUTPUT,
  USAGE_ACCEPTANCE_TYPES,
  USAGE_REPORT_TYPES,
  VERDICT_TYPES,
  courtDomain,
  marketDomain,
  registryDomain,
  type UsageReport,
  type Verdict,
} from "./typed-data.js";

/** Where signatures are valid: the chain and the market contract. */
export interface SigningContext {
  chainId: bigint;
  market: string;
}

/** The host key signs a usage report. */
export function signUsageReport(hostKey: Signer, ctx: SigningContext, report: UsageReport): Promise<string> {
  return hostKey.signTypedData(marketDomain(ctx.chainId, ctx.market), USAGE_REPORT_TYPES, report);
}

/** The EIP-712 struct hash of a report, which the consumer's acceptance signs. */
export function usageReportHash(report: UsageReport): string {
  return TypedDataEncoder.hashStruct("UsageReport", USAGE_REPORT_TYPES, report);
}

/** The consumer co-signs a report, letting it settle at once. */
export function signUsageAcceptance(consumer: Signer, ctx: SigningContext, report: UsageReport): Promise<string> {
  return consumer.signTypedData(marketDomain(ctx.chainId, ctx.market), USAGE_ACCEPTANCE_TYPES, {
    agreementId: report.agreementId,
    reportHash: usageReportHash(report),
  });
}

/**
 * The sealed verdict a verifier commits for one round of a dispute: the EIP-712 digest of
 * `Verdict` under the court's domain. It names the verifier, so it cannot be copied or replayed.
 */
export function verdictCommitment(chainId: bigint, court: string, verdict: Verdict): string {
  return TypedDataEncoder.hash(courtDomain(chainId, court), VERDICT_TYPES, verdict);
}

/** The key a report or verdict claim is compared by (`ClaimKeys.keyOf`). */
export function claimKey(fuelUsed: bigint, outputHash: string): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode(["uint64", "bytes32"], [fuelUsed, outputHash]));
}

/** The claim key of "the consumer's content could not be fetched". */
export const UNAVAILABLE_KEY = claimKey(0n, UNAVAILABLE_OUTPUT);

/** The host key proves it belongs to `provider`, as `register` and `setHostKey` require. */
export function signHostKeyProof(hostKey: Signer, chainId: bigint, registry: string, provider: string): Promise<string> {
  return hostKey.getAddress().then((address) =>
    hostKey.signTypedData(registryDomain(chainId, registry), HOST_KEY_TYPES, { provider, hostKey: address }),
  );
}
