import {
  GraphQLBoolean,
  GraphQLEnumType,
  GraphQLError,
  GraphQLID,
  GraphQLInputObjectType,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  Kind,
  type GraphQLFieldConfig,
  type GraphQLFieldConfigArgumentMap,
  type GraphQLInputFieldConfigMap,
  type GraphQLInputType,
  type GraphQLOutputType,
  type GraphQLResolveInfo,
  type GraphQLScalarType,
} from "graphql";
import type { EntityModel, FieldModel, ScalarKind, SchemaModel } from "../../common/entity-model.js";
import { bigIntText } from "../../common/sql-layout.js";
import { ROW_BLOCK, type QueryBudget, type ReadModel, type Row } from "../read-model.js";
import { BigDecimalScalar, BigIntScalar, BytesScalar, Int8Scalar, TimestampScalar } from "./scalars.js";
import { DEFAULT_FIRST, filterSuffixes, type BlockNumber, type CollectionArgs } from "./sql-query.js";

/** Per-request state: the read model, the entities already loaded by id, what the query may still spend. */
export interface ExplorerContext {
  model: ReadModel;
  loaded: Map<string, Row | null>;
  budget?: QueryBudget;
  /** Errors that go with the data (subgraphError: allow on a subgraph with indexing errors). */
  extraErrors?: GraphQLError[];
}

interface BlockArg {
  number?: number | null;
  hash?: string | null;
  number_gte?: number | null;
}

const SCALAR_TYPES: Record<ScalarKind, GraphQLScalarType> = {
  ID: GraphQLID,
  String: GraphQLString,
  Bytes: BytesScalar,
  Int: GraphQLInt,
  BigInt: BigIntScalar,
  BigDecimal: BigDecimalScalar,
  Boolean: GraphQLBoolean,
  Int8: Int8Scalar,
  Timestamp: TimestampScalar,
};

const lowerFirst = (s: string) => s[0]!.toLowerCase() + s.slice(1);

/** graph-node's plural field names; a name that is already plural gets `_collection`. */
export function pluralFieldName(entity: string): string {
  const singular = lowerFirst(entity);
  if (/s$/.test(singular)) return `${singular}_collection`;
  if (/[^aeiou]y$/.test(singular)) return `${singular.slice(0, -1)}ies`;
  return `${singular}s`;
}

const OrderDirection = new GraphQLEnumType({
  name: "OrderDirection",
  values: { asc: { value: "asc" }, desc: { value: "desc" } },
});

const BlockHeight = new GraphQLInputObjectType({
  name: "Block_height",
  description: "The block to query at: by `number` or `hash`, or the latest block at or after `number_gte`.",
  fields: { hash: { type: BytesScalar }, number: { type: GraphQLInt }, number_gte: { type: GraphQLInt } },
});

const BlockChangedFilter = new GraphQLInputObjectType({
  name: "BlockChangedFilter",
  fields: { number_gte: { type: new GraphQLNonNull(GraphQLInt) } },
});

const SubgraphErrorPolicy = new GraphQLEnumType({
  name: "_SubgraphErrorPolicy_",
  values: { allow: { value: "allow" }, deny: { value: "deny" } },
});

const MetaBlock = new GraphQLObjectType({
  name: "_Block_",
  fields: {
    hash: { type: BytesScalar },
    number: { type: new GraphQLNonNull(GraphQLInt) },
    timestamp: { type: GraphQLInt },
    parentHash: { type: BytesScalar },
  },
});

const Meta = new GraphQLObjectType({
  name: "_Meta_",
  description: "The indexing status: the last block the indexer committed.",
  fields: {
    block: { type: new GraphQLNonNull(MetaBlock) },
    deployment: { type: new GraphQLNonNull(GraphQLString) },
    hasIndexingErrors: { type: new GraphQLNonNull(GraphQLBoolean) },
  },
});

/** A stored column value as the GraphQL value of its field. */
function outputValue(f: FieldModel, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (f.list) return JSON.parse(value as string) as unknown[];
  if (f.kind === "BigInt" || f.kind === "Int8" || f.kind === "Timestamp") return bigIntText(value as string);
  if (f.kind === "Boolean") return value === 1;
  return value;
}

/**
 * The block a top-level field reads, as graph-node resolves `block:` (undefined: the latest
 * indexed block). Unknown hashes and blocks not indexed yet are errors that say so.
 */
function resolveBlock(ctx: ExplorerContext, block: BlockArg | undefined | null): { number: BlockNumber; at: number } {
  const head = ctx.model.head()?.number ?? -1;
  if (!block) return { number: undefined, at: head };
  if (block.hash != null) {
    const b = ctx.model.blockByHash(block.hash);
    if (!b) throw new GraphQLError(`Failed to decode \`block.hash\` value: no block with hash ${block.hash} has been indexed`, { extensions: { code: "BLOCK_NOT_FOUND" } });
    return checkNumber(ctx, b.number, head, "hash");
  }
  if (block.number != null) return checkNumber(ctx, block.number, head, "number");
  if (block.number_gte != null && block.number_gte > head) {
    throw new GraphQLError(
      `Failed to decode \`block.number_gte\` value: subgraph has only indexed up to block number ${head} and data for block number ${block.number_gte} is therefore not yet available`,
      { extensions: { code: "BLOCK_NOT_INDEXED" } },
    );
  }
  return { number: undefined, at: head };
}

function checkNumber(ctx: ExplorerContext, n: number, head: number, how: string): { number: BlockNumber; at: number } {
  if (n > head) {
    throw new GraphQLError(
      `Failed to decode \`block.${how}\` value: subgraph has only indexed up to block number ${head} and data for block number ${n} is therefore not yet available`,
      { extensions: { code: "BLOCK_NOT_INDEXED" } },
    );
  }
  const earliest = ctx.model.earliest();
  if (n < earliest) {
    throw new GraphQLError(`block number ${n} is before the earliest block (${earliest}) whose state this subgraph keeps (indexerHints.prune)`, {
      extensions: { code: "BLOCK_PRUNED" },
    });
  }
  // Even the head is read as a past block: the indexer may commit a newer one while the query runs.
  return { number: n, at: n };
}

/** graph-node's subgraphError policy: with indexing errors at or before the block, deny fails the field, allow flags the data. */
function checkErrors(ctx: ExplorerContext, at: number, policy: string | undefined): void {
  if (ctx.model.firstErrorBlock(at) === undefined) return;
  const error = new GraphQLError("indexing_error", { extensions: { code: "INDEXING_ERROR" } });
  if (policy === "allow") {
    ctx.extraErrors ??= [];
    if (!ctx.extraErrors.some((e) => e.message === "indexing_error")) ctx.extraErrors.push(error);
    return;
  }
  throw error;
}

function loadById(ctx: ExplorerContext, entity: string, id: string, block: BlockNumber): Row | null {
  const key = `${entity}\u0000${id}\u0000${block ?? ""}`;
  let row = ctx.loaded.get(key);
  if (row === undefined) {
    row = ctx.model.byId(entity, id, block, ctx.budget) ?? null;
    ctx.loaded.set(key, row);
  }
  return row;
}

/**
 * The stored fields a list's selection reads (its rows need no other columns), or undefined for
 * all of them (fragments). The id is always read: derived lists and the page order need it.
 */
function selectedFields(entity: EntityModel, info: GraphQLResolveInfo): string[] | undefined {
  const names = new Set<string>(["id"]);
  for (const node of info.fieldNodes) {
    for (const sel of node.selectionSet?.selections ?? []) {
      if (sel.kind !== Kind.FIELD) return undefined;
      const f = entity.byName.get(sel.name.value);
      if (f && !f.derivedFrom) names.add(f.name);
      else if (!f && sel.name.value !== "__typename") return undefined;
    }
  }
  return [...names];
}

/** Builds The Graph's query API for the entities of a subgraph schema. */
export function buildExplorerSchema(schema: SchemaModel): GraphQLSchema {
  const objects = new Map<string, GraphQLObjectType>();
  const filters = new Map<string, GraphQLInputObjectType>();
  const orders = new Map<string, GraphQLEnumType>();

  const orderEnum = (e: EntityModel): GraphQLEnumType => {
    let t = orders.get(e.name);
    if (t) return t;
    const values: Record<string, { value: string }> = {};
    for (const f of e.fields) {
      values[f.name] = { value: f.name };
      if (f.relation && !f.derivedFrom) {
        for (const cf of schema.entities.get(f.relation)!.fields) {
          if (!cf.derivedFrom && !cf.relation) values[`${f.name}__${cf.name}`] = { value: `${f.name}__${cf.name}` };
        }
      }
    }
    t = new GraphQLEnumType({ name: `${e.name}_orderBy`, values });
    orders.set(e.name, t);
    return t;
  };

  const filterType = (e: EntityModel): GraphQLInputObjectType => {
    let t = filters.get(e.name);
    if (t) return t;
    t = new GraphQLInputObjectType({
      name: `${e.name}_filter`,
      fields: (): GraphQLInputFieldConfigMap => {
        const fields: GraphQLInputFieldConfigMap = {};
        for (const f of e.fields) {
          if (f.relation) fields[`${f.name}_`] = { type: filterType(schema.entities.get(f.relation)!) };
          if (f.derivedFrom) continue;
          const base: GraphQLInputType = f.relation ? GraphQLString : SCALAR_TYPES[f.kind];
          for (const suffix of filterSuffixes(f)) {
            const list = f.list || suffix === "_in" || suffix === "_not_in";
            fields[`${f.name}${suffix}`] = { type: list ? new GraphQLList(new GraphQLNonNull(base)) : base };
          }
        }
        fields._change_block = { type: BlockChangedFilter, description: "Entities whose version changed at or after this block" };
        const self = new GraphQLList(filterType(e));
        fields.and = { type: self };
        fields.or = { type: self };
        return fields;
      },
    });
    filters.set(e.name, t);
    return t;
  };

  const collectionArgs = (e: EntityModel): GraphQLFieldConfigArgumentMap => ({
    skip: { type: GraphQLInt, defaultValue: 0 },
    first: { type: GraphQLInt, defaultValue: DEFAULT_FIRST },
    orderBy: { type: orderEnum(e) },
    orderDirection: { type: OrderDirection },
    where: { type: filterType(e) },
  });

  const objectType = (e: EntityModel): GraphQLObjectType => {
    let t = objects.get(e.name);
    if (t) return t;
    t = new GraphQLObjectType({
      name: e.name,
      description: e.description,
      fields: () => {
        const fields: Record<string, GraphQLFieldConfig<Row, ExplorerContext>> = {};
        for (const f of e.fields) fields[f.name] = entityField(f);
        return fields;
      },
    });
    objects.set(e.name, t);
    return t;
  };

  const entityField = (f: FieldModel): GraphQLFieldConfig<Row, ExplorerContext> => {
    const nonNull = (type: GraphQLOutputType) => (f.nullable ? type : new GraphQLNonNull(type));
    if (f.derivedFrom) {
      const child = schema.entities.get(f.relation!)!;
      const column = f.derivedFrom;
      return {
        type: nonNull(new GraphQLList(new GraphQLNonNull(objectType(child)))),
        description: f.description,
        args: collectionArgs(child),
        resolve: (row, args: CollectionArgs, ctx, info) =>
          ctx.model.list(child.name, args, row[ROW_BLOCK] as BlockNumber, { column, id: row.id as string }, ctx.budget, selectedFields(child, info)),
      };
    }
    if (f.relation && f.list) {
      const target = f.relation;
      return {
        type: nonNull(new GraphQLList(new GraphQLNonNull(objectType(schema.entities.get(target)!)))),
        description: f.description,
        resolve: (row, _args, ctx) => {
          const ids = row[f.name];
          if (typeof ids !== "string") return null;
          return (JSON.parse(ids) as string[]).map((id) => loadById(ctx, target, id, row[ROW_BLOCK] as BlockNumber)).filter((r) => r !== null);
        },
      };
    }
    if (f.relation) {
      const target = f.relation;
      return {
        type: nonNull(objectType(schema.entities.get(target)!)),
        description: f.description,
        resolve: (row, _args, ctx) => {
          const id = row[f.name];
          return typeof id === "string" ? loadById(ctx, target, id, row[ROW_BLOCK] as BlockNumber) : null;
        },
      };
    }
    if (f.list) {
      return {
        type: nonNull(new GraphQLList(f.nullableElements ? SCALAR_TYPES[f.kind] : new GraphQLNonNull(SCALAR_TYPES[f.kind]))),
        description: f.description,
        resolve: (row) => outputValue(f, row[f.name]),
      };
    }
    return {
      type: nonNull(SCALAR_TYPES[f.kind]),
      description: f.description,
      resolve: (row) => outputValue(f, row[f.name]),
    };
  };

  const query: Record<string, GraphQLFieldConfig<unknown, ExplorerContext>> = {};
  for (const e of schema.entities.values()) {
    const type = objectType(e);
    query[lowerFirst(e.name)] = {
      type,
      args: {
        id: { type: new GraphQLNonNull(GraphQLID) },
        block: { type: BlockHeight },
        subgraphError: { type: new GraphQLNonNull(SubgraphErrorPolicy), defaultValue: "deny" },
      },
      resolve: (_root, args: { id: string; block?: BlockArg; subgraphError?: string }, ctx) => {
        const block = resolveBlock(ctx, args.block);
        checkErrors(ctx, block.at, args.subgraphError);
        return loadById(ctx, e.name, args.id, block.number);
      },
    };
    query[pluralFieldName(e.name)] = {
      type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(type))),
      args: {
        ...collectionArgs(e),
        block: { type: BlockHeight },
        subgraphError: { type: new GraphQLNonNull(SubgraphErrorPolicy), defaultValue: "deny" },
      },
      resolve: (_root, args: CollectionArgs & { block?: BlockArg; subgraphError?: string }, ctx, info) => {
        const block = resolveBlock(ctx, args.block);
        checkErrors(ctx, block.at, args.subgraphError);
        return ctx.model.list(e.name, args, block.number, undefined, ctx.budget, selectedFields(e, info));
      },
    };
  }
  query._meta = {
    type: Meta,
    args: { block: { type: BlockHeight } },
    resolve: (_root, args: { block?: BlockArg }, ctx) => {
      const { at } = resolveBlock(ctx, args.block);
      const b = at < 0 ? undefined : ctx.model.blockByNumber(at);
      return {
        block: b
          ? { number: b.number, hash: b.hash, timestamp: b.timestamp, parentHash: b.parentHash ?? null }
          : { number: Math.max(at, 0), hash: null, timestamp: null, parentHash: null },
        deployment: ctx.model.deployment(),
        hasIndexingErrors: at >= 0 && ctx.model.firstErrorBlock(at) !== undefined,
      };
    },
  };

  return new GraphQLSchema({
    query: new GraphQLObjectType({ name: "Query", fields: query }),
    types: [...objects.values()],
  });
}
