/**
 * Builds the workloads from source into runtime/workloads/build/ (gitignored), with real toolchains
 * and as they emit them (nothing is re-encoded afterwards): C with Debian's clang + wasi-libc, C++
 * with clang++ + libc++ (libc++-dev-wasm32), Rust with Debian's rustc + libstd-rust-dev-wasm32
 * (target wasm32-wasi, called wasm32-wasip1 by newer compilers), AssemblyScript with asc. A workload
 * is rebuilt when its sources or flags change (a stamp file holds their sha-256). Run
 * `npm run build:workloads`; tests and the bench call ensureWorkloads() themselves.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(fileURLToPath(import.meta.url));
export const BUILD_DIR = join(root, "build");

const C_FLAGS = ["--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-Wl,--strip-all", "-Wl,-z,stack-size=1048576"];
// C++ and Rust binaries keep their `name` section: the runtime must carry custom sections through.
const CXX_FLAGS = ["--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-fno-exceptions", "-Wl,-z,stack-size=1048576"];
const RUST_FLAGS = ["--edition", "2021", "-O", "-C", "debuginfo=0", "-C", "strip=debuginfo"];

/** Debian's rustc (/usr/bin/rustc) unless TROUPE_RUSTC names another; a rustup toolchain may lack the wasm target. */
function rustc(): string {
  return process.env.TROUPE_RUSTC || (existsSync("/usr/bin/rustc") ? "/usr/bin/rustc" : "rustc");
}

let rustTargetCache: string | undefined;
/** wasm32-wasi (Debian's rustc 1.63) or wasm32-wasip1 (what rustc calls it from 1.78 on). */
function rustTarget(): string {
  if (!rustTargetCache) {
    const targets = execFileSync(rustc(), ["--print", "target-list"], { encoding: "utf8" }).split("\n");
    rustTargetCache = targets.includes("wasm32-wasip1") ? "wasm32-wasip1" : "wasm32-wasi";
  }
  return rustTargetCache;
}
const AS_FLAGS = ["-O3", "--runtime", "incremental", "--use", "abort=wasi/abortHandler", "--exportStart", "_start", "--noAssert"];

interface Workload {
  name: string;
  sources: string[];
  build: (out: string) => void;
}

function list(): Workload[] {
  const out: Workload[] = [];
  for (const [dir, prefix] of [["c", ""], ["hostile", "hostile-"], ["conformance", "conformance-c-"]] as const) {
    for (const f of readdirSync(join(root, dir)).filter((x) => x.endsWith(".c")).sort()) {
      const src = join(root, dir, f);
      out.push({
        name: prefix + f.slice(0, -2),
        sources: [src],
        build: (o) => execFileSync("clang", [...C_FLAGS, src, "-o", o], { stdio: "pipe" }),
      });
    }
  }
  for (const f of readdirSync(join(root, "cpp")).filter((x) => x.endsWith(".cpp")).sort()) {
    const src = join(root, "cpp", f);
    out.push({
      name: "cpp-" + f.slice(0, -4),
      sources: [src],
      build: (o) => execFileSync("clang++", [...CXX_FLAGS, src, "-o", o], { stdio: "pipe" }),
    });
  }
  for (const [dir, prefix] of [["rust", "rust-"], ["conformance", "conformance-rust-"]] as const) {
    for (const f of readdirSync(join(root, dir)).filter((x) => x.endsWith(".rs") && x !== "common.rs").sort()) {
      const src = join(root, dir, f);
      const common = join(root, "rust", "common.rs");
      out.push({
        name: prefix + f.slice(0, -3),
        sources: dir === "rust" ? [src, common] : [src],
        build: (o) => execFileSync(rustc(), [...RUST_FLAGS, "--target", rustTarget(), src, "-o", o], { stdio: "pipe" }),
      });
    }
  }
  const asDir = join(root, "as");
  const asc = createRequire(import.meta.url).resolve("assemblyscript/bin/asc.js");
  for (const f of readdirSync(asDir).filter((x) => x.endsWith(".ts") && x !== "wasi.ts").sort()) {
    out.push({
      name: "as-" + f.slice(0, -3),
      sources: [join(asDir, f), join(asDir, "wasi.ts")],
      build: (o) => execFileSync(process.execPath, [asc, f, ...AS_FLAGS, "-o", o], { cwd: asDir, stdio: "pipe" }),
    });
  }
  return out;
}

function stampOf(w: Workload): string {
  const h = createHash("sha256").update(JSON.stringify([C_FLAGS, CXX_FLAGS, RUST_FLAGS, AS_FLAGS]));
  for (const s of w.sources) h.update(readFileSync(s));
  return h.digest("hex");
}

/** Builds what is missing or stale; returns name -> path of every workload's .wasm. */
export function ensureWorkloads(): Record<string, string> {
  mkdirSync(BUILD_DIR, { recursive: true });
  const paths: Record<string, string> = {};
  for (const w of list()) {
    const out = join(BUILD_DIR, `${w.name}.wasm`);
    const stampFile = out + ".stamp";
    const stamp = stampOf(w);
    if (!existsSync(out) || !existsSync(stampFile) || readFileSync(stampFile, "utf8") !== stamp) {
      // Built under a name of this process's own, then renamed into place: test files running in
      // parallel processes may build the same workload at once, and none may read a half-written one.
      const part = join(BUILD_DIR, `${w.name}.${process.pid}.part.wasm`);
      try {
        w.build(part);
      } catch (e) {
        rmSync(part, { force: true });
        const err = e as { stderr?: Buffer; message: string };
        throw new Error(`building workload ${w.name} failed: ${err.stderr?.toString() || err.message}`);
      }
      renameSync(part, out);
      writeFileSync(`${stampFile}.${process.pid}`, stamp);
      renameSync(`${stampFile}.${process.pid}`, stampFile);
    }
    paths[w.name] = out;
  }
  return paths;
}

/** The bytes of one built workload. */
export function workload(name: string): Uint8Array {
  const paths = ensureWorkloads();
  const p = paths[name];
  if (!p) throw new Error(`no workload named ${name}`);
  return new Uint8Array(readFileSync(p));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t0 = performance.now();
  const built = ensureWorkloads();
  console.log(`${Object.keys(built).length} workloads in ${BUILD_DIR} (${Math.round(performance.now() - t0)} ms)`);
}
