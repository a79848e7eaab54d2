import type { TypedDataDomain, TypedDataField } from "ethers";

/** The EIP-712 domain every report, acceptance and verdict is signed under. */
export function marketDomain(chainId: bigint | number, market: string): TypedDataDomain {
  return { name: "Troupe Market", version: "1", chainId, verifyingContract: market };
}

/** How a job ended, as a usage report says it (`outcome`). */
export const Outcome = {
  Exited: 0,
  OutOfFuel: 1,
  OutOfMemory: 2,
  StackLimit: 3,
  Trap: 4,
  InvalidModule: 5,
} as const;
export type OutcomeCode = (typeof Outcome)[keyof typeof Outcome];

/** Human names of the outcome codes, indexed by code. */
export const OUTCOME_NAMES = ["exited", "out of fuel", "out of memory", "stack limit", "trap", "invalid module"] as const;

/** A usage report: the fields the provider's host key signs. */
export interface UsageReport {
  agreementId: bigint;
  fuelUsed: bigint;
  peakMemoryPages: number;
  wallMs: number;
  outcome: OutcomeCode;
  exitCode: number;
  outputHash: string;
  meteringVersion: number;
  nonce: bigint;
}

/** The EIP-712 type of `UsageReport` (must match `AgreementSettlement.USAGE_REPORT_TYPEHASH`). */
export const USAGE_REPORT_TYPES: Record<string, TypedDataField[]> = {
  UsageReport: [
    { name: "agreementId", type: "uint256" },
    { name: "fuelUsed", type: "uint64" },
    { name: "peakMemoryPages", type: "uint32" },
    { name: "wallMs", type: "uint32" },
    { name: "outcome", type: "uint8" },
    { name: "exitCode", type: "uint32" },
    { name: "outputHash", type: "bytes32" },
    { name: "meteringVersion", type: "uint16" },
    { name: "nonce", type: "uint64" },
  ],
};

/** The consumer's co-signature of a report; `reportHash` is the report's EIP-712 struct hash. */
export const USAGE_ACCEPTANCE_TYPES: Record<string, TypedDataField[]> = {
  UsageAcceptance: [
    { name: "agreementId", type: "uint256" },
    { name: "reportHash", type: "bytes32" },
  ],
};

/** A verifier's re-execution result. */
export const VERDICT_TYPES: Record<string, TypedDataField[]> = {
  Verdict: [
    { name: "agreementId", type: "uint256" },
    { name: "fuelUsed", type: "uint64" },
    { name: "outputHash", type: "bytes32" },
    { name: "meteringVersion", type: "uint16" },
  ],
};
