import { createHash } from "node:crypto";

/** The sha-256 of `bytes` as 64 lowercase hex digits (no 0x). */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Normalises a sha-256 written as hex, with or without 0x, to 64 lowercase digits; throws otherwise. */
export function normaliseSha256(hash: string, what = "hash"): string {
  const hex = hash.startsWith("0x") || hash.startsWith("0X") ? hash.slice(2) : hash;
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new Error(`${what} is not a sha-256 (64 hex digits): ${JSON.stringify(hash)}`);
  return hex.toLowerCase();
}

/** A sha-256 hex as a bytes32 for the chain. */
export function toBytes32(hash: string): string {
  return "0x" + normaliseSha256(hash);
}
