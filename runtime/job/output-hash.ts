import { createHash } from "node:crypto";

/*
 * outputHash = sha-256 of:
 *   "troupe-output-v1"
 *   u64 LE stdout length, stdout bytes
 *   u32 LE number of declared outputs, then per output path in ascending order:
 *     u32 LE path length, UTF-8 path, u8 1 if the file exists (then u64 LE length, bytes) or u8 0
 * stderr is not part of it: diagnostics may change without changing the result.
 */
export function outputHash(stdout: Uint8Array, declared: string[], outputs: Record<string, Uint8Array>): string {
  const h = createHash("sha256");
  h.update("troupe-output-v1");
  const u64 = Buffer.alloc(8);
  const u32 = Buffer.alloc(4);
  u64.writeBigUInt64LE(BigInt(stdout.length));
  h.update(u64).update(stdout);
  const names = [...new Set(declared)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  u32.writeUInt32LE(names.length);
  h.update(u32);
  for (const name of names) {
    const nb = Buffer.from(name, "utf8");
    u32.writeUInt32LE(nb.length);
    h.update(u32).update(nb);
    const data = outputs[name];
    if (data) {
      u64.writeBigUInt64LE(BigInt(data.length));
      h.update(Buffer.from([1])).update(u64).update(data);
    } else h.update(Buffer.from([0]));
  }
  return "0x" + h.digest("hex");
}
