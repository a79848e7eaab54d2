import type { ContentPart } from "./job-content.js";

/** One failed try to obtain a part of the job: kept for inspection, never hashed. */
export interface FetchAttempt {
  what: ContentPart;
  uri: string;
  /** ISO time of the try. */
  at: string;
  error: string;
}

/**
 * The host's note of what it could not obtain, whose sha-256 is the `outputHash` of its outcome-6
 * report. It holds only what the chain says (chain, market, agreement, and the URI and sha-256
 * the request named for each missing part), so it is the same whoever writes it and whenever:
 * errors, times and addresses, which differ from one try (or one host) to the next, are kept
 * beside it as `FetchAttempt`s. Verifiers do not compare it: a dispute of an outcome-6 report is
 * judged on "content unavailable" itself (`ClaimKeys.unavailable()`, `UNAVAILABLE_OUTPUT`).
 */
export interface UnavailableNote {
  kind: "troupe.content-unavailable/1";
  chainId: string;
  market: string;
  agreementId: string;
  unavailable: { what: ContentPart; uri: string; sha256: string }[];
}

export function unavailableNote(
  chainId: bigint,
  market: string,
  agreementId: bigint,
  missing: { what: ContentPart; uri: string; sha256: string }[],
): UnavailableNote {
  const parts = [...missing].sort((a, b) => (a.what < b.what ? -1 : a.what > b.what ? 1 : 0));
  return {
    kind: "troupe.content-unavailable/1",
    chainId: chainId.toString(),
    market: market.toLowerCase(),
    agreementId: agreementId.toString(),
    unavailable: parts.map((p) => ({ what: p.what, uri: p.uri, sha256: p.sha256.toLowerCase() })),
  };
}

/** JSON with object keys sorted at every level and no whitespace: one text per value. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "bigint") return JSON.stringify(value.toString());
    if (value === undefined || typeof value === "function") throw new Error("canonical JSON has no undefined or functions");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/** The note's exact bytes: their sha-256 is the report's `outputHash`. */
export function encodeNote(note: UnavailableNote): Uint8Array {
  return new TextEncoder().encode(canonicalJson(note));
}
