/**
 * Bid explanations, stored off chain as one JSON file per explanation named by its keccak-256
 * hash; the bid carries the hash, so anyone holding the file can check it is the one bid with.
 * Optionally served read-only over HTTP at GET /explanations/<hash>. The same store keeps other
 * content-addressed JSON under another `kind` (the consumer's choices, model updates).
 */
import { createServer, type Server } from "node:http";
import { mkdirSync, readFileSync, existsSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { keccak256, toUtf8Bytes } from "ethers";
import { writeFileAtomic } from "../../runtime/host/atomic-file.js";

const HASH = /^0x[0-9a-f]{64}$/;

/** JSON with bigints as decimal strings, so explanations keep exact wei amounts. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);
}

export class ExplanationStore {
  readonly dir: string;
  /** Temporary names of writes under way are told apart by this count. */
  private writes = 0;

  constructor(
    dataDir: string,
    readonly kind = "explanations",
  ) {
    if (!/^[a-z-]+$/.test(kind)) throw new Error(`a store kind is lower-case letters and dashes, not ${kind}`);
    this.dir = join(dataDir, kind);
    mkdirSync(this.dir, { recursive: true });
  }

  /** Where the file of `hash` is (whether or not it exists). */
  pathOf(hash: string): string {
    const h = hash.toLowerCase();
    if (!HASH.test(h)) throw new Error(`not a content hash: ${hash} (expected 0x + 64 hex digits)`);
    return join(this.dir, `${h}.json`);
  }

  /**
   * Hashes an explanation at once and stores it (atomically) off the event loop: a tick that plans
   * a burst of bids writes their explanations side by side and waits for all of them before the
   * bids go out, instead of blocking on one synchronous write per bid.
   */
  putLater(explanation: unknown): { hash: string; stored: Promise<void> } {
    const { text, hash, file } = this.named(explanation);
    const tmp = `${file}.${process.pid}.${++this.writes}.tmp`;
    const stored = existsSync(file) ? Promise.resolve() : writeFile(tmp, text).then(() => rename(tmp, file));
    // Awaited later, maybe after it failed: it must not count as an unhandled rejection meanwhile.
    stored.catch(() => {});
    return { hash, stored };
  }

  /** Stores an explanation (atomically) and returns the hash a bid references. */
  put(explanation: unknown): string {
    const { text, hash, file } = this.named(explanation);
    // Not fsynced (as before): a bid is sent after this returns, and its explanation is served, not a record of funds.
    if (!existsSync(file)) writeFileAtomic(file, text, { durable: false });
    return hash;
  }

  /** An explanation's canonical text, the hash a bid references, and the file it is stored in. */
  private named(explanation: unknown): { text: string; hash: string; file: string } {
    const text = canonicalJson(explanation);
    const hash = keccak256(toUtf8Bytes(text));
    return { text, hash, file: join(this.dir, `${hash}.json`) };
  }

  /** The explanation's exact stored text, or undefined; throws on a malformed hash. */
  getText(hash: string): string | undefined {
    const file = this.pathOf(hash);
    return existsSync(file) ? readFileSync(file, "utf8") : undefined;
  }

  get(hash: string): unknown {
    const text = this.getText(hash);
    return text === undefined ? undefined : JSON.parse(text);
  }

  /**
   * Serves GET /<kind>/<hash> on `port` (0: any free port) at 127.0.0.1 unless `host` says
   * otherwise, for this store and `others` (each under its own kind).
   */
  async serve(port: number, host = "127.0.0.1", others: readonly ExplanationStore[] = []): Promise<{ server: Server; url: string }> {
    const stores = new Map([this, ...others].map((s) => [s.kind, s]));
    const server = createServer((req, res) => {
      const m = /^\/([a-z-]+)\/(0x[0-9a-fA-F]{64})(?:\.json)?$/.exec(req.url ?? "");
      const store = m ? stores.get(m[1]!) : undefined;
      const text = store && req.method === "GET" ? store.getText(m![2]!) : undefined;
      if (text === undefined) {
        res.writeHead(404, { "content-type": "text/plain" }).end(`no such ${(store?.kind ?? "content").replace(/s$/, "")}\n`);
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end(text);
    });
    await new Promise<void>((resolve) => server.listen(port, host, resolve));
    const address = server.address();
    const bound = typeof address === "object" && address ? address.port : port;
    return { server, url: `http://${host}:${bound}` };
  }
}
