import { GraphQLError } from "graphql";
import type { EntityModel, FieldModel, SchemaModel } from "../../common/entity-model.js";
import { BLOCK_END, BLOCK_START, encodeBigInt, historyTable, quote, versionsAt } from "../../common/sql-layout.js";

/**
 * Compiles The Graph's collection arguments (`where`, `orderBy`, `orderDirection`, `first`,
 * `skip`) into one parameterised SQLite query over the indexer's tables.
 */

export const MAX_FIRST = 1000;
export const MAX_SKIP = 5000;
export const DEFAULT_FIRST = 100;

export type Filter = Record<string, unknown>;

export interface CollectionArgs {
  first?: number | null;
  skip?: number | null;
  where?: Filter | null;
  orderBy?: string | null;
  orderDirection?: "asc" | "desc" | null;
}

/** The block a query reads (undefined: the latest indexed block). */
export type BlockNumber = number | undefined;

/** The filter suffixes and which field kinds take them, as graph-node generates them. */
const EQUALITY = ["", "_not", "_in", "_not_in"];
const ORDERING = ["_gt", "_lt", "_gte", "_lte"];
const TEXT = [
  "_contains", "_contains_nocase", "_not_contains", "_not_contains_nocase",
  "_starts_with", "_starts_with_nocase", "_not_starts_with", "_not_starts_with_nocase",
  "_ends_with", "_ends_with_nocase", "_not_ends_with", "_not_ends_with_nocase",
];

const LIST = ["", "_not", "_contains", "_contains_nocase", "_not_contains", "_not_contains_nocase"];

export function filterSuffixes(f: FieldModel): string[] {
  if (f.list) return LIST;
  switch (f.kind) {
    case "Boolean":
      return EQUALITY;
    case "Int":
    case "Int8":
    case "Timestamp":
    case "BigInt":
    case "BigDecimal":
      return [...EQUALITY, ...ORDERING];
    case "Bytes":
      return [...EQUALITY, ...ORDERING, "_contains", "_not_contains"];
    default:
      return [...EQUALITY, ...ORDERING, ...TEXT];
  }
}

/** Suffixes longest first, so `_not_in` is not read as `_in`. */
const ALL_SUFFIXES = [...new Set([...EQUALITY, ...ORDERING, ...TEXT])].filter((s) => s).sort((a, b) => b.length - a.length);

function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT" } });
}

export class QueryCompiler {
  constructor(private readonly schema: SchemaModel) {}

  entity(name: string): EntityModel {
    const e = this.schema.entities.get(name);
    if (!e) throw new Error(`unknown entity ${name}`);
    return e;
  }

  /** A filter value as its column value. */
  private value(f: FieldModel, v: unknown): unknown {
    if (v === null || v === undefined) return null;
    switch (f.kind) {
      case "Int8":
      case "Timestamp":
      case "BigInt":
        try {
          return encodeBigInt(BigInt(v as string));
        } catch {
          throw badInput(`Invalid BigInt value for ${f.name}: ${JSON.stringify(v)}`);
        }
      case "BigDecimal": {
        const n = Number(v);
        if (!Number.isFinite(n)) throw badInput(`Invalid BigDecimal value for ${f.name}: ${JSON.stringify(v)}`);
        return n;
      }
      case "Boolean":
        return v ? 1 : 0;
      case "Int":
        return Number(v);
      case "Bytes":
        return String(v).toLowerCase();
      default:
        return String(v);
    }
  }

  private column(f: FieldModel, alias: string): string {
    const col = `${alias}.${quote(f.name)}`;
    return f.kind === "BigDecimal" ? `CAST(${col} AS REAL)` : col;
  }

  /** A stored list's filters: equality on the whole list, `_contains` (all given values are elements). */
  private listCondition(f: FieldModel, suffix: string, raw: unknown, alias: string, params: unknown[]): string {
    const col = `${alias}.${quote(f.name)}`;
    if (raw === null) {
      if (suffix === "") return `${col} IS NULL`;
      if (suffix === "_not") return `${col} IS NOT NULL`;
      throw badInput(`${f.name}${suffix} does not take null`);
    }
    if (!Array.isArray(raw)) throw badInput(`${f.name}${suffix} takes a list`);
    const values = raw.map((v) => {
      const c = this.value({ ...f, list: false }, v);
      return typeof c === "string" && (f.kind === "BigInt" || f.kind === "Int8" || f.kind === "Timestamp") ? String(v) : c;
    });
    if (suffix === "" || suffix === "_not") {
      params.push(JSON.stringify(values));
      return `${col} ${suffix === "" ? "=" : "!="} ?`;
    }
    const nocase = suffix.endsWith("_nocase");
    const element = nocase ? "lower(e.value)" : "e.value";
    params.push(JSON.stringify(nocase ? values.map((v) => String(v).toLowerCase()) : values));
    const containsAll = `NOT EXISTS (SELECT 1 FROM json_each(?) w WHERE w.value NOT IN (SELECT ${element} FROM json_each(${col}) e))`;
    return suffix.startsWith("_not") ? `NOT (${containsAll})` : containsAll;
  }

  private condition(f: FieldModel, suffix: string, raw: unknown, alias: string, params: unknown[]): string {
    if (f.list) return this.listCondition(f, suffix, raw, alias, params);
    const col = this.column(f, alias);
    if (suffix === "_in" || suffix === "_not_in") {
      if (!Array.isArray(raw)) throw badInput(`${f.name}${suffix} takes a list`);
      if (raw.length === 0) return suffix === "_in" ? "0" : "1";
      params.push(...raw.map((v) => this.value(f, v)));
      return `${col} ${suffix === "_in" ? "IN" : "NOT IN"} (${raw.map(() => "?").join(", ")})`;
    }
    if (raw === null) {
      if (suffix === "") return `${col} IS NULL`;
      if (suffix === "_not") return `${col} IS NOT NULL`;
      throw badInput(`${f.name}${suffix} does not take null`);
    }
    const ops: Record<string, string> = { "": "=", _not: "!=", _gt: ">", _lt: "<", _gte: ">=", _lte: "<=" };
    if (suffix in ops) {
      params.push(this.value(f, raw));
      return `${col} ${ops[suffix]} ?`;
    }
    // Text matching: contains / starts_with / ends_with, optionally negated and case-insensitive.
    const nocase = suffix.endsWith("_nocase");
    const negated = suffix.startsWith("_not_");
    const kind = suffix.replace("_nocase", "").replace("_not_", "_");
    let needle = String(this.value(f, raw));
    if (f.kind === "Bytes" && kind === "_contains") needle = needle.replace(/^0x/, "");
    const target = nocase ? `lower(${col})` : col;
    if (nocase) needle = needle.toLowerCase();
    let test: string;
    if (kind === "_contains") {
      params.push(needle);
      test = `instr(${target}, ?) > 0`;
    } else if (kind === "_starts_with") {
      params.push(needle.length, needle);
      test = `substr(${target}, 1, ?) = ?`;
    } else if (needle.length === 0) {
      test = "1";
    } else {
      params.push(-needle.length, needle);
      test = `substr(${target}, ?) = ?`;
    }
    return negated ? `NOT (${test})` : test;
  }

  /** The SQL condition of `filter` on `entity` rows aliased `alias` (a nesting depth picks fresh aliases). */
  where(entity: EntityModel, filter: Filter | null | undefined, alias: string, params: unknown[], block: BlockNumber, depth = 0): string {
    if (!filter) return "1";
    if (depth > 8) throw badInput("filters are nested too deeply (at most 8 levels of and/or and nested entity filters)");
    const parts: string[] = [];
    for (const [key, raw] of Object.entries(filter)) {
      if (raw === undefined) continue;
      if (key === "and" || key === "or") {
        if (!Array.isArray(raw)) throw badInput(`${key} takes a list of filters`);
        const subs = raw.map((sub) => `(${this.where(entity, sub as Filter, alias, params, block, depth + 1)})`);
        if (subs.length) parts.push(`(${subs.join(key === "and" ? " AND " : " OR ")})`);
        continue;
      }
      if (key === "_change_block") {
        const gte = (raw as { number_gte?: unknown } | null)?.number_gte;
        if (typeof gte !== "number" || !Number.isInteger(gte)) throw badInput("_change_block takes { number_gte: <block number> }");
        params.push(gte);
        parts.push(`${alias}.${quote(BLOCK_START)} >= ?`);
        continue;
      }
      const nested = key.endsWith("_") ? entity.byName.get(key.slice(0, -1)) : undefined;
      if (nested?.relation) {
        parts.push(this.nested(entity, nested, raw as Filter, alias, params, block, depth));
        continue;
      }
      const suffix = ALL_SUFFIXES.find((s) => key.endsWith(s) && entity.byName.has(key.slice(0, -s.length))) ?? "";
      const field = entity.byName.get(suffix ? key.slice(0, -suffix.length) : key);
      if (!field || field.derivedFrom || !filterSuffixes(field).includes(suffix)) {
        throw badInput(`Type ${entity.name}_filter has no filter ${key}`);
      }
      parts.push(this.condition(field, suffix, raw, alias, params));
    }
    return parts.length ? parts.join(" AND ") : "1";
  }

  /** `provider_: {...}` (a stored relation) or `bids_: {...}` (a derived list: some child matches). */
  private nested(entity: EntityModel, f: FieldModel, filter: Filter, alias: string, params: unknown[], block: BlockNumber, depth: number): string {
    const child = this.entity(f.relation!);
    const inner = `t${depth + 1}`;
    const from = versionsAt(child, block);
    params.push(...from.params);
    if (f.derivedFrom) {
      const cond = this.where(child, filter, inner, params, block, depth + 1);
      return `EXISTS (SELECT 1 FROM ${from.sql} ${inner} WHERE ${inner}.${quote(f.derivedFrom)} = ${alias}."id" AND ${cond})`;
    }
    const cond = this.where(child, filter, inner, params, block, depth + 1);
    if (f.list) {
      return `EXISTS (SELECT 1 FROM json_each(${alias}.${quote(f.name)}) j JOIN ${from.sql} ${inner} ON ${inner}."id" = j.value WHERE ${cond})`;
    }
    return `${alias}.${quote(f.name)} IN (SELECT ${inner}."id" FROM ${from.sql} ${inner} WHERE ${cond})`;
  }

  /** ORDER BY for a field or a `relation__field` of a stored relation; ties break by id. */
  orderBy(entity: EntityModel, orderBy: string | null | undefined, direction: string | null | undefined, alias: string, block: BlockNumber, params: unknown[]): string {
    const dir = direction === "desc" ? "DESC" : "ASC";
    if (!orderBy || orderBy === "id") return `${alias}."id" ${dir}`;
    const [head, nestedName] = orderBy.split("__") as [string, string | undefined];
    const field = entity.byName.get(head);
    if (!field || field.derivedFrom) throw badInput(`cannot order ${entity.name} by ${orderBy}`);
    if (nestedName === undefined) return `${this.column(field, alias)} ${dir}, ${alias}."id" ${dir}`;
    const child = field.relation ? this.entity(field.relation) : undefined;
    const childField = child?.byName.get(nestedName);
    if (!child || !childField || childField.derivedFrom) throw badInput(`cannot order ${entity.name} by ${orderBy}`);
    const from = versionsAt(child, block);
    params.push(...from.params);
    const sub = `(SELECT ${this.column(childField, "o")} FROM ${from.sql} o WHERE o."id" = ${alias}.${quote(field.name)})`;
    return `${sub} ${dir}, ${alias}."id" ${dir}`;
  }

  /**
   * The rows query of a collection, optionally restricted to `parent` (a derived list's owner).
   *
   * At a past block of a mutable entity, the versions valid then are split between the current
   * and the history table. Rather than sort their union, each table gives its own first
   * `skip + first` matches in the query's order (an index with the order's columns, the id and the
   * block range reads them in order and tests the range without touching rows; see QUERY_INDEXES
   * in sql-layout), and only those are merged and cut: every id has at most one version valid at a
   * block, so the page of the union is within the two tables' pages.
   */
  list(
    entityName: string,
    args: CollectionArgs,
    block: BlockNumber,
    parent?: { column: string; id: string },
    fields?: string[],
  ): { sql: string; params: unknown[] } {
    const entity = this.entity(entityName);
    const first = args.first ?? DEFAULT_FIRST;
    const skip = args.skip ?? 0;
    if (!Number.isInteger(first) || first < 0 || first > MAX_FIRST) {
      throw badInput(`The \`first\` argument must be between 0 and ${MAX_FIRST}, but is ${first}`);
    }
    if (!Number.isInteger(skip) || skip < 0 || skip > MAX_SKIP) {
      throw badInput(`The \`skip\` argument must be between 0 and ${MAX_SKIP}, but is ${skip}`);
    }
    if (block !== undefined && !this.readsOtherEntities(entity, args)) return this.pagesAt(entity, args, block, first, skip, parent, fields);
    const from = versionsAt(entity, block);
    const params: unknown[] = [...from.params];
    const where = this.conditions(entity, args, parent, "t0", params, block);
    const order = this.orderBy(entity, args.orderBy, args.orderDirection, "t0", block, params);
    params.push(first, skip);
    const columns = fields ? fields.map((c) => `t0.${quote(c)}`).join(", ") : "t0.*";
    return { sql: `SELECT ${columns} FROM ${from.sql} t0 WHERE ${where} ORDER BY ${order} LIMIT ? OFFSET ?`, params };
  }

  /** A collection's `where` with its parent's restriction, on rows aliased `alias`. */
  private conditions(entity: EntityModel, args: CollectionArgs, parent: { column: string; id: string } | undefined, alias: string, params: unknown[], block: BlockNumber): string {
    const parts: string[] = [];
    if (parent) {
      parts.push(`${alias}.${quote(parent.column)} = ?`);
      params.push(parent.id);
    }
    parts.push(this.where(entity, args.where, alias, params, block));
    return parts.join(" AND ");
  }

  /**
   * Whether a collection's filter or order reads other entities (nested filters, `relation__field`
   * orders): their subqueries would run once per table in `pagesAt`, so such a query at a past
   * block reads the two tables' union instead.
   */
  private readsOtherEntities(entity: EntityModel, args: CollectionArgs): boolean {
    if (args.orderBy?.includes("__")) return true;
    const nested = (filter: unknown): boolean => {
      if (filter === null || typeof filter !== "object") return false;
      if (Array.isArray(filter)) return filter.some(nested);
      return Object.entries(filter as Filter).some(
        ([key, value]) => ((key === "and" || key === "or") && nested(value)) || (key.endsWith("_") && entity.byName.get(key.slice(0, -1))?.relation !== undefined),
      );
    };
    return nested(args.where);
  }

  /** A collection at a past block from each table's own page (see `list`). */
  private pagesAt(
    entity: EntityModel,
    args: CollectionArgs,
    block: number,
    first: number,
    skip: number,
    parent: { column: string; id: string } | undefined,
    fields: string[] | undefined,
  ): { sql: string; params: unknown[] } {
    const params: unknown[] = [];
    // The rows carry the fields asked for and what the merge orders by.
    const read = fields ? [...new Set(["id", ...fields, ...(args.orderBy && entity.byName.has(args.orderBy) ? [args.orderBy] : [])])] : [...entity.stored.map((f) => f.name), BLOCK_START];
    const columns = read.map(quote);
    /** One table's first `skip + first` versions valid at `block` that match, in order: keys from the index, then their rows. */
    const page = (table: string, keys: string[], range: string, rangeParams: number[]): string => {
      params.push(...rangeParams);
      const where = this.conditions(entity, args, parent, "k", params, block);
      const order = this.orderBy(entity, args.orderBy, args.orderDirection, "k", block, params);
      params.push(first + skip);
      const outerKey = keys.length === 1 ? `t0.${quote(keys[0]!)}` : `(${keys.map((c) => `t0.${quote(c)}`).join(", ")})`;
      return (
        `SELECT ${columns.map((c) => `t0.${c}`).join(", ")} FROM ${quote(table)} t0 WHERE ${outerKey} IN ` +
        `(SELECT ${keys.map((c) => `k.${quote(c)}`).join(", ")} FROM ${quote(table)} k WHERE ${range} AND ${where} ORDER BY ${order} LIMIT ?)`
      );
    };
    const arms = [page(entity.name, ["id"], `k.${quote(BLOCK_START)} <= ?`, [block])];
    if (!entity.immutable) {
      arms.push(page(historyTable(entity.name), ["id", BLOCK_END], `k.${quote(BLOCK_END)} > ? AND k.${quote(BLOCK_START)} <= ?`, [block, block]));
    }
    const order = this.orderBy(entity, args.orderBy, args.orderDirection, "t0", block, params);
    params.push(first, skip);
    return { sql: `SELECT * FROM (${arms.join(" UNION ALL ")}) t0 ORDER BY ${order} LIMIT ? OFFSET ?`, params };
  }
}
