import { open } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { ContentStore } from "./content-store.js";
import { normaliseSha256, sha256Hex } from "./sha256.js";

export interface FetchOptions {
  /** The sha-256 the bytes must have (hex, with or without 0x). */
  sha256: string;
  /** The largest blob accepted, in bytes. */
  maxBytes: number;
  /** Fetched blobs are cached here, and `cas://` URIs resolve here. */
  store: ContentStore;
  /** How long an http(s) fetch may take. */
  timeoutMs?: number;
}

/** The URI schemes a request may name. */
export const SUPPORTED_SCHEMES = ["http:", "https:", "file:", "cas:"] as const;

/**
 * Fetches a blob by URI (http(s)://, file://, or cas://<sha256> in the local content store),
 * refuses it when it is larger than `maxBytes` or its sha-256 is not the expected one, and caches
 * it in the store. A blob already in the store is served from there without fetching.
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
  let bytes: Uint8Array;
  switch (url.protocol) {
    case "http:":
    case "https:":
      bytes = await fetchHttp(url, opts.maxBytes, opts.timeoutMs ?? 30_000);
      break;
    case "file:":
      bytes = await readLocalFile(fileURLToPath(url), opts.maxBytes);
      break;
    case "cas:":
      throw new Error(`${uri} is not in the local content store`);
    default:
      throw new Error(`cannot fetch ${uri}: scheme ${url.protocol} is not one of ${SUPPORTED_SCHEMES.join(" ")}`);
  }
  const actual = sha256Hex(bytes);
  if (actual !== expected) throw new Error(`hash mismatch for ${uri}: expected sha-256 ${expected}, got ${actual}`);
  opts.store.put(bytes);
  return bytes;
}

function checkSize(bytes: Uint8Array, maxBytes: number, uri: string): Uint8Array {
  if (bytes.length > maxBytes) throw new Error(`${uri} is ${bytes.length} bytes, over the ${maxBytes}-byte limit`);
  return bytes;
}

async function readLocalFile(path: string, maxBytes: number): Promise<Uint8Array> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) throw new Error(`file://${path} is ${size} bytes, over the ${maxBytes}-byte limit`);
    const buffer = Buffer.alloc(size);
    const { bytesRead } = await handle.read(buffer, 0, size, 0);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Streams an http(s) body, aborting as soon as it grows past `maxBytes`. */
async function fetchHttp(url: URL, maxBytes: number, timeoutMs: number): Promise<Uint8Array> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "follow" });
  if (!response.ok) throw new Error(`GET ${url.href} answered ${response.status} ${response.statusText}`);
  const declared = Number(response.headers.get("content-length") ?? "NaN");
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new Error(`${url.href} is ${declared} bytes, over the ${maxBytes}-byte limit`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body?.getReader();
  while (reader) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel();
      throw new Error(`${url.href} is over the ${maxBytes}-byte limit`);
    }
    chunks.push(value);
  }
  return new Uint8Array(Buffer.concat(chunks, total));
}
