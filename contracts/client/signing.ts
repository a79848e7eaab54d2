import { TypedDataEncoder, type Signer } from "ethers";
import {
  USAGE_ACCEPTANCE_TYPES,
  USAGE_REPORT_TYPES,
  VERDICT_TYPES,
  marketDomain,
  type UsageReport,
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

/** A verifier's host key signs its re-execution of a disputed agreement. */
export function signVerdict(
  verifierHostKey: Signer,
  ctx: SigningContext,
  verdict: { agreementId: bigint; fuelUsed: bigint; outputHash: string; meteringVersion: number },
): Promise<string> {
  return verifierHostKey.signTypedData(marketDomain(ctx.chainId, ctx.market), VERDICT_TYPES, verdict);
}
