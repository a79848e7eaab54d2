import { createHash } from "node:crypto";

/**
 * The job's random seed: sha-256("troupe-seed-v1" || chainId u256 BE || market (20 bytes) || agreementId u256 BE).
 * Every provider and verifier of one agreement derives the same stream.
 */
export function seedFromAgreement(chainId: bigint, market: string, agreementId: bigint): Uint8Array {
  if (!/^0x[0-9a-fA-F]{40}$/.test(market)) throw new Error(`market address "${market}" is not 0x + 40 hex digits`);
  if (chainId < 0n || agreementId < 0n) throw new Error("chainId and agreementId must not be negative");
  const u256 = (n: bigint): Buffer => Buffer.from(n.toString(16).padStart(64, "0"), "hex");
  return new Uint8Array(
    createHash("sha256").update("troupe-seed-v1").update(u256(chainId)).update(Buffer.from(market.slice(2), "hex")).update(u256(agreementId)).digest(),
  );
}
