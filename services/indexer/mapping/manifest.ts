/**
 * The compiled subgraph as graph-cli writes it (`subgraph/build/subgraph.yaml`, the mappings'
 * `.wasm` and the ABIs next to it): what the embedded indexer runs, exactly as a graph-node would.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { EventFragment} from "ethers";
import { Interface, id as keccakText, type InterfaceAbi } from "ethers";
import { parse as parseYaml } from "yaml";

export const DEFAULT_BUILD_MANIFEST = fileURLToPath(new URL("../../../subgraph/build/subgraph.yaml", import.meta.url));

export interface EventHandlerSpec {
  /** The manifest's signature, e.g. `Transfer(indexed address,indexed address,uint256)`. */
  event: string;
  handler: string;
  fragment: EventFragment;
  topic0: string;
  /** Topic filters (specVersion >= 1.2): each a set of accepted topic words, lower-case. */
  topics: (Set<string> | undefined)[];
  receipt: boolean;
}

export interface MappingSpec {
  apiVersion: string;
  file: string;
  wasm: Uint8Array;
  abis: Map<string, Interface>;
  eventHandlers: EventHandlerSpec[];
  blockHandlers: { handler: string; filter?: { kind: string; every?: number } }[];
}

export interface DataSourceSpec {
  kind: string;
  name: string;
  network: string;
  /** Lower-case; undefined for a template. */
  address?: string;
  abi: string;
  startBlock: number;
  endBlock?: number;
  context?: Record<string, { type: string; data: unknown }>;
  mapping: MappingSpec;
}

export interface SubgraphManifest {
  path: string;
  specVersion: string;
  schemaFile: string;
  prune: "never" | "auto" | number;
  dataSources: DataSourceSpec[];
  templates: DataSourceSpec[];
}

type Yaml = Record<string, unknown>;

function fail(path: string, message: string): never {
  throw new Error(`${path}: ${message}`);
}

/** `Name(indexed type,type)` -> the canonical signature and which inputs are indexed. */
function parseSignature(event: string): { canonical: string; indexed: boolean[] } {
  const open = event.indexOf("(");
  const name = event.slice(0, open);
  const body = event.slice(open + 1, -1);
  const params: string[] = [];
  let depth = 0;
  let current = "";
  for (const c of body) {
    if (c === "," && depth === 0) {
      params.push(current);
      current = "";
      continue;
    }
    if (c === "(") depth++;
    if (c === ")") depth--;
    current += c;
  }
  if (current.trim()) params.push(current);
  const indexed = params.map((p) => /^\s*indexed\s+/.test(p));
  return { canonical: `${name}(${params.map((p) => p.replace(/^\s*indexed\s+/, "").trim()).join(",")})`, indexed };
}

function topicFilter(path: string, raw: unknown): Set<string> | undefined {
  if (raw === undefined || raw === null) return undefined;
  const list = Array.isArray(raw) ? raw : [raw];
  return new Set(
    list.map((v) => {
      const text = String(v).toLowerCase();
      if (!/^0x[0-9a-f]{64}$/.test(text)) fail(path, `topic filter ${String(v)} is not a 32-byte hex word`);
      return text;
    }),
  );
}

function loadMapping(path: string, dir: string, owner: string, abiName: string, raw: Yaml): MappingSpec {
  const where = `${path} (${owner})`;
  const apiVersion = String(raw.apiVersion ?? "");
  const [major, minor, patch] = apiVersion.split(".").map(Number);
  if (major !== 0 || minor !== 0 || !(patch! >= 5 && patch! <= 9)) {
    fail(where, `mapping apiVersion ${apiVersion} is not supported (0.0.5 to 0.0.9 are: AssemblyScript >= 0.19 memory layout)`);
  }
  if (raw.language !== "wasm/assemblyscript") fail(where, `mapping language ${String(raw.language)} is not supported`);
  if (Array.isArray(raw.callHandlers) && raw.callHandlers.length) {
    fail(where, "callHandlers need transaction traces, which the embedded indexer does not read; use event handlers");
  }
  const file = resolve(dir, String(raw.file));
  if (!existsSync(file)) fail(where, `mapping file ${file} does not exist: run \`npm run subgraph:build\``);
  const abis = new Map<string, Interface>();
  for (const a of (raw.abis as Yaml[] | undefined) ?? []) {
    const abiFile = resolve(dir, String(a.file));
    let abi: InterfaceAbi;
    try {
      abi = JSON.parse(readFileSync(abiFile, "utf8")) as InterfaceAbi;
    } catch (error) {
      fail(where, `cannot read ABI ${abiFile}: ${(error as Error).message}`);
    }
    abis.set(String(a.name), new Interface(abi));
  }
  const iface = abis.get(abiName) ?? fail(where, `the source ABI ${abiName} is not among the mapping's abis`);
  const eventHandlers = ((raw.eventHandlers as Yaml[] | undefined) ?? []).map((h): EventHandlerSpec => {
    const event = String(h.event);
    const { canonical, indexed } = parseSignature(event);
    let fragment: EventFragment | undefined;
    iface.forEachEvent((f) => {
      if (f.format("sighash") === canonical && f.inputs.every((p, i) => p.indexed === indexed[i])) fragment = f;
    });
    if (!fragment) fail(where, `event ${event} is not in ABI ${abiName} (with these indexed parameters)`);
    return {
      event,
      handler: String(h.handler),
      fragment,
      topic0: keccakText(canonical).toLowerCase(),
      topics: [undefined, topicFilter(where, h.topic1), topicFilter(where, h.topic2), topicFilter(where, h.topic3)],
      receipt: h.receipt === true,
    };
  });
  const blockHandlers = ((raw.blockHandlers as Yaml[] | undefined) ?? []).map((h) => {
    const filter = h.filter as Yaml | undefined;
    if (filter && filter.kind === "call") fail(where, "block handlers with a call filter need transaction traces, which the embedded indexer does not read");
    return { handler: String(h.handler), filter: filter ? { kind: String(filter.kind), every: filter.every === undefined ? undefined : Number(filter.every) } : undefined };
  });
  return { apiVersion, file, wasm: new Uint8Array(readFileSync(file)), abis, eventHandlers, blockHandlers };
}

function loadDataSource(path: string, dir: string, raw: Yaml, template: boolean): DataSourceSpec {
  const name = String(raw.name ?? fail(path, "a data source without a name"));
  const kind = String(raw.kind);
  if (kind !== "ethereum/contract" && kind !== "ethereum") fail(path, `data source ${name}: kind ${kind} is not supported (ethereum only)`);
  const source = (raw.source ?? {}) as Yaml;
  const abi = String(source.abi ?? fail(path, `data source ${name} names no source abi`));
  const address = source.address === undefined ? undefined : String(source.address).toLowerCase();
  if (!template && address !== undefined && !/^0x[0-9a-f]{40}$/.test(address)) fail(path, `data source ${name}: bad address ${address}`);
  return {
    kind,
    name,
    network: String(raw.network ?? ""),
    address,
    abi,
    startBlock: Number(source.startBlock ?? 0),
    endBlock: source.endBlock === undefined ? undefined : Number(source.endBlock),
    context: raw.context as DataSourceSpec["context"],
    mapping: loadMapping(path, dir, name, abi, (raw.mapping ?? {}) as Yaml),
  };
}

/** Reads graph-cli's build output (run `npm run subgraph:build` first). */
export function loadSubgraphManifest(path = DEFAULT_BUILD_MANIFEST): SubgraphManifest {
  if (!existsSync(path)) throw new Error(`no compiled subgraph at ${path}: run \`npm run subgraph:build\` first`);
  const raw = parseYaml(readFileSync(path, "utf8")) as Yaml;
  const dir = dirname(path);
  const hints = (raw.indexerHints ?? {}) as Yaml;
  const prune = hints.prune === undefined || hints.prune === "never" ? "never" : hints.prune === "auto" ? "auto" : Number(hints.prune);
  if (typeof prune === "number" && !(Number.isInteger(prune) && prune > 0)) fail(path, `indexerHints.prune must be never, auto or a block count`);
  return {
    path,
    specVersion: String(raw.specVersion),
    schemaFile: join(dir, String(((raw.schema ?? {}) as Yaml).file ?? "schema.graphql")),
    prune,
    dataSources: ((raw.dataSources as Yaml[] | undefined) ?? []).map((d) => loadDataSource(path, dir, d, false)),
    templates: ((raw.templates as Yaml[] | undefined) ?? []).map((d) => loadDataSource(path, dir, d, true)),
  };
}
