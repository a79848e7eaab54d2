import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { sha256Hex } from "../../runtime/host/sha256.js";

const source = fileURLToPath(new URL("./fixtures/checksum.c", import.meta.url));

/** Where the built workloads are kept. */
export const WORKLOAD_DIR = join(tmpdir(), "troupe-host-workloads");

/** `CONTENT_DIRS` for a host (or verifier) that reads the workloads and the inputs a test wrote to `dirs`. */
export function contentDirs(...dirs: string[]): string {
  return [WORKLOAD_DIR, ...dirs].join(delimiter);
}

/** Builds the checksum workload from C with Debian's clang + wasi-libc (cached by source hash). */
export function buildChecksumWorkload(): { wasm: Uint8Array; path: string } {
  const key = sha256Hex(readFileSync(source)).slice(0, 16);
  const dir = WORKLOAD_DIR;
  const path = join(dir, `checksum-${key}.wasm`);
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    // Build beside the target and rename, so a concurrent test run never reads a half-written file.
    const partial = `${path}.${process.pid}.tmp`;
    execFileSync("clang", ["--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-o", partial, source], { stdio: "pipe" });
    renameSync(partial, path);
  }
  return { wasm: new Uint8Array(readFileSync(path)), path };
}

/** FNV-1a 64 as the workload computes it, to check its stdout. */
export function fnv1a64(bytes: Uint8Array): string {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, "0");
}
