import Database from "better-sqlite3";
import { existsSync } from "node:fs";
import type { SchemaModel } from "../common/entity-model.js";
import { quote } from "../common/sql-layout.js";
import { QueryCompiler, type CollectionArgs } from "./graphql/sql-query.js";

export type Row = Record<string, unknown>;

const MAX_CACHED_ROWS = 50_000;

export interface IndexedBlock {
  number: number;
  hash: string;
  timestamp: number;
}

/**
 * Read access to the indexer's SQLite file. It is opened read-only: the indexer writes in WAL
 * mode meanwhile, and each query sees the last committed batch.
 */
export class ReadModel {
  readonly db: Database.Database;
  readonly compiler: QueryCompiler;
  private readonly statements = new Map<string, Database.Statement>();
  /** Rows by entity and id, valid while the indexer's checkpoint stays the same. */
  private readonly rows = new Map<string, Row | null>();
  private checkpointText: string | undefined;

  constructor(path: string, readonly schema: SchemaModel) {
    if (!existsSync(path)) throw new Error(`no index database at ${path}: start the indexer first (DB_PATH)`);
    this.db = new Database(path, { readonly: true, fileMustExist: true });
    // Map the file and keep a large page cache: explorer reads hop between random entities.
    this.db.pragma("mmap_size = 2147483648");
    this.db.pragma("cache_size = -131072");
    this.compiler = new QueryCompiler(schema);
  }

  private statement(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /**
   * The indexer's checkpoint as text: it changes whenever a batch is committed (or rolled back),
   * so it versions every cache the explorer keeps. Clears the row cache when it moved.
   */
  version(): string {
    const row = this.statement("SELECT value FROM _meta WHERE key = 'checkpoint'").get() as { value: string } | undefined;
    const text = row?.value ?? "";
    if (text !== this.checkpointText) {
      this.checkpointText = text;
      this.rows.clear();
    }
    return text;
  }

  byId(entity: string, id: string): Row | undefined {
    const key = `${entity}\u0000${id}`;
    let row = this.rows.get(key);
    if (row === undefined) {
      row = (this.statement(`SELECT * FROM ${quote(entity)} WHERE id = ?`).get(id) as Row | undefined) ?? null;
      if (this.rows.size >= MAX_CACHED_ROWS) this.rows.clear();
      this.rows.set(key, row);
    }
    return row ?? undefined;
  }

  list(entity: string, args: CollectionArgs, parent?: { column: string; id: string }): Row[] {
    const { sql, params } = this.compiler.list(entity, args, parent);
    return this.statement(sql).all(...params) as Row[];
  }

  /** The last block the indexer committed, if any. */
  head(): IndexedBlock | undefined {
    const row = this.statement("SELECT value FROM _meta WHERE key = 'checkpoint'").get() as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as IndexedBlock) : undefined;
  }

  /** A name for what is indexed: the market contract's address. */
  deployment(): string {
    const row = this.statement("SELECT value FROM _meta WHERE key = 'deployment'").get() as { value: string } | undefined;
    if (!row) return "troupe";
    const d = JSON.parse(row.value) as { addresses?: { market?: string } };
    return `troupe:${d.addresses?.market ?? "unknown"}`;
  }

  close(): void {
    this.db.close();
  }
}
