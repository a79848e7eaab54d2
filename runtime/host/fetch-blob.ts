import { constants, existsSync, readlinkSync } from "node:fs";
import { open } from "node:fs/promises";
import { lookup } from "node:dns/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { fileURLToPath } from "node:url";
import type { ContentStore } from "./content-store.js";
import { normaliseSha256, sha256Hex } from "./sha256.js";
import { confinedPath, forbiddenBy, UriRefused, type UriPolicy } from "./uri-policy.js";

export { UriRefused, type UriPolicy } from "./uri-policy.js";

export interface FetchOptions {
  /** The sha-256 the bytes must have (hex, with or without 0x). */
  sha256: string;
  /** The largest blob accepted, in bytes (enforced while reading, whatever the source declares). */
  maxBytes: number;
  /** Fetched blobs are cached here, and `cas://` URIs resolve here. */
  store: ContentStore;
  /** Where `file:` may read and which addresses http(s) may reach. */
  policy: UriPolicy;
  /** How long a fetch may take in all, redirects included (default 30 s). */
  timeoutMs?: number;
  /** Redirects followed at most (default 5); each target is checked like the first URI. */
  maxRedirects?: number;
  /** Resolves a host name to its addresses (default: the system's resolver, `dns.lookup`). */
  resolveHost?: (host: string) => Promise<ResolvedAddress[]>;
}

export interface ResolvedAddress {
  address: string;
  family: number;
}

const systemResolver = (host: string): Promise<ResolvedAddress[]> => lookup(host, { all: true, verbatim: true });

/** The URI schemes a request may name. */
export const SUPPORTED_SCHEMES = ["http:", "https:", "file:", "cas:"] as const;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Fetches a blob by URI (http(s)://, file://, or cas://<sha256> in the local content store),
 * refuses it when the policy forbids where it points, when it is larger than `maxBytes` or when
 * its sha-256 is not the expected one, and caches it in the store. A blob already in the store is
 * served from there without fetching.
 */
export async function fetchBlob(uri: string, opts: FetchOptions): Promise<Uint8Array> {
  const expected = normaliseSha256(opts.sha256, "expected sha-256");
  const cached = opts.store.get(expected);
  if (cached) return checkSize(cached, opts.maxBytes, uri);

  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new Error(`cannot fetch ${JSON.stringify(uri)}: not a URI`);
  }
  const timeoutMs = opts.timeoutMs ?? 30_000;
  let bytes: Uint8Array;
  switch (url.protocol) {
    case "http:":
    case "https:":
      bytes = await withTimeout(timeoutMs, uri, (signal) => fetchHttp(url, opts, signal));
      break;
    case "file:":
      bytes = await readLocalFile(url, opts);
      break;
    case "cas:":
      throw new Error(`${uri} is not in the local content store`);
    default:
      throw new Error(`cannot fetch ${uri}: scheme ${url.protocol} is not one of ${SUPPORTED_SCHEMES.join(" ")}`);
  }
  const actual = sha256Hex(bytes);
  if (actual !== expected) throw new Error(`hash mismatch for ${uri}: expected sha-256 ${expected}, got ${actual}`);
  await opts.store.putAsync(bytes);
  return bytes;
}

function checkSize(bytes: Uint8Array, maxBytes: number, uri: string): Uint8Array {
  if (bytes.length > maxBytes) throw new Error(`${uri} is ${bytes.length} bytes, over the ${maxBytes}-byte limit`);
  return bytes;
}

/**
 * Reads a `file:` URI confined to the content directories. The file is opened by its real path
 * without following a final symlink and without blocking on a FIFO, must be a regular file, and
 * (where /proc shows it) the opened file is checked again, so a path swapped after the check is
 * still refused.
 */
async function readLocalFile(url: URL, opts: FetchOptions): Promise<Uint8Array> {
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch (error) {
    throw new UriRefused(`${url.href} is refused: ${(error as Error).message}`);
  }
  const real = confinedPath(path, opts.policy);
  const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const proc = `/proc/self/fd/${handle.fd}`;
    if (existsSync(proc)) confinedPath(readlinkSync(proc), opts.policy);
    const stat = await handle.stat();
    if (!stat.isFile()) throw new UriRefused(`${path} is refused: only a regular file can be read`);
    if (stat.size > opts.maxBytes) throw new Error(`${url.href} is ${stat.size} bytes, over the ${opts.maxBytes}-byte limit`);
    // The file may grow after the stat: read at most one byte past the limit.
    const buffer = Buffer.alloc(Math.min(stat.size, opts.maxBytes) + 1);
    let total = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, total, buffer.length - total, total);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > opts.maxBytes) throw new Error(`${url.href} is over the ${opts.maxBytes}-byte limit`);
      if (total === buffer.length) break;
    }
    return new Uint8Array(buffer.buffer, buffer.byteOffset, total);
  } finally {
    await handle.close();
  }
}

/** Runs `work` with an abort signal that fires after `timeoutMs`; a timeout is reported as such. */
async function withTimeout<T>(timeoutMs: number, uri: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    return await work(signal);
  } catch (error) {
    if (signal.aborted) throw new Error(`fetching ${uri} timed out after ${timeoutMs} ms`);
    throw error;
  }
}

/**
 * GETs an http(s) URL, following redirects by hand. Before each request the host name is resolved
 * here and every address is checked; the connection goes to a checked address (the request's own
 * lookup is pinned to it), so a name that resolves differently a moment later changes nothing.
 */
async function fetchHttp(start: URL, opts: FetchOptions, signal: AbortSignal): Promise<Uint8Array> {
  const maxRedirects = opts.maxRedirects ?? 5;
  let url = start;
  for (let hop = 0; ; hop++) {
    const address = await checkedAddress(url, opts.policy, opts.resolveHost ?? systemResolver, signal);
    const response = await get(url, address, signal);
    const status = response.statusCode ?? 0;
    if (REDIRECTS.has(status)) {
      response.destroy();
      const location = response.headers.location;
      if (!location) throw new Error(`GET ${url.href} answered ${status} without a Location`);
      if (hop >= maxRedirects) throw new Error(`GET ${start.href}: more than ${maxRedirects} redirects`);
      const next = new URL(location, url);
      if (next.protocol !== "http:" && next.protocol !== "https:") {
        throw new UriRefused(`${url.href} redirects to ${next.href}: a redirect may lead only to http(s)`);
      }
      url = next;
      continue;
    }
    if (status !== 200) {
      response.destroy();
      throw new Error(`GET ${url.href} answered ${status} ${response.statusMessage ?? ""}`.trimEnd());
    }
    return readBody(response, url, opts.maxBytes);
  }
}

/** The address to connect to for `url`: its host's first address that the policy allows; throws `UriRefused` when none is. */
async function checkedAddress(
  url: URL,
  policy: UriPolicy,
  resolveHost: (host: string) => Promise<ResolvedAddress[]>,
  signal: AbortSignal,
): Promise<ResolvedAddress> {
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  let addresses: ResolvedAddress[];
  if (isIP(host) !== 0) {
    addresses = [{ address: host, family: isIP(host) }];
  } else {
    const aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
    try {
      addresses = await Promise.race([resolveHost(host), aborted]);
    } catch (error) {
      if (signal.aborted) throw error;
      throw new Error(`cannot resolve ${host} (${url.href}): ${(error as Error).message}`);
    }
  }
  const verdicts = addresses.map((a) => ({ ...a, forbidden: forbiddenBy(a.address, policy) }));
  const allowed = verdicts.find((v) => v.forbidden === undefined);
  if (allowed) return { address: allowed.address, family: allowed.family };
  const why = verdicts.map((v) => `${v.address} (${v.forbidden})`).join(", ");
  throw new UriRefused(
    `${url.href} is refused: ${host} is ${why}; http(s) may reach only public addresses unless FETCH_ALLOW_ADDRESSES names them`,
  );
}

/** One GET to `url`, connected to `address` whatever the host name resolves to by then. */
function get(url: URL, pinned: ResolvedAddress, signal: AbortSignal): Promise<IncomingMessage> {
  const lookupPinned = ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  }) as unknown as LookupFunction;
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "GET", agent: false, signal, lookup: lookupPinned, headers: { "accept-encoding": "identity" } });
    req.once("response", resolve);
    req.once("error", reject);
    req.end();
  });
}

/** Reads a response body, aborting as soon as it grows past `maxBytes`. */
async function readBody(response: IncomingMessage, url: URL, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(response.headers["content-length"] ?? "NaN");
  if (declared > maxBytes) {
    response.destroy();
    throw new Error(`${url.href} is ${declared} bytes, over the ${maxBytes}-byte limit`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      response.destroy();
      throw new Error(`${url.href} is over the ${maxBytes}-byte limit`);
    }
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks, total));
}
