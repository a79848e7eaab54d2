import { id, type TypedDataDomain, type TypedDataField } from "ethers";

/** The EIP-712 domain every report and acceptance is signed under. */
export function marketDomain(chainId: bigint | number, market: string): TypedDataDomain {
  return { name: "Troupe Market", version: "1", chainId, verifyingContract: market };
}

/** The EIP-712 domain a verifier's sealed verdict is committed under (the market's court). */
export function courtDomain(chainId: bigint | number, court: string): TypedDataDomain {
  return { name: "Troupe Court", version: "1", chainId, verifyingContract: court };
}

/** The EIP-712 domain a host key proves possession under (the provider registry). */
export function registryDomain(chainId: bigint | number, registry: string): TypedDataDomain {
  return { name: "Troupe Registry", version: "1", chainId, verifyingContract: registry };
}

/** How a job ended, as a usage report says it (`outcome`). */
export const Outcome = {
  Exited: 0,
  OutOfFuel: 1,
  OutOfMemory: 2,
  StackLimit: 3,
  Trap: 4,
  InvalidModule: 5,
  /** The host could not fetch the consumer's workload or input, or the bytes had another hash. */
  Unavailable: 6,
} as const;
export type OutcomeCode = (typeof Outcome)[keyof typeof Outcome];

/** Human names of the outcome codes, indexed by code. */
export const OUTCOME_NAMES = [
  "exited",
  "out of fuel",
  "out of memory",
  "stack limit",
  "trap",
  "invalid module",
  "content unavailable",
] as const;

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

/** A verifier's sealed verdict for one round of a dispute (must match `DisputeCourt.VERDICT_TYPEHASH`). */
export const VERDICT_TYPES: Record<string, TypedDataField[]> = {
  Verdict: [
    { name: "verifier", type: "address" },
    { name: "agreementId", type: "uint256" },
    { name: "round", type: "uint8" },
    { name: "fuelUsed", type: "uint64" },
    { name: "outputHash", type: "bytes32" },
    { name: "salt", type: "bytes32" },
  ],
};

/** A verdict: what a verifier measured, for one round of one dispute. */
export interface Verdict {
  verifier: string;
  agreementId: bigint;
  round: number;
  fuelUsed: bigint;
  outputHash: string;
  salt: string;
}

/** The output hash a verdict names when the consumer's content could not be fetched (`ClaimKeys.UNAVAILABLE_OUTPUT`). */
export const UNAVAILABLE_OUTPUT = id("troupe.content-unavailable");

/** A host key's proof that it belongs to a provider (must match `ProviderRegistry.HOST_KEY_TYPEHASH`). */
export const HOST_KEY_TYPES: Record<string, TypedDataField[]> = {
  HostKey: [
    { name: "provider", type: "address" },
    { name: "hostKey", type: "address" },
  ],
};
