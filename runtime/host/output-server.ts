import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { AccessDenied, checkOutputAccess, SignerCache } from "./output-auth.js";
import type { OutboxEntry } from "./outbox.js";
import { toJson } from "./json.js";
import { ConnectionCounter, RateLimiter } from "./rate-limit.js";

/**
 * How much one client, and everyone together, may ask of the server. Checking a new credential
 * (an ECDSA recovery) is the costly step, so it has its own, smaller budget; a credential seen
 * before is judged from memory. Slow clients are cut off by the timeouts.
 */
export interface ServerLimits {
  /** Open connections in all (beyond it the kernel's backlog waits). */
  maxConnections: number;
  /** Open connections per client address. */
  connectionsPerClient: number;
  /** Report requests per client address held open to wait for the report (`?wait=`). */
  heldPerClient: number;
  /** Requests per second per client address (and the burst). */
  requestsPerSecond: number;
  requestBurst: number;
  /** New signatures checked per second per client address (and the burst). */
  recoveriesPerSecond: number;
  recoveryBurst: number;
  /** New signatures checked per second over all clients. */
  recoveriesPerSecondTotal: number;
  /** A request's headers must arrive within this (slowloris), the whole request within requestTimeoutMs. */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxConnections: 512,
  connectionsPerClient: 64,
  heldPerClient: 32,
  requestsPerSecond: 200,
  requestBurst: 400,
  recoveriesPerSecond: 20,
  recoveryBurst: 60,
  recoveriesPerSecondTotal: 500,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5_000,
};

const SIGNATURE = /^0x[0-9a-fA-F]{130}$/;
/** The longest a report request may wait for the report (below every request timeout). */
const MAX_WAIT_SECONDS = 10;

/** What the output server reads from the host. */
export interface OutputSource {
  chainId: bigint;
  market: string;
  /** The provider this host serves: output credentials name it. */
  provider: string;
  /** The consumer of an agreement this host knows, or undefined. */
  consumerOf(id: bigint): string | undefined;
  /** The agreement's signed report and outputs, once it ran. */
  entry(id: bigint): OutboxEntry | undefined;
  /** A blob of the content store. */
  blob(sha256: string): Uint8Array | undefined;
  /** A note of unavailable content this host reported (by its 0x sha-256), byte for byte. */
  note(sha256: string): Uint8Array | undefined;
  /** Takes the consumer's co-signature of the report; answers with an HTTP status and a message. */
  accept(id: bigint, consumerSignature: string): Promise<{ status: number; message: string }>;
  health(): Record<string, unknown>;
}

/** An HTTP error with a status and a message meant for the caller. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const MAX_BODY_BYTES = 16 * 1024;

/**
 * Serves job outputs to the agreement's consumer, who proves who it is with a short-lived
 * EIP-191 signature (see output-auth.ts), and takes its co-signature of the report.
 *
 *   GET  /health
 *   GET  /agreements/:id/report        the signed usage report (to co-sign or dispute); with ?wait=S (S ≤ 10)
 *                                      a report not yet written is waited for up to S seconds before the 404
 *   GET  /agreements/:id/outputs       the manifest: stdout, stderr, output files (sha-256, size)
 *   GET  /agreements/:id/stdout | /stderr | /files/:name
 *   GET  /agreements/:id/unavailable   an outcome-6 report's note and the failed fetches behind it
 *   GET  /notes/:sha256                the note itself, to anyone (it holds only what the chain says)
 *   POST /agreements/:id/acceptance    {"signature": "0x…"}: the consumer's UsageAcceptance
 */
export class OutputServer {
  private readonly server: Server;
  /** Requests waiting for an agreement's report (`?wait=`), by agreement; and how many each client holds. */
  private readonly waiting = new Map<bigint, Set<() => void>>();
  private readonly heldBy = new Map<string, number>();
  private readonly signers = new SignerCache();
  private readonly limits: ServerLimits;
  private readonly requests: RateLimiter;
  private readonly recoveries: RateLimiter;
  private readonly allRecoveries: RateLimiter;
  private readonly connections: ConnectionCounter;

  constructor(
    private readonly source: OutputSource,
    limits: Partial<ServerLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    const l = this.limits;
    this.requests = new RateLimiter(l.requestsPerSecond, l.requestBurst);
    this.recoveries = new RateLimiter(l.recoveriesPerSecond, l.recoveryBurst);
    this.allRecoveries = new RateLimiter(l.recoveriesPerSecondTotal, l.recoveriesPerSecondTotal, 1);
    this.connections = new ConnectionCounter(l.connectionsPerClient);
    const timeouts = {
      headersTimeout: l.headersTimeoutMs, requestTimeout: l.requestTimeoutMs, keepAliveTimeout: l.keepAliveTimeoutMs,
      // How often the two timeouts above are enforced (Node's default is every 30 s).
      connectionsCheckingInterval: Math.min(1000, l.headersTimeoutMs),
    };
    this.server = createServer(timeouts, (req, res) => {
      this.route(req, res).catch((error: unknown) => {
        const status = error instanceof HttpError || error instanceof AccessDenied ? error.status : 500;
        reply(res, status, { error: error instanceof Error ? error.message : String(error) });
      });
    });
    this.server.maxConnections = l.maxConnections;
    // An idle socket (no request under way) is closed too, whatever it sends or does not.
    this.server.timeout = l.requestTimeoutMs;
    this.server.on("connection", (socket) => {
      const client = socket.remoteAddress ?? "?";
      if (!this.connections.add(client)) {
        socket.destroy();
        return;
      }
      socket.once("close", () => this.connections.remove(client));
    });
  }

  /** Whether `client` may have one more new signature checked now (its budget and everyone's). */
  private mayRecover(client: string): boolean {
    return this.recoveries.take(client) && this.allRecoveries.take("*");
  }

  /** Starts listening; returns the bound port. */
  async listen(port: number, host = "127.0.0.1"): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  /** Tells requests waiting for agreement `id`'s report that it is written. */
  entryWritten(id: bigint): void {
    const waiters = this.waiting.get(id);
    this.waiting.delete(id);
    for (const wake of waiters ?? []) wake();
  }

  async close(): Promise<void> {
    for (const id of [...this.waiting.keys()]) this.entryWritten(id);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const client = req.socket.remoteAddress ?? "?";
    if (!this.requests.take(client)) throw new HttpError(429, "too many requests from this client: slow down");
    const url = new URL(req.url ?? "/", "http://host");
    const method = req.method ?? "GET";
    if (url.pathname === "/health" && method === "GET") return reply(res, 200, this.source.health());
    const noteMatch = /^\/notes\/(0x[0-9a-fA-F]{64})$/.exec(url.pathname);
    if (noteMatch && method === "GET") {
      const bytes = this.source.note(noteMatch[1]!);
      if (!bytes) throw new HttpError(404, `no note ${noteMatch[1]} on this host`);
      res.writeHead(200, { "content-type": "application/json", "content-length": bytes.length });
      return void res.end(bytes);
    }
    const match = /^\/agreements\/(\d{1,78})\/(report|outputs|stdout|stderr|unavailable|acceptance|files\/(.+))$/.exec(url.pathname);
    if (!match) throw new HttpError(404, `no such resource: ${method} ${url.pathname}`);
    const id = BigInt(match[1]!);
    const resource = match[2]!;
    const consumer = this.source.consumerOf(id);
    if (!consumer) throw new HttpError(404, `agreement ${id} is not one of this host's`);

    if (resource === "acceptance") {
      if (method !== "POST") throw new HttpError(405, "acceptance takes POST");
      const body = await readJsonBody(req);
      if (typeof body.signature !== "string" || !SIGNATURE.test(body.signature)) {
        throw new HttpError(400, "the body must be {\"signature\": \"0x…\"} with a 65-byte hex signature");
      }
      // Only a report still waiting for its co-signature is worth a signature check.
      const entry = this.source.entry(id);
      if (!entry) throw new HttpError(409, `agreement ${id} has no report yet: try again once it has run`);
      if (entry.state === "missed") throw new HttpError(410, `agreement ${id} can no longer be reported (${entry.detail ?? "missed"})`);
      if (entry.state !== "pending") throw new HttpError(409, `the report of agreement ${id} is already ${entry.state}: call acceptReport(${id}) from the consumer's account`);
      if (!this.mayRecover(client)) throw new HttpError(429, "too many acceptances from this client: try again in a moment");
      const answer = await this.source.accept(id, body.signature);
      return reply(res, answer.status, answer.status < 400 ? { message: answer.message } : { error: answer.message });
    }
    if (method !== "GET") throw new HttpError(405, `${resource} takes GET`);
    checkOutputAccess(
      req.headers.authorization,
      { chainId: this.source.chainId, market: this.source.market, provider: this.source.provider, consumer },
      Math.floor(Date.now() / 1000),
      this.signers,
      () => this.mayRecover(client),
    );
    const entry = this.source.entry(id) ?? (resource === "report" ? await this.waitForEntry(id, url, req, client) : undefined);
    if (!entry) throw new HttpError(404, `agreement ${id} has not run yet`);
    switch (resource) {
      case "report":
        return reply(res, 200, {
          report: entry.report,
          signature: entry.signature,
          state: entry.state,
          txHash: entry.txHash ?? null,
          cosigned: entry.consumerSignature !== undefined,
        });
      case "outputs":
        return reply(res, 200, this.manifest(entry));
      case "unavailable": {
        if (!entry.unavailable) throw new HttpError(404, `agreement ${id} ran: its content was available`);
        const note = this.source.note(entry.unavailable.note);
        return reply(res, 200, {
          outputHash: entry.report.outputHash,
          note: note ? JSON.parse(new TextDecoder().decode(note)) : null,
          attempts: entry.unavailable.attempts,
        });
      }
      case "stdout":
      case "stderr":
        return this.sendBlob(res, entry.outputs[resource]);
      default: {
        const name = decodePathPart(match[3]!);
        const hash = Object.hasOwn(entry.outputs.files, name) ? entry.outputs.files[name] : undefined;
        if (hash === undefined) throw new HttpError(404, `agreement ${id} has no output file ${JSON.stringify(name)}`);
        return this.sendBlob(res, hash);
      }
    }
  }

  /**
   * Holds a report request with `?wait=S` until the report is written or S seconds pass, instead
   * of the consumer asking again every fraction of a second. A client holds at most
   * `heldPerClient` such requests; beyond them it is answered at once.
   */
  private async waitForEntry(id: bigint, url: URL, req: IncomingMessage, client: string): Promise<OutboxEntry | undefined> {
    const param = url.searchParams.get("wait");
    if (param === null) return undefined;
    const seconds = Number(param);
    if (!Number.isFinite(seconds) || seconds < 0) throw new HttpError(400, `wait must be a number of seconds, not ${JSON.stringify(param)}`);
    const ms = Math.min(seconds, MAX_WAIT_SECONDS) * 1000;
    const held = this.heldBy.get(client) ?? 0;
    if (ms === 0 || held >= this.limits.heldPerClient) return undefined;
    this.heldBy.set(client, held + 1);
    try {
      await new Promise<void>((resolve) => {
        const waiters = this.waiting.get(id) ?? new Set<() => void>();
        this.waiting.set(id, waiters);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(done);
          if (waiters.size === 0 && this.waiting.get(id) === waiters) this.waiting.delete(id);
          req.off("close", done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        waiters.add(done);
        req.once("close", done);
      });
    } finally {
      const left = (this.heldBy.get(client) ?? 1) - 1;
      if (left > 0) this.heldBy.set(client, left);
      else this.heldBy.delete(client);
    }
    return this.source.entry(id);
  }

  private manifest(entry: OutboxEntry) {
    const describe = (hash: string) => ({ sha256: hash, size: this.source.blob(hash)?.length ?? null });
    return {
      stdout: describe(entry.outputs.stdout),
      stderr: describe(entry.outputs.stderr),
      files: Object.fromEntries(Object.entries(entry.outputs.files).map(([name, hash]) => [name, describe(hash)])),
      outputHash: entry.report.outputHash,
    };
  }

  private sendBlob(res: ServerResponse, hash: string): void {
    const bytes = this.source.blob(hash);
    if (!bytes) throw new HttpError(410, `output ${hash} is no longer stored`);
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": bytes.length, "x-sha256": hash });
    res.end(bytes);
  }
}

function decodePathPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new HttpError(400, `malformed percent-encoding in ${JSON.stringify(part)}`);
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = toJson(body);
  res.writeHead(status, { "content-type": "application/json" });
  res.end(text);
}

async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `the body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new HttpError(400, "the body is not a JSON object");
}
