/**
 * Builds the subgraph (`npm run subgraph:build`: graph codegen + graph build, offline) when its
 * build output is missing or older than its sources, so the indexer always runs the mappings that
 * are in the tree. A failed build is an error with graph-cli's own output.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const SUBGRAPH = join(ROOT, "subgraph");

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

/** Whether subgraph/build is missing or older than subgraph/src, the schema, the manifest or the contracts' ABIs. */
export function subgraphBuildIsStale(): boolean {
  const built = join(SUBGRAPH, "build", "subgraph.yaml");
  if (!existsSync(built)) return true;
  const sources = Math.max(
    newest(join(SUBGRAPH, "src")),
    newest(join(SUBGRAPH, "schema.graphql")),
    newest(join(SUBGRAPH, "subgraph.yaml")),
    ...["ProviderRegistry", "OfferBook", "TroupeMarket"].map((n) => newest(join(ROOT, "artifacts", "contracts", `${n}.sol`, `${n}.json`))),
  );
  return sources > statSync(built).mtimeMs;
}

export function ensureSubgraphBuilt(log: (message: string) => void): void {
  if (!subgraphBuildIsStale()) return;
  log("building the subgraph (npm run subgraph:build: graph codegen + graph build)…");
  const result = spawnSync("npm", ["run", "--silent", "subgraph:build"], { cwd: ROOT, encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(`npm run subgraph:build failed (exit ${result.status}):\n${(result.stdout ?? "") + (result.stderr ?? "")}`.trimEnd());
  }
}
