/**
 * Bid explanations, stored off chain as one JSON file per explanation named by its keccak-256
 * hash; the bid carries the hash, so anyone holding the file can check it is the one bid with.
 * Optionally served read-only over HTTP at GET /explanations/<hash>.
 */
import { createServer, type Server } from "node:http";
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { keccak256, toUtf8Bytes } from "ethers";

const HASH = /^0x[0-9a-f]{64}$/;

/** JSON with bigints as decimal strings, so explanations keep exact wei amounts. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);
}

export class ExplanationStore {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, "explanations");
    mkdirSync(this.dir, { recursive: true });
  }

  /** Stores an explanation (atomically) and returns the hash a bid references. */
  put(explanation: unknown): string {
    const text = canonicalJson(explanation);
    const hash = keccak256(toUtf8Bytes(text));
    const file = join(this.dir, `${hash}.json`);
    if (!existsSync(file)) {
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, text);
      renameSync(tmp, file);
    }
    return hash;
  }

  /** The explanation's exact stored text, or undefined; throws on a malformed hash. */
  getText(hash: string): string | undefined {
    const h = hash.toLowerCase();
    if (!HASH.test(h)) throw new Error(`not an explanation hash: ${hash} (expected 0x + 64 hex digits)`);
    const file = join(this.dir, `${h}.json`);
    return existsSync(file) ? readFileSync(file, "utf8") : undefined;
  }

  get(hash: string): unknown {
    const text = this.getText(hash);
    return text === undefined ? undefined : JSON.parse(text);
  }

  /** Serves GET /explanations/<hash> on `port` (0: any free port) at 127.0.0.1 unless `host` says otherwise. */
  async serve(port: number, host = "127.0.0.1"): Promise<{ server: Server; url: string }> {
    const server = createServer((req, res) => {
      const m = /^\/explanations\/(0x[0-9a-fA-F]{64})(?:\.json)?$/.exec(req.url ?? "");
      const text = m && req.method === "GET" ? this.getText(m[1]!) : undefined;
      if (text === undefined) {
        res.writeHead(404, { "content-type": "text/plain" }).end("no such explanation\n");
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
