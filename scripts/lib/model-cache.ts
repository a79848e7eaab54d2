import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const SOURCES = "services/matchmaker";

/**
 * Where the matchmaker's bootstrap model is cached (.troupe/models): the file is named after the
 * matchmaker's sources, so a change to its features, simulator or training never reuses a stale
 * model. Agents then retrain their own copy online from the live market.
 */
export function cachedModelPath(): { dir: string; file: string } {
  const hash = createHash("sha256");
  for (const name of readdirSync(SOURCES).filter((n) => n.endsWith(".ts")).sort()) {
    hash.update(name).update(readFileSync(join(SOURCES, name)));
  }
  const dir = resolve(".troupe/models");
  return { dir, file: join(dir, `matchmaker-${hash.digest("hex").slice(0, 16)}.json`) };
}
