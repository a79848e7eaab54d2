/**
 * Builds the workloads from source into runtime/workloads/build/ (gitignored): C with Debian's clang +
 * wasi-libc, AssemblyScript with asc. A workload is rebuilt when its sources or flags change
 * (a stamp file holds their sha-256). Run `npm run build:workloads`; tests and the bench call
 * ensureWorkloads() themselves.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(fileURLToPath(import.meta.url));
export const BUILD_DIR = join(root, "build");

const C_FLAGS = ["--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-Wl,--strip-all", "-Wl,-z,stack-size=1048576"];
const AS_FLAGS = ["-O3", "--runtime", "incremental", "--use", "abort=wasi/abortHandler", "--exportStart", "_start", "--noAssert"];

interface Workload {
  name: string;
  sources: string[];
  build: (out: string) => void;
}

function list(): Workload[] {
  const out: Workload[] = [];
  for (const [dir, prefix] of [["c", ""], ["hostile", "hostile-"]] as const) {
    for (const f of readdirSync(join(root, dir)).filter((x) => x.endsWith(".c")).sort()) {
      const src = join(root, dir, f);
      out.push({
        name: prefix + f.slice(0, -2),
        sources: [src],
        build: (o) => execFileSync("clang", [...C_FLAGS, src, "-o", o], { stdio: "pipe" }),
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
  const h = createHash("sha256").update(JSON.stringify([C_FLAGS, AS_FLAGS]));
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
      try {
        w.build(out);
      } catch (e) {
        const err = e as { stderr?: Buffer; message: string };
        throw new Error(`building workload ${w.name} failed: ${err.stderr?.toString() || err.message}`);
      }
      writeFileSync(stampFile, stamp);
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
