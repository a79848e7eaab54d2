import Database from "better-sqlite3";
import { existsSync } from "node:fs";
import { GraphQLError } from "graphql";
import type { SchemaModel } from "../common/entity-model.js";
import { BLOCK_END, BLOCK_START, historyTable, quote } from "../common/sql-layout.js";
import { QueryCompiler, type BlockNumber, type CollectionArgs } from "./graphql/sql-query.js";

export type Row = Record<string | symbol, unknown>;

/** The block a row was read at (undefined: latest), carried to the resolvers of its fields. */
export const ROW_BLOCK = Symbol("block");

interface Bookkeeping {
  head: IndexedBlock | undefined;
  earliest: number;
  firstError: number | undefined;
}

export interface IndexedBlock {
  number: number;
  hash: string;
  timestamp: number;
  parentHash?: string | null;
}

/** What one query may still spend: rows read and time. */
export interface QueryBudget {
  rowsLeft: number;
  deadline: number;
}

export function budgetError(message: string, code: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code } });
}

/**
 * Read access to the indexer's SQLite file, at the latest block or any past one. It is opened
 * read-only: the indexer writes in WAL mode meanwhile, and each query sees the last committed batch.
 */
export class ReadModel {
  readonly db: Database.Database;
  readonly compiler: QueryCompiler;
  private readonly statements = new Map<string, Database.Statement>();
  /** Within `read`: what was already read of the index's bookkeeping (one snapshot, so it cannot change). */
  private memo: Map<string, unknown> | undefined;
  private readonly inTransaction: (fn: () => unknown) => unknown;
  /** The last checkpoint read, as text and parsed. */
  private parsed: { text: string; head: IndexedBlock } | undefined;

  constructor(path: string, readonly schema: SchemaModel) {
    if (!existsSync(path)) throw new Error(`no index database at ${path}: start the indexer first (DB_PATH)`);
    this.db = new Database(path, { readonly: true, fileMustExist: true });
    // Map the file and keep a large page cache: explorer reads hop between random entities.
    this.db.pragma("mmap_size = 2147483648");
    this.db.pragma("cache_size = -131072");
    this.compiler = new QueryCompiler(schema);
    this.inTransaction = this.db.transaction((fn: () => unknown) => fn());
  }

  /**
   * Runs `fn` in one read transaction: all of its statements see one snapshot of the index, and
   * the checkpoint, earliest block and error blocks are read once however many fields ask.
   */
  read<T>(fn: () => T): T {
    this.memo = new Map();
    try {
      return this.inTransaction(fn) as T;
    } finally {
      this.memo = undefined;
    }
  }

  private remember<T>(key: string, load: () => T): T {
    if (!this.memo) return load();
    if (this.memo.has(key)) return this.memo.get(key) as T;
    const value = load();
    this.memo.set(key, value);
    return value;
  }

  private statement(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** The indexer's checkpoint as text: it changes whenever a batch is committed or reverted. */
  version(): string {
    const row = this.statement("SELECT value FROM _meta WHERE key = 'checkpoint'").get() as { value: string } | undefined;
    return row?.value ?? "";
  }

  private spend(budget: QueryBudget | undefined, rows: number): void {
    if (!budget) return;
    budget.rowsLeft -= rows;
    if (budget.rowsLeft < 0) {
      throw budgetError("the query reads more entities than the server allows: ask for fewer (first) or nest less", "QUERY_TOO_LARGE");
    }
    if (performance.now() > budget.deadline) {
      throw budgetError("the query ran out of time: ask for fewer entities, use simpler filters, or nest less", "QUERY_TIMEOUT");
    }
  }

  byId(entity: string, id: string, block: BlockNumber, budget?: QueryBudget): Row | undefined {
    this.spend(budget, 1);
    const e = this.schema.entities.get(entity)!;
    let row: Row | undefined;
    if (block === undefined) {
      row = this.statement(`SELECT * FROM ${quote(entity)} WHERE id = ?`).get(id) as Row | undefined;
    } else {
      row = this.statement(`SELECT * FROM ${quote(entity)} WHERE id = ? AND ${quote(BLOCK_START)} <= ?`).get(id, block) as Row | undefined;
      if (!row && !e.immutable) {
        row = this.statement(
          `SELECT * FROM ${quote(historyTable(entity))} WHERE id = ? AND ${quote(BLOCK_END)} > ? AND ${quote(BLOCK_START)} <= ? ORDER BY ${quote(BLOCK_END)} LIMIT 1`,
        ).get(id, block, block) as Row | undefined;
      }
    }
    if (row) row[ROW_BLOCK] = block;
    return row;
  }

  /** A collection's rows; `fields`: the stored fields to read (default all). */
  list(entity: string, args: CollectionArgs, block: BlockNumber, parent?: { column: string; id: string }, budget?: QueryBudget, fields?: string[]): Row[] {
    const { sql, params } = this.compiler.list(entity, args, block, parent, fields);
    const rows = this.statement(sql).all(...params) as Row[];
    this.spend(budget, rows.length);
    for (const r of rows) r[ROW_BLOCK] = block;
    return rows;
  }

  /**
   * The index's bookkeeping in one statement (every query needs it, and each statement is a few
   * microseconds of a query's budget): the checkpoint, the earliest block kept and the first block
   * with an indexing error. Read once per `read`; the parsed checkpoint is kept while its text is
   * the same.
   */
  private bookkeeping(): Bookkeeping {
    return this.remember("bookkeeping", () => {
      const row = this.statement(
        "SELECT (SELECT value FROM _meta WHERE key = 'checkpoint') AS checkpoint, (SELECT value FROM _meta WHERE key = 'earliestBlock') AS earliest, (SELECT min(block) FROM _errors) AS firstError",
      ).get() as { checkpoint: string | null; earliest: string | null; firstError: number | null };
      if (row.checkpoint !== this.parsed?.text) this.parsed = row.checkpoint === null ? undefined : { text: row.checkpoint, head: JSON.parse(row.checkpoint) as IndexedBlock };
      return { head: this.parsed?.head, earliest: row.earliest === null ? 0 : Number(JSON.parse(row.earliest)), firstError: row.firstError ?? undefined };
    });
  }

  /** The last block the indexer committed, if any. */
  head(): IndexedBlock | undefined {
    return this.bookkeeping().head;
  }

  /** The oldest block whose state is kept (history before it was pruned). */
  earliest(): number {
    return this.bookkeeping().earliest;
  }

  blockByNumber(number: number): IndexedBlock | undefined {
    return this.statement("SELECT number, hash, timestamp, parentHash FROM _blocks WHERE number = ?").get(number) as IndexedBlock | undefined;
  }

  blockByHash(hash: string): IndexedBlock | undefined {
    return this.statement("SELECT number, hash, timestamp, parentHash FROM _blocks WHERE hash = ?").get(hash.toLowerCase()) as IndexedBlock | undefined;
  }

  /** The first block with an indexing error at or before `block` (undefined: none): the first of all, if it is not after `block`. */
  firstErrorBlock(block: number): number | undefined {
    const first = this.bookkeeping().firstError;
    return first !== undefined && first <= block ? first : undefined;
  }

  /** A name for what is indexed: the market contract's address. */
  deployment(): string {
    const row = this.statement("SELECT value FROM _meta WHERE key = 'deployment'").get() as { value: string } | undefined;
    if (!row) return "troupe";
    const d = JSON.parse(row.value) as { addresses?: Record<string, string> };
    return `troupe:${d.addresses?.TroupeMarket ?? d.addresses?.market ?? Object.values(d.addresses ?? {})[0] ?? "unknown"}`;
  }

  close(): void {
    this.db.close();
  }
}
