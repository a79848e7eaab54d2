import type { Signer } from "ethers";
import { outputAccessHeader } from "../../runtime/host/output-auth.js";

/** How long a credential is signed for, and how long before its expiry a new one is signed. */
const LIFETIME_S = 3600;
const RENEW_BEFORE_S = 60;

const credentials = new Map<string, { expiry: number; header: Promise<string> }>();

/**
 * The `Authorization` header with which `consumer` reads its outputs at `provider`'s host. One
 * credential serves all of the consumer's agreements with that host for an hour, so a consumer
 * deploying again and again signs once per host (and the host recovers the signer once).
 */
export function outputCredential(consumer: Signer & { address: string }, chainId: bigint, market: string, provider: string): Promise<string> {
  const key = `${chainId}:${market.toLowerCase()}:${provider.toLowerCase()}:${consumer.address.toLowerCase()}`;
  const nowS = Math.floor(Date.now() / 1000);
  const held = credentials.get(key);
  if (held && held.expiry - RENEW_BEFORE_S > nowS) return held.header;
  const expiry = nowS + LIFETIME_S;
  const header = outputAccessHeader(consumer, chainId, market, provider, expiry);
  credentials.set(key, { expiry, header });
  // A signer that failed is asked again next time rather than remembered.
  header.catch(() => credentials.get(key)?.header === header && credentials.delete(key));
  return header;
}
