import { createHash } from "node:crypto";
import { mkdirSync, renameSync, writeFileSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

/** Where consumers publish modules and inputs for hosts to fetch: a directory, optionally served at a URL. */
export interface ContentLocation {
  dir: string;
  /** The URL prefix under which `dir` is served; without it, URIs are file:// URLs (same machine). */
  baseUrl?: string;
}

export function contentLocation(): ContentLocation {
  return {
    dir: resolve(process.env.TROUPE_CONTENT_DIR ?? ".troupe/content"),
    baseUrl: process.env.TROUPE_CONTENT_BASE_URL?.replace(/\/+$/, ""),
  };
}

/** Stores `bytes` under its sha-256 and returns the hash (0x…) and the URI hosts fetch it from. */
export function publishContent(location: ContentLocation, bytes: Uint8Array): { sha256: string; uri: string } {
  const hex = createHash("sha256").update(bytes).digest("hex");
  mkdirSync(location.dir, { recursive: true });
  const path = join(location.dir, hex);
  if (!existsSync(path)) {
    writeFileSync(`${path}.${process.pid}.tmp`, bytes);
    renameSync(`${path}.${process.pid}.tmp`, path);
  }
  const uri = location.baseUrl ? `${location.baseUrl}/${hex}` : pathToFileURL(path).href;
  return { sha256: `0x${hex}`, uri };
}
