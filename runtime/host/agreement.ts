/** Everything the host needs to run and report one agreement, read from the chain once. */
export interface Agreement {
  agreementId: bigint;
  consumer: string;
  offerId: bigint;
  /** The fuel cap: the job runs with exactly this budget. */
  maxFuel: bigint;
  /** Unix seconds (chain time) by which the report must be on chain. */
  deadline: number;
  /** Memory the job may use, from the request (immutable, so a verifier uses the same limit). */
  memoryMiB: number;
  workloadHash: string;
  workloadURI: string;
  inputHash: string;
  inputURI: string;
  /** The metering version the request fixed (absent in records written before it was kept). */
  meteringVersion?: number;
  /** The block the agreement was created in. */
  blockNumber: number;
}

/** Memory for a request that asked for none: WebAssembly's smallest useful budget. */
export const DEFAULT_MEMORY_MIB = 16;

/** The memory limit an agreement runs under: the request's declared need (or the default). */
export function agreementMemoryMiB(minMemoryMiB: number): number {
  return minMemoryMiB > 0 ? minMemoryMiB : DEFAULT_MEMORY_MIB;
}

/**
 * Where an agreement's input comes from: the request's URI, or the local content store by hash
 * when the request named none (the consumer then hands the bundle to the host out of band).
 */
export function inputLocation(a: Pick<Agreement, "inputURI" | "inputHash">): string {
  return a.inputURI !== "" ? a.inputURI : `cas://${a.inputHash.replace(/^0x/, "")}`;
}
