import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AddressInfo } from "node:net";
import { renderGraphiQL } from "@graphql-yoga/render-graphiql";
import type { SchemaModel } from "../common/entity-model.js";
import { DEFAULT_LIMITS, type QueryLimits } from "./graphql/limits.js";
import { ClientLimits, DEFAULT_CLIENT_LIMITS, type ClientLimitOptions } from "./client-limits.js";
import { QueryPool } from "./query-pool.js";
import { ReadModel } from "./read-model.js";
import { ResponseCache } from "./response-cache.js";

export interface ExplorerOptions {
  dbPath: string;
  schema: SchemaModel;
  port?: number;
  host?: string;
  limits?: Partial<QueryLimits>;
  clientLimits?: Partial<ClientLimitOptions>;
  /** Query worker threads (default 2). */
  workers?: number;
  /** Bytes of cached answers (default 64 MiB). */
  cacheBytes?: number;
  /** Open connections in all (default 1024). */
  maxConnections?: number;
  /** How long a client may take to send a request's headers (default 10 s; slow senders are cut off). */
  headersTimeoutMs?: number;
}

export interface RunningExplorer {
  url: string;
  server: Server;
  model: ReadModel;
  cache: ResponseCache;
  close(): Promise<void>;
}

const WEB_ROOT = fileURLToPath(new URL("./web/", import.meta.url));
const STATIC: Record<string, string> = {
  "/": "index.html",
  "/app.js": "app.js",
  "/charts.js": "charts.js",
  "/style.css": "style.css",
};
const MAX_BODY_BYTES = 256 * 1024;

const MIME: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

function sendJson(res: ServerResponse, status: number, body: string | Buffer, contentType = "application/json; charset=utf-8"): void {
  const buffer = typeof body === "string" ? Buffer.from(body) : body;
  res.writeHead(status, { "content-type": contentType, "content-length": buffer.length });
  res.end(buffer);
}

function errorJson(message: string, code: string): string {
  return JSON.stringify({ errors: [{ message, extensions: { code } }] });
}

/**
 * Starts the explorer: The Graph's query API at /graphql (GraphiQL for browsers, served from the
 * npm package, no CDN) and the web page at /. Queries run on worker threads with time, size and
 * cost limits, fairly shared between clients; the main thread answers repeated queries from a
 * cache and sheds floods (per-client connection and rate limits, server timeouts, a connection cap).
 */
export async function startExplorer(options: ExplorerOptions): Promise<RunningExplorer> {
  const model = new ReadModel(options.dbPath, options.schema);
  const limits: QueryLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const clients = new ClientLimits({ ...DEFAULT_CLIENT_LIMITS, ...options.clientLimits });
  const pool = new QueryPool({
    dbPath: options.dbPath,
    schemaSource: options.schema.source,
    limits,
    size: options.workers ?? 2,
    maxPerClient: clients.options.maxConnectionsPerClient * 2,
    maxQueued: 4096,
    maxWaitMs: Math.max(1_000, limits.timeoutMs * 2),
  });
  await pool.ready();
  const cache = new ResponseCache(options.cacheBytes);
  const graphiql = Buffer.from(renderGraphiQL({ title: "Troupe market explorer", endpoint: "/graphql" } as Parameters<typeof renderGraphiQL>[0]));

  function readBody(req: IncomingMessage): Promise<Buffer | string> {
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > MAX_BODY_BYTES) return Promise.resolve(`the request body is ${declared} bytes, more than the maximum of ${MAX_BODY_BYTES}`);
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          req.off("data", onData);
          req.off("end", onEnd);
          req.pause(); // the rest is not read: the answer closes the connection
          resolve(`the request body exceeds the maximum of ${MAX_BODY_BYTES} bytes`);
          return;
        }
        chunks.push(chunk);
      };
      const onEnd = () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      req.on("data", onData);
      req.once("end", onEnd);
      req.once("error", reject);
    });
  }

  /**
   * The index's version, read once per turn of the event loop: the requests read in one turn
   * arrived together, so none of them can have been sent after seeing an answer given in it.
   */
  let turnVersion: string | undefined;
  const currentVersion = (): string => {
    if (turnVersion === undefined) {
      turnVersion = model.version();
      setImmediate(() => (turnVersion = undefined));
    }
    return turnVersion;
  };

  async function graphql(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const client = req.socket.remoteAddress ?? "unknown";
    if (!clients.take(client)) {
      res.setHeader("retry-after", "1");
      sendJson(res, 429, errorJson(`too many requests from ${client}: at most ${clients.options.requestsPerSecond} per second`, "TOO_MANY_REQUESTS"));
      return;
    }
    let body: string;
    if (req.method === "POST") {
      const type = String(req.headers["content-type"] ?? "");
      if (!/^application\/(json|graphql-response\+json)/.test(type)) {
        sendJson(res, 415, errorJson(`send the query as JSON (content-type: application/json), not ${type || "no content type"}`, "BAD_REQUEST"));
        return;
      }
      const raw = await readBody(req);
      if (typeof raw === "string") {
        res.setHeader("connection", "close");
        sendJson(res, 413, errorJson(raw, "REQUEST_TOO_LARGE"));
        return;
      }
      body = raw.toString("utf8");
    } else {
      const params = url.searchParams;
      let variables: unknown;
      try {
        variables = params.has("variables") ? JSON.parse(params.get("variables")!) : undefined;
      } catch {
        sendJson(res, 400, errorJson("the `variables` parameter is not valid JSON", "BAD_REQUEST"));
        return;
      }
      body = JSON.stringify({ query: params.get("query"), variables, operationName: params.get("operationName") ?? undefined });
    }
    const accept = String(req.headers.accept ?? "");
    const contentType = accept.includes("application/graphql-response+json")
      ? "application/graphql-response+json; charset=utf-8"
      : "application/json; charset=utf-8";
    const version = currentVersion();
    const hit = cache.get(version, body);
    if (hit) {
      sendJson(res, hit.status, hit.body, contentType);
      return;
    }
    const answer = await pool.run(client, body);
    if (answer.cacheable) cache.set(version, body, { status: answer.status, contentType, body: answer.body });
    if (answer.status === 429 || answer.status === 503) res.setHeader("retry-after", "1");
    sendJson(res, answer.status, answer.body, contentType);
  }

  async function serveStatic(path: string, res: ServerResponse): Promise<void> {
    const file = STATIC[path]!;
    const body = await readFile(join(WEB_ROOT, file));
    res.writeHead(200, { "content-type": MIME[extname(file)] ?? "application/octet-stream", "cache-control": "no-cache" });
    res.end(body);
  }

  const headersTimeout = options.headersTimeoutMs ?? 10_000;
  const server = createServer({ connectionsCheckingInterval: Math.min(1_000, headersTimeout), headersTimeout, requestTimeout: Math.max(30_000, headersTimeout) }, (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    const fail = (error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, errorJson(`internal error: ${(error as Error).message}`, "INTERNAL"));
      else res.destroy();
    };
    if (path === "/graphql") {
      const wantsPage = req.method === "GET" && !url.searchParams.has("query") && String(req.headers.accept ?? "").includes("text/html");
      if (wantsPage) {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-length": graphiql.length, "cache-control": "no-cache" });
        res.end(graphiql);
        return;
      }
      if (req.method === "POST" || req.method === "GET") {
        graphql(req, res, url).catch(fail);
        return;
      }
      res.setHeader("allow", "GET, POST");
      sendJson(res, 405, errorJson(`use GET or POST for /graphql, not ${req.method}`, "METHOD_NOT_ALLOWED"));
      return;
    }
    if (req.method === "GET" && path in STATIC) {
      serveStatic(path, res).catch(fail);
      return;
    }
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
    res.end(`no page at ${path}: the explorer is at / and the GraphQL API at /graphql\n`);
  });
  server.keepAliveTimeout = 15_000;
  server.timeout = 60_000;
  server.maxConnections = options.maxConnections ?? 1024;
  server.on("connection", (socket) => clients.admit(socket));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    server,
    model,
    cache,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.close();
      model.close();
    },
  };
}
