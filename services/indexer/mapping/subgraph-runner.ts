/**
 * Runs the compiled subgraph over blocks of logs the way graph-node does: each log of a watched
 * contract that a data source has a handler for is decoded and handed to that handler in the
 * data source's mapping; block handlers run for their blocks. A handler that fails
 * deterministically (an abort, a trap, a handler that runs out of its step budget: wasm-fuel.ts) is
 * skipped with its changes discarded, logged ("Handler skipped due to
 * execution failure") and recorded as an indexing error of its block (graph-node's non-fatal
 * errors); the other handlers go on.
 */
import type { EventFragment } from "ethers";
import type { SchemaModel } from "../../common/entity-model.js";
import type { EntityStore } from "../entity-store.js";
import type { Db } from "../database.js";
import { DeterministicError } from "./asc-heap.js";
import { decodeEventParams } from "./abi-values.js";
import { EntityValues } from "./entity-values.js";
import { writeBlockTrigger, writeEventTrigger, type BlockData, type ReceiptData, type TransactionData } from "./ethereum-trigger.js";
import { LogLevel, type ChainReader, type EntityData, type MappingStore } from "./host-exports.js";
import type { DataSourceSpec, EventHandlerSpec, SubgraphManifest } from "./manifest.js";
import { MappingInstance } from "./mapping-instance.js";
import type { StoreValue } from "./asc-values.js";

/** The fields of an RPC log the indexer reads. */
export interface RawLog {
  address: string;
  topics: readonly string[];
  data: string;
  blockNumber: number;
  blockHash: string;
  transactionHash: string;
  transactionIndex?: number;
  index: number;
}

/** One block to apply: its header, its logs in order, and the transactions they came from. */
export interface BlockInput {
  block: BlockData;
  logs: RawLog[];
  transactions?: Map<string, TransactionData>;
  receipts?: Map<string, ReceiptData>;
}

export interface IndexingError {
  block: number;
  handler: string;
  message: string;
}

export interface RunnerOptions {
  warn: (message: string) => void;
  /** Mapping log lines (log.info & co), with their level. */
  mappingLog?: (level: LogLevel, message: string) => void;
  chain?: ChainReader;
  /** The steps one handler may take before it is stopped as failed (default: wasm-fuel.ts's DEFAULT_HANDLER_STEPS). */
  handlerSteps?: number;
}

interface RunningSource {
  spec: DataSourceSpec;
  address: string;
  context: EntityData;
  instance: MappingInstance;
  byTopic: Map<string, EventHandlerSpec[]>;
}

const LEVEL_NAMES = ["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"];

export class SubgraphRunner {
  private readonly values: EntityValues;
  private readonly sources: RunningSource[] = [];
  private readonly byAddress = new Map<string, RunningSource[]>();
  private current: { source: RunningSource; block: BlockData } | undefined;
  private errors: IndexingError[] = [];
  private created: { template: string; address: string; params: string[]; context: EntityData | null; block: number; source: RunningSource }[] = [];

  constructor(
    readonly manifest: SubgraphManifest,
    readonly store: EntityStore,
    schema: SchemaModel,
    private readonly options: RunnerOptions,
  ) {
    this.values = new EntityValues(store.layouts);
    for (const spec of manifest.dataSources) {
      if (!spec.address) throw new Error(`${manifest.path}: data source ${spec.name} has no address`);
      this.addSource(spec, spec.address, contextOf(spec));
    }
    for (const row of store.db.prepare("SELECT template, address, params, context FROM _data_sources ORDER BY seq").all() as {
      template: string;
      address: string;
      context: string | null;
    }[]) {
      this.addTemplateSource(row.template, row.address, row.context ? (reviveContext(row.context)) : []);
    }
  }

  private addTemplateSource(template: string, address: string, context: EntityData): RunningSource {
    const spec = this.manifest.templates.find((t) => t.name === template);
    if (!spec) throw new DeterministicError(`dataSource.create: the subgraph has no template named ${template}`);
    return this.addSource(spec, address.toLowerCase(), context);
  }

  private addSource(spec: DataSourceSpec, address: string, context: EntityData): RunningSource {
    const source: RunningSource = {
      spec,
      address,
      context,
      byTopic: new Map(),
      instance: new MappingInstance(spec.name, spec.mapping.wasm, {
        store: this.mappingStore(),
        log: (level, message) => this.mappingLog(level, message),
        chain: this.options.chain,
        dataSource: () => {
          const c = this.current ?? { source, block: { number: 0, hash: "0x", timestamp: 0 } };
          return { address: c.source.address, network: c.source.spec.network, context: c.source.context, blockNumber: c.block.number };
        },
        createDataSource: (template, params, ctx) => this.createDataSource(template, params, ctx),
      }, this.options.handlerSteps),
    };
    for (const h of spec.mapping.eventHandlers) {
      const list = source.byTopic.get(h.topic0) ?? [];
      list.push(h);
      source.byTopic.set(h.topic0, list);
    }
    this.sources.push(source);
    const list = this.byAddress.get(address) ?? [];
    list.push(source);
    this.byAddress.set(address, list);
    return source;
  }

  private removeSource(source: RunningSource): void {
    this.sources.splice(this.sources.indexOf(source), 1);
    const list = (this.byAddress.get(source.address) ?? []).filter((s) => s !== source);
    if (list.length) this.byAddress.set(source.address, list);
    else this.byAddress.delete(source.address);
  }

  /** The contract addresses to read logs from. */
  addresses(): string[] {
    return [...this.byAddress.keys()];
  }

  /** The lowest start block of any data source. */
  startBlock(): number {
    return Math.min(...this.manifest.dataSources.map((d) => d.startBlock));
  }

  /** Whether any handler needs each block (block handlers), not only blocks with logs. */
  needsEveryBlock(): boolean {
    return this.sources.some((s) => s.spec.mapping.blockHandlers.length > 0);
  }

  /** Whether handlers of this log want the transaction receipt. */
  wantsReceipt(log: RawLog): boolean {
    return (this.byAddress.get(log.address.toLowerCase()) ?? []).some((s) =>
      (s.byTopic.get((log.topics[0] ?? "").toLowerCase()) ?? []).some((h) => h.receipt),
    );
  }

  private mappingLog(level: LogLevel, message: string): void {
    const c = this.current;
    const where = c ? ` (data source ${c.source.spec.name}, block ${c.block.number})` : "";
    if (this.options.mappingLog) this.options.mappingLog(level, message + where);
    else if (level <= LogLevel.WARNING) this.options.warn(`mapping ${LEVEL_NAMES[level]}: ${message}${where}`);
  }

  private mappingStore(): MappingStore {
    const store = this.store;
    const values = this.values;
    return {
      get: (heap, entity, id) => {
        const layout = values.layout(entity);
        const fields = store.fields(entity, id);
        return fields ? values.write(heap, layout, fields) : 0;
      },
      getInBlock: (heap, entity, id) => {
        const layout = values.layout(entity);
        const fields = store.writtenInBlock(entity, id) ? store.fields(entity, id) : undefined;
        return fields ? values.write(heap, layout, fields) : 0;
      },
      loadRelated: (heap, entity, id, field) => {
        const f = values.layout(entity).model.byName.get(field);
        if (!f?.derivedFrom || !f.relation) throw new DeterministicError(`Entity ${entity}: field \`${field}\` is not a @derivedFrom field`);
        const related = values.layout(f.relation);
        return store.related(f.relation, f.derivedFrom, id).map((fields) => values.write(heap, related, fields));
      },
      set: (heap, entity, id, data) => {
        const fields = values.read(heap, data, entity, id, values.defines(entity) ? store.fields(entity, id) : undefined);
        try {
          store.setFields(entity, id, fields);
        } catch (error) {
          throw new DeterministicError((error as Error).message);
        }
      },
      remove: (entity, id) => {
        values.layout(entity);
        try {
          store.remove(entity, id);
        } catch (error) {
          throw new DeterministicError((error as Error).message);
        }
      },
    };
  }

  private createDataSource(template: string, params: string[], context: EntityData | null): void {
    const address = params[0];
    if (!address || !/^0x[0-9a-fA-F]{40}$/.test(address)) throw new DeterministicError(`dataSource.create(${template}): the first parameter must be an address, got ${address}`);
    const block = this.current?.block.number ?? 0;
    const source = this.addTemplateSource(template, address, context ?? []);
    this.created.push({ template, address: address.toLowerCase(), params, context, block, source });
  }

  /** Runs one handler, recording a failure as an indexing error. Returns whether it succeeded. */
  private run(source: RunningSource, block: BlockData, handler: string, describe: () => string, write: Parameters<MappingInstance["invoke"]>[1]): boolean {
    this.current = { source, block };
    const createdBefore = this.created.length;
    try {
      this.store.applyLog(() => source.instance.invoke(handler, write));
      return true;
    } catch (error) {
      // The handler's data sources go with its other changes.
      for (const c of this.created.splice(createdBefore)) this.removeSource(c.source);
      const message = (error as Error).message;
      if (!(error instanceof DeterministicError)) throw error; // a host fault: the batch is retried
      this.errors.push({ block: block.number, handler, message: `${message} in handler \`${handler}\` at block #${block.number} (${block.hash}), ${describe()}` });
      this.options.warn(`Handler skipped due to execution failure, handler: ${handler}, error: ${message}, block: ${block.number} (${block.hash}), ${describe()}`);
      return false;
    } finally {
      this.current = undefined;
    }
  }

  /** Applies one block; returns how many handlers ran successfully. */
  processBlock(input: BlockInput): number {
    const { block } = input;
    this.store.beginBlock({ number: block.number, hash: block.hash, parentHash: block.parentHash, timestamp: block.timestamp });
    let applied = 0;
    const perTx = new Map<string, number>();
    for (const log of input.logs) {
      const txIndex = perTx.get(log.transactionHash) ?? 0;
      perTx.set(log.transactionHash, txIndex + 1);
      const sources = this.byAddress.get(log.address.toLowerCase());
      if (!sources) continue;
      const topic0 = (log.topics[0] ?? "").toLowerCase();
      for (const source of sources) {
        const { spec } = source;
        if (block.number < spec.startBlock || (spec.endBlock !== undefined && block.number > spec.endBlock)) continue;
        for (const h of source.byTopic.get(topic0) ?? []) {
          if (!h.topics.every((set, i) => !set || set.has((log.topics[i] ?? "").toLowerCase()))) continue;
          const describe = () => `log ${log.index} of tx ${log.transactionHash} from ${log.address} (${spec.name}.${h.fragment.name})`;
          let params;
          try {
            params = decodeEventParams(h.fragment as EventFragment, log.topics, log.data);
          } catch (error) {
            this.options.warn(`skipping ${describe()} in block ${block.number}: cannot decode it as ${spec.name}.${h.fragment.name} (${(error as Error).message})`);
            continue;
          }
          const transaction = input.transactions?.get(log.transactionHash) ?? { hash: log.transactionHash, transactionIndex: log.transactionIndex };
          const trigger = {
            address: log.address,
            logIndex: log.index,
            transactionLogIndex: txIndex,
            block,
            transaction,
            params,
            receipt: h.receipt ? input.receipts?.get(log.transactionHash) : undefined,
          };
          if (this.run(source, block, h.handler, describe, (heap) => writeEventTrigger(heap, trigger, spec.mapping.apiVersion))) applied++;
        }
      }
    }
    for (const source of this.sources) {
      const { spec } = source;
      if (block.number < spec.startBlock || (spec.endBlock !== undefined && block.number > spec.endBlock)) continue;
      for (const bh of spec.mapping.blockHandlers) {
        const f = bh.filter;
        if (f?.kind === "once" && block.number !== spec.startBlock) continue;
        if (f?.kind === "polling" && (block.number - spec.startBlock) % (f.every ?? 1) !== 0) continue;
        if (this.run(source, block, bh.handler, () => `block handler of ${spec.name}`, (heap) => writeBlockTrigger(heap, block, spec.mapping.apiVersion))) applied++;
      }
    }
    return applied;
  }

  /** Whether a handler of this batch created a data source (its contract's logs are not read yet). */
  createdSources(): boolean {
    return this.created.length > 0;
  }

  /** Writes the batch's indexing errors and created data sources (call inside the store's flush). */
  persist(db: Db): void {
    const insertError = db.prepare("INSERT INTO _errors (block, handler, message, deterministic) VALUES (?, ?, ?, 1)");
    for (const e of this.errors) insertError.run(e.block, e.handler, e.message);
    const insertSource = db.prepare("INSERT INTO _data_sources (template, address, params, context, block) VALUES (?, ?, ?, ?, ?)");
    for (const c of this.created) {
      insertSource.run(c.template, c.address, JSON.stringify(c.params), c.context ? JSON.stringify(c.context, contextReplacer) : null, c.block);
    }
    this.errors = [];
    this.created = [];
  }

  /** Forgets the batch's errors and data sources (a failed or reverted batch). */
  discard(): void {
    for (const c of this.created) this.removeSource(c.source);
    this.errors = [];
    this.created = [];
  }
}

function contextReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return { $bigint: value.toString() };
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString("hex") };
  return value;
}

function reviveContext(text: string): EntityData {
  return JSON.parse(text, (_key, value: unknown) => {
    if (value && typeof value === "object" && "$bigint" in value) return BigInt((value as { $bigint: string }).$bigint);
    if (value && typeof value === "object" && "$bytes" in value) return Uint8Array.from(Buffer.from((value as { $bytes: string }).$bytes, "hex"));
    return value;
  }) as EntityData;
}

/** A manifest data source's `context:` as entity data. */
function contextOf(spec: DataSourceSpec): EntityData {
  const out: [string, StoreValue][] = [];
  for (const [name, { type, data }] of Object.entries(spec.context ?? {})) {
    switch (type) {
      case "Bool":
        out.push([name, { kind: 3, value: Boolean(data) }]);
        break;
      case "Int":
        out.push([name, { kind: 1, value: Number(data) }]);
        break;
      case "BigInt":
        out.push([name, { kind: 7, value: BigInt(String(data)) }]);
        break;
      case "Bytes":
        out.push([name, { kind: 6, value: Uint8Array.from(Buffer.from(String(data).replace(/^0x/, ""), "hex")) }]);
        break;
      default:
        out.push([name, { kind: 0, value: String(data) }]);
    }
  }
  return out;
}
