/** Content a request names, published where an agent (and a host) can fetch it: a directory of files, file:// URIs. */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export interface Published {
  /** sha-256 as a bytes32 */
  hash: string;
  uri: string;
}

export function sha256Bytes32(bytes: Uint8Array): string {
  return "0x" + createHash("sha256").update(bytes).digest("hex");
}

/** Writes `bytes` under `dir` as `name`; returns its sha-256 and file:// URI. */
export function publish(dir: string, name: string, bytes: Uint8Array): Published {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return { hash: sha256Bytes32(bytes), uri: pathToFileURL(path).href };
}

/** Request fields naming a module and an input published under `dir`. */
export function contentFields(dir: string, tag: string) {
  const module = publish(dir, `${tag}.wasm`, new TextEncoder().encode(`\0asm module ${tag}`));
  const input = publish(dir, `${tag}.input`, new TextEncoder().encode(`input bundle ${tag}`));
  return { workloadHash: module.hash, workloadURI: module.uri, inputHash: input.hash, inputURI: input.uri };
}
