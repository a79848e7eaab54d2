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
  type GraphQLFieldConfig,
  type GraphQLFieldConfigArgumentMap,
  type GraphQLInputFieldConfigMap,
  type GraphQLInputType,
  type GraphQLOutputType,
  type GraphQLScalarType,
} from "graphql";
import type { EntityModel, FieldModel, ScalarKind, SchemaModel } from "../../common/entity-model.js";
import { bigIntText } from "../../common/sql-layout.js";
import type { ReadModel, Row } from "../read-model.js";
import { BigDecimalScalar, BigIntScalar, BytesScalar, Int8Scalar, TimestampScalar } from "./scalars.js";
import { DEFAULT_FIRST, filterSuffixes, type CollectionArgs } from "./sql-query.js";

/** Per-request state: the read model and the entities already loaded by id. */
export interface ExplorerContext {
  model: ReadModel;
  loaded: Map<string, Row | null>;
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
  description: "Accepted for compatibility; the embedded explorer serves the latest indexed block.",
  fields: { hash: { type: BytesScalar }, number: { type: GraphQLInt }, number_gte: { type: GraphQLInt } },
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
  if (f.kind === "BigInt") return bigIntText(value as string);
  if (f.kind === "Boolean") return value === 1;
  return value;
}

function checkBlock(ctx: ExplorerContext, block: { number_gte?: number | null } | undefined | null): void {
  if (block?.number_gte == null) return;
  const head = ctx.model.head()?.number ?? -1;
  if (block.number_gte > head) {
    throw new GraphQLError(
      `Failed to decode \`block.number_gte\` value: subgraph has only indexed up to block number ${head} and data for block number ${block.number_gte} is therefore not yet available`,
    );
  }
}

function loadById(ctx: ExplorerContext, entity: string, id: string): Row | null {
  const key = `${entity}\u0000${id}`;
  let row = ctx.loaded.get(key);
  if (row === undefined) {
    row = ctx.model.byId(entity, id) ?? null;
    ctx.loaded.set(key, row);
  }
  return row;
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
            const list = suffix === "_in" || suffix === "_not_in";
            fields[`${f.name}${suffix}`] = { type: list ? new GraphQLList(new GraphQLNonNull(base)) : base };
          }
        }
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
        resolve: (row, args: CollectionArgs, ctx) => ctx.model.list(child.name, args, { column, id: row.id as string }),
      };
    }
    if (f.relation) {
      const target = f.relation;
      return {
        type: nonNull(objectType(schema.entities.get(target)!)),
        description: f.description,
        resolve: (row, _args, ctx) => {
          const id = row[f.name];
          return typeof id === "string" ? loadById(ctx, target, id) : null;
        },
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
      resolve: (_root, args: { id: string; block?: { number_gte?: number } }, ctx) => {
        checkBlock(ctx, args.block);
        return loadById(ctx, e.name, args.id);
      },
    };
    query[pluralFieldName(e.name)] = {
      type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(type))),
      args: {
        ...collectionArgs(e),
        block: { type: BlockHeight },
        subgraphError: { type: new GraphQLNonNull(SubgraphErrorPolicy), defaultValue: "deny" },
      },
      resolve: (_root, args: CollectionArgs & { block?: { number_gte?: number } }, ctx) => {
        checkBlock(ctx, args.block);
        return ctx.model.list(e.name, args);
      },
    };
  }
  query._meta = {
    type: Meta,
    args: { block: { type: BlockHeight } },
    resolve: (_root, args: { block?: { number_gte?: number } }, ctx) => {
      checkBlock(ctx, args.block);
      const head = ctx.model.head();
      return {
        block: head ? { number: head.number, hash: head.hash, timestamp: head.timestamp } : { number: 0, hash: null, timestamp: null },
        deployment: ctx.model.deployment(),
        hasIndexingErrors: false,
      };
    },
  };

  return new GraphQLSchema({
    query: new GraphQLObjectType({ name: "Query", fields: query }),
    types: [...objects.values()],
  });
}
