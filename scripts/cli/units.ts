import { parseUnits } from "ethers";
import { TIER_NAMES as TIERS } from "../../contracts/client/status.js";

/** A user's mistake on the command line: printed as one line, exit code 2, nothing sent. */
export class UsageError extends Error {}

/** Token amounts in whole tokens with up to 18 decimals ("1.5" → 1.5e18). */
export function parseTokens(text: string, what: string): bigint {
  if (!/^\d+(\.\d{1,18})?$/.test(text)) throw new UsageError(`${what} must be a token amount like 12 or 0.5, not "${text}"`);
  return parseUnits(text, 18);
}

const FUEL_SUFFIX: Record<string, bigint> = { "": 1n, k: 1_000n, m: 1_000_000n, g: 1_000_000_000n, t: 1_000_000_000_000n };

/** Fuel amounts: plain integers or with a k/M/G/T suffix ("500M"). */
export function parseFuel(text: string, what: string): bigint {
  const m = /^(\d+)([kKmMgGtT]?)$/.exec(text);
  if (!m) throw new UsageError(`${what} must be a fuel amount like 1000000 or 500M, not "${text}"`);
  const value = BigInt(m[1]!) * FUEL_SUFFIX[m[2]!.toLowerCase()]!;
  if (value === 0n || value >= 2n ** 64n) throw new UsageError(`${what} must be between 1 and 2^64-1, not ${text}`);
  return value;
}

/** Durations: seconds or with an s/m/h/d suffix ("90s", "10m"). */
export function parseDuration(text: string, what: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(text);
  if (!m) throw new UsageError(`${what} must be a duration like 90, 90s, 10m or 2h, not "${text}"`);
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as "" | "s" | "m" | "h" | "d"];
  return Number(m[1]) * unit;
}

export { TIERS };

/** A tier name or number → its code. */
export function parseTier(text: string): number {
  const index = TIERS.indexOf(text.toLowerCase() as (typeof TIERS)[number]);
  if (index >= 0) return index;
  if (/^[0-2]$/.test(text)) return Number(text);
  throw new UsageError(`tier must be one of ${TIERS.join(", ")}, not "${text}"`);
}

/** A comma-separated tier list ("cloud,edge") or "all" → the request's bitmask. */
export function parseTiers(text: string): number {
  if (text === "all") return 0b111;
  let mask = 0;
  for (const part of text.split(",")) mask |= 1 << parseTier(part.trim());
  return mask;
}

/** A non-negative integer that fits in `bits` bits. */
export function parseInteger(text: string, what: string, bits = 32): number {
  if (!/^\d+$/.test(text) || BigInt(text) >= 2n ** BigInt(bits)) {
    throw new UsageError(`${what} must be a whole number below 2^${bits}, not "${text}"`);
  }
  return Number(text);
}

/** An id (request, agreement, offer). */
export function parseId(text: string | undefined, what: string): bigint {
  if (text === undefined) throw new UsageError(`missing ${what}`);
  if (!/^\d{1,77}$/.test(text) || BigInt(text) === 0n) throw new UsageError(`${what} must be a positive whole number, not "${text}"`);
  return BigInt(text);
}

/** An address. */
export function parseAddress(text: string | undefined, what: string): string {
  if (text === undefined || !/^0x[0-9a-fA-F]{40}$/.test(text)) throw new UsageError(`${what} must be an address (0x + 40 hex digits), not "${text ?? ""}"`);
  return text;
}

/** A chain timestamp (unix seconds) for people: "2026-11-30 19:55:12 UTC (in 4 min)". */
export function formatTime(unixSeconds: number, nowSeconds = Date.now() / 1000): string {
  const text = new Date(unixSeconds * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  const delta = Math.round(unixSeconds - nowSeconds);
  const span = (s: number) => (s < 90 ? `${s} s` : s < 5400 ? `${Math.round(s / 60)} min` : s < 172_800 ? `${Math.round(s / 3600)} h` : `${Math.round(s / 86_400)} days`);
  return `${text} (${delta >= 0 ? `in ${span(delta)}` : `${span(-delta)} ago`})`;
}
