import { verifyMessage, type Signer } from "ethers";

/** The longest an output-access signature may stay valid, so a leaked one soon stops working. */
export const MAX_AUTH_LIFETIME_S = 24 * 3600;

/**
 * The EIP-191 message a consumer signs to read, until `expiry` (unix seconds), the outputs of its
 * agreements with one provider's host. The scope is the host, not one agreement: a consumer with
 * many agreements there signs once and the host recovers the signer once (a credential per
 * agreement made every deployment cost an ECDSA signature and recovery). Naming the provider keeps
 * a host from replaying the credential at another host.
 */
export function outputAccessMessage(chainId: bigint, market: string, provider: string, expiry: number): string {
  return `troupe-output:${chainId}:${market.toLowerCase()}:${provider.toLowerCase()}:${expiry}`;
}

/** The `Authorization` header value a consumer sends to `provider`'s host: `Troupe <expiry>:<signature>`. */
export async function outputAccessHeader(
  consumer: Signer,
  chainId: bigint,
  market: string,
  provider: string,
  expiry: number,
): Promise<string> {
  const signature = await consumer.signMessage(outputAccessMessage(chainId, market, provider, expiry));
  return `Troupe ${expiry}:${signature}`;
}

/**
 * Why access was refused: 401 when the credential is missing, malformed or expired; 403 for the
 * wrong signer; 429 when the client has sent too many new credentials to check just now.
 */
export class AccessDenied extends Error {
  constructor(
    readonly status: 401 | 403 | 429,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Signers recovered from recent credentials. A consumer waiting for its outputs sends the same
 * header on every poll, and recovering the signer is the costly part of a check (the message,
 * and so the signer, is fixed by the header's text; expiry is still checked on every request).
 */
export class SignerCache {
  private readonly signers = new Map<string, string>();
  constructor(private readonly capacity = 4096) {}

  /**
   * The signer of `signature` over `message`. A credential seen before costs a map lookup; a new
   * one is recovered only if `mayRecover()` allows it (the caller's per-client budget), else 429.
   * Wrong signers are remembered too, so repeating a bad credential is as cheap as a good one.
   */
  recover(message: string, signature: string, mayRecover: () => boolean = () => true): string {
    const key = `${message}|${signature}`;
    let signer = this.signers.get(key);
    if (signer === undefined) {
      if (!mayRecover()) throw new AccessDenied(429, "too many new credentials from this client: try again in a moment");
      signer = verifyMessage(message, signature);
      if (this.signers.size >= this.capacity) this.signers.delete(this.signers.keys().next().value!);
      this.signers.set(key, signer);
    }
    return signer;
  }
}

/** Checks an `Authorization` header against the agreement's consumer and this host's provider; throws AccessDenied. */
export function checkOutputAccess(
  header: string | undefined,
  expected: { chainId: bigint; market: string; provider: string; consumer: string },
  nowSeconds: number,
  signers: SignerCache = new SignerCache(1),
  mayRecover?: () => boolean,
): void {
  if (!header) throw new AccessDenied(401, "missing Authorization header: send `Troupe <expiry>:<signature>`");
  const match = /^Troupe (\d{1,12}):(0x[0-9a-fA-F]{130})$/.exec(header.trim());
  if (!match) throw new AccessDenied(401, "malformed Authorization header: expected `Troupe <expiry>:<65-byte hex signature>`");
  const expiry = Number(match[1]);
  if (expiry <= nowSeconds) throw new AccessDenied(401, `the signature expired at ${expiry} (now ${nowSeconds})`);
  if (expiry > nowSeconds + MAX_AUTH_LIFETIME_S) {
    throw new AccessDenied(401, `the signature's expiry ${expiry} is more than ${MAX_AUTH_LIFETIME_S}s ahead`);
  }
  const message = outputAccessMessage(expected.chainId, expected.market, expected.provider, expiry);
  let signer: string;
  try {
    signer = signers.recover(message, match[2]!, mayRecover);
  } catch (error) {
    if (error instanceof AccessDenied) throw error;
    throw new AccessDenied(401, "the signature cannot be recovered");
  }
  if (signer.toLowerCase() !== expected.consumer.toLowerCase()) {
    throw new AccessDenied(403, `signed by ${signer}, not by the agreement's consumer`);
  }
}
