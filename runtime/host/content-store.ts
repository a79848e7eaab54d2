import { readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic, writeFileDurable } from "./atomic-file.js";
import { normaliseSha256, sha256Hex } from "./sha256.js";

/**
 * Blobs on disk addressed by their sha-256: modules, inputs and job outputs. A blob is written
 * atomically and checked again when read, so a torn or tampered file is never served.
 */
export class ContentStore {
  /**
   * `durable: false` for a cache (a matchmaker's checked content): blobs are not fsynced, and one
   * a crash tore fails its check on read and is fetched again.
   */
  constructor(readonly dir: string, private readonly options: { durable?: boolean } = {}) {}

  /** Stores `bytes`; returns their sha-256 (hex). Storing the same bytes twice is a no-op. */
  put(bytes: Uint8Array): string {
    const hash = sha256Hex(bytes);
    if (this.get(hash) === undefined) writeFileAtomic(this.pathOf(hash), bytes, { durable: this.options.durable ?? true });
    return hash;
  }

  /** `put` that does not block the event loop while the blob reaches the disk (a host stores every job's outputs). */
  async putAsync(bytes: Uint8Array): Promise<string> {
    const hash = sha256Hex(bytes);
    if (this.get(hash) !== undefined) return hash;
    if (this.options.durable ?? true) await writeFileDurable(this.pathOf(hash), bytes);
    else writeFileAtomic(this.pathOf(hash), bytes, { durable: false });
    return hash;
  }

  /** The blob with sha-256 `hash`, or undefined when it is missing (or fails its check). */
  get(hash: string): Uint8Array | undefined {
    const key = normaliseSha256(hash);
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.pathOf(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    return sha256Hex(bytes) === key ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : undefined;
  }

  private pathOf(hash: string): string {
    const key = normaliseSha256(hash);
    return join(this.dir, key.slice(0, 2), key);
  }
}
