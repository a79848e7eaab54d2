import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AddressInfo } from "node:net";
import type { GraphQLError } from "graphql";
import { createYoga, type Plugin } from "graphql-yoga";
import type { SchemaModel } from "../common/entity-model.js";
import { buildExplorerSchema, type ExplorerContext } from "./graphql/build-schema.js";
import { checkQueryLimits, DEFAULT_LIMITS, type QueryLimits } from "./graphql/limits.js";
import { ReadModel } from "./read-model.js";
import { ResponseCache } from "./response-cache.js";
import { FastPath } from "./graphql/fast-path.js";

export interface ExplorerOptions {
  dbPath: string;
  schema: SchemaModel;
  port?: number;
  host?: string;
  limits?: QueryLimits;
}

export interface RunningExplorer {
  url: string;
  server: Server;
  model: ReadModel;
  close(): Promise<void>;
}

const WEB_ROOT = fileURLToPath(new URL("./web/", import.meta.url));
const STATIC: Record<string, string> = {
  "/": "index.html",
  "/app.js": "app.js",
  "/charts.js": "charts.js",
  "/style.css": "style.css",
};
const MAX_BODY_BYTES = 1 << 20;

const MIME: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

/** Refuses too deep or too costly queries before they touch the database. */
function limitsPlugin(limits: QueryLimits): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      try {
        checkQueryLimits(args.schema, args.document, args.operationName, args.variableValues, limits);
      } catch (error) {
        setResultAndStopExecution({ errors: [error as GraphQLError] });
      }
    },
  };
}

async function serveStatic(path: string, res: ServerResponse): Promise<void> {
  const file = STATIC[path]!;
  const body = await readFile(join(WEB_ROOT, file));
  res.writeHead(200, { "content-type": MIME[extname(file)] ?? "application/octet-stream", "cache-control": "no-cache" });
  res.end(body);
}

/** Starts the explorer: The Graph's query API at /graphql (GraphiQL for browsers) and the web page at /. */
export async function startExplorer(options: ExplorerOptions): Promise<RunningExplorer> {
  const model = new ReadModel(options.dbPath, options.schema);
  const schema = buildExplorerSchema(options.schema);
  const limits = options.limits ?? DEFAULT_LIMITS;
  const fastPath = new FastPath(schema, limits);
  const yoga = createYoga<{ req: IncomingMessage; res: ServerResponse }, ExplorerContext>({
    schema,
    graphqlEndpoint: "/graphql",
    graphiql: { title: "Troupe market explorer" },
    landingPage: false,
    logging: false,
    context: () => {
      model.version();
      return { model, loaded: new Map() };
    },
    plugins: [limitsPlugin(limits)],
  });
  const cache = new ResponseCache();

  /** POST /graphql: answered from the cache when the same query ran at the same checkpoint. */
  async function post(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413, { "content-type": "application/json" });
        res.end(JSON.stringify({ errors: [{ message: `the request body exceeds ${MAX_BODY_BYTES} bytes` }] }));
        return;
      }
      chunks.push(chunk);
    }
    const body = Buffer.concat(chunks);
    const accept = String(req.headers.accept ?? "");
    const key = `${accept}\u0000${String(req.headers["content-type"] ?? "")}\u0000${body.toString("utf8")}`;
    const version = model.version();
    let answer = cache.get(version, key);
    if (!answer && String(req.headers["content-type"] ?? "").startsWith("application/json")) {
      // One read transaction for all of the query's statements: one snapshot, one lock.
      const json = model.db.transaction(() => fastPath.run(body.toString("utf8"), { model, loaded: new Map() }))();
      if (json !== undefined) {
        const contentType = accept.includes("application/graphql-response+json")
          ? "application/graphql-response+json; charset=utf-8"
          : "application/json; charset=utf-8";
        answer = { status: 200, contentType, body: Buffer.from(json) };
        cache.set(version, key, answer);
      }
    }
    if (!answer) {
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === "string") headers.set(name, value);
      }
      const response = await yoga.fetch(`http://${req.headers.host ?? "localhost"}${req.url ?? "/graphql"}`, {
        method: "POST",
        headers,
        body,
      });
      answer = {
        status: response.status,
        contentType: response.headers.get("content-type") ?? "application/json",
        body: Buffer.from(await response.arrayBuffer()),
      };
      // Only clean answers are kept: errors may depend on more than the query (e.g. limits).
      if (answer.status === 200 && !answer.body.includes('"errors"')) cache.set(version, key, answer);
    }
    res.writeHead(answer.status, { "content-type": answer.contentType, "content-length": answer.body.length });
    res.end(answer.body);
  }

  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    if (req.method === "POST" && path === "/graphql") {
      post(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ errors: [{ message: `internal error: ${(error as Error).message}` }] }));
      });
      return;
    }
    if (req.method === "GET" && path in STATIC) {
      serveStatic(path, res).catch((error: unknown) => {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end(`cannot read ${path}: ${(error as Error).message}`);
      });
      return;
    }
    void yoga(req, res);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    server,
    model,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      model.close();
    },
  };
}
