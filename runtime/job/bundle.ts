import { normalizeBundlePath } from "../wasi/memfs.js";
import type { InputBundle } from "./types.js";

/*
 * Canonical input bundle encoding (all integers little-endian u32):
 *   "TRIB" 0x01
 *   args:    count, then per arg: length, UTF-8 bytes
 *   env:     count, then per entry in ascending key order: key length, key, value length, value
 *   stdin:   length, bytes
 *   files:   count, then per file in ascending path order: path length, path, data length, data
 *   outputs: count, then per path in ascending order (no duplicates): length, path
 * Version 2 ("TRIB" 0x02) is used only when the bundle names directories of its own, and adds after outputs:
 *   dirs:    count (> 0), then per path in ascending order (no duplicates): length, path
 * so every bundle without `dirs` keeps its version-1 bytes and hash.
 * Order is JavaScript string order (UTF-16 code units). Decoding rejects anything not in this exact form,
 * so one bundle has exactly one encoding and its sha-256 is the request's inputHash.
 */
const MAGIC = [0x54, 0x52, 0x49, 0x42];
const V1 = 0x01;
const V2 = 0x02;
const utf8 = new TextEncoder();

class Out {
  parts: Uint8Array[] = [];
  u32(n: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n, true);
    this.parts.push(b);
  }
  blob(b: Uint8Array): void {
    this.u32(b.length);
    this.parts.push(b);
  }
  str(s: string): void {
    this.blob(utf8.encode(s));
  }
}

function sortedUnique(xs: string[], what: string): string[] {
  const s = [...xs].sort(compare);
  for (let i = 1; i < s.length; i++) if (s[i] === s[i - 1]) throw new Error(`input bundle: duplicate ${what} "${s[i]}"`);
  return s;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkEnvKey(k: string): void {
  if (k === "" || k.includes("=") || k.includes("\0")) throw new Error(`input bundle: bad environment variable name "${k}"`);
}

export function encodeInputBundle(b: InputBundle): Uint8Array {
  const o = new Out();
  const dirs = sortedUnique(b.dirs ?? [], "directory");
  o.parts.push(new Uint8Array([...MAGIC, dirs.length > 0 ? V2 : V1]));
  o.u32(b.args.length);
  for (const a of b.args) {
    if (a.includes("\0")) throw new Error("input bundle: an argument contains a NUL byte");
    o.str(a);
  }
  const keys = sortedUnique(Object.keys(b.env), "environment variable");
  o.u32(keys.length);
  for (const k of keys) {
    checkEnvKey(k);
    o.str(k);
    o.str(b.env[k]!);
  }
  o.blob(b.stdin);
  const paths = sortedUnique(Object.keys(b.files), "file");
  o.u32(paths.length);
  for (const p of paths) {
    o.str(normalizeBundlePath(p));
    o.blob(b.files[p]!);
  }
  const outputs = sortedUnique(b.outputs, "output");
  o.u32(outputs.length);
  for (const p of outputs) o.str(normalizeBundlePath(p));
  if (dirs.length > 0) {
    o.u32(dirs.length);
    for (const d of dirs) o.str(normalizeBundlePath(d));
  }
  return Buffer.concat(o.parts);
}

export function decodeInputBundle(bytes: Uint8Array): InputBundle {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const need = (n: number, what: string): void => {
    if (pos + n > bytes.length) throw new Error(`input bundle: truncated while reading ${what} at byte ${pos}`);
  };
  const u32 = (what: string): number => {
    need(4, what);
    const n = v.getUint32(pos, true);
    pos += 4;
    return n;
  };
  const blob = (what: string): Uint8Array => {
    const n = u32(what);
    need(n, what);
    const b = bytes.slice(pos, pos + n);
    pos += n;
    return b;
  };
  const str = (what: string): string => {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(blob(what));
    } catch (e) {
      if (e instanceof TypeError) throw new Error(`input bundle: ${what} is not valid UTF-8`);
      throw e;
    }
  };
  const ascending = (prev: string | undefined, next: string, what: string): void => {
    if (prev !== undefined && compare(prev, next) >= 0)
      throw new Error(`input bundle: ${what} are not in strictly ascending order (not canonical)`);
  };

  need(MAGIC.length + 1, "header");
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) throw new Error("input bundle: bad magic or version (expected TRIB v1 or v2)");
  const version = bytes[MAGIC.length];
  if (version !== V1 && version !== V2) throw new Error("input bundle: bad magic or version (expected TRIB v1 or v2)");
  pos = MAGIC.length + 1;
  const args = Array.from({ length: u32("argument count") }, () => str("argument"));
  const env: Record<string, string> = {};
  let prev: string | undefined;
  for (let i = 0, n = u32("environment count"); i < n; i++) {
    const k = str("environment name");
    checkEnvKey(k);
    ascending(prev, k, "environment names");
    env[k] = str("environment value");
    prev = k;
  }
  const stdin = blob("stdin");
  const files: Record<string, Uint8Array> = {};
  prev = undefined;
  for (let i = 0, n = u32("file count"); i < n; i++) {
    const p = normalizeBundlePath(str("file path"));
    ascending(prev, p, "file paths");
    files[p] = blob("file data");
    prev = p;
  }
  const outputs: string[] = [];
  prev = undefined;
  for (let i = 0, n = u32("output count"); i < n; i++) {
    const p = normalizeBundlePath(str("output path"));
    ascending(prev, p, "output paths");
    outputs.push(p);
    prev = p;
  }
  const dirs: string[] = [];
  if (version === V2) {
    prev = undefined;
    const n = u32("directory count");
    if (n === 0) throw new Error("input bundle: version 2 with no directories (not canonical)");
    for (let i = 0; i < n; i++) {
      const p = normalizeBundlePath(str("directory path"));
      ascending(prev, p, "directory paths");
      dirs.push(p);
      prev = p;
    }
  }
  if (pos !== bytes.length) throw new Error(`input bundle: ${bytes.length - pos} trailing bytes`);
  return dirs.length > 0 ? { args, env, stdin, files, outputs, dirs } : { args, env, stdin, files, outputs };
}
