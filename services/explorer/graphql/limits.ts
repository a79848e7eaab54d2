import {
  GraphQLError,
  Kind,
  getNamedType,
  getNullableType,
  isListType,
  isObjectType,
  valueFromASTUntyped,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from "graphql";
import { DEFAULT_FIRST } from "./sql-query.js";

/**
 * What one query may ask of the server. Every limit is checked before the query touches the
 * database, except `maxRows`, `timeoutMs` and `maxResponseBytes`, which bound its execution.
 */
export interface QueryLimits {
  /** Nesting of selections. */
  maxDepth: number;
  /** The estimated work: entities every list may return (times the lists around it) plus filter work. */
  maxCost: number;
  /** Conditions in all `where` filters of the query. */
  maxFilterConditions: number;
  /** Values in all `_in` / `_not_in` / list filters of the query. */
  maxFilterValues: number;
  /** Bytes of query text. */
  maxQueryBytes: number;
  /** Bracket nesting in the query text (deep list literals). */
  maxBracketDepth: number;
  /** GraphQL tokens in the query text. */
  maxTokens: number;
  /** Entities a query may read while it runs. */
  maxRows: number;
  /** Bytes of a response. */
  maxResponseBytes: number;
  /** Execution time, after which the query is cancelled. */
  timeoutMs: number;
}

export const DEFAULT_LIMITS: QueryLimits = {
  maxDepth: 10,
  maxCost: 50_000,
  maxFilterConditions: 200,
  maxFilterValues: 5_000,
  maxQueryBytes: 64 * 1024,
  maxBracketDepth: 64,
  maxTokens: 10_000,
  maxRows: 60_000,
  maxResponseBytes: 8 * 1024 * 1024,
  timeoutMs: 2_000,
};

/** Work a filter condition costs, counted in entities read: conditions are evaluated on every candidate row. */
const CONDITION_COST = 20;
/** A nested entity filter (`provider_: {...}`) runs a subquery per candidate row. */
const NESTED_FILTER_COST = 1_000;
/** Each branch of an `or` defeats index use: the rows are scanned and every branch evaluated. */
const OR_BRANCH_COST = 250;
/** Rows skipped are still read. */
const SKIP_COST_DIVISOR = 10;

function limitError(message: string, code: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code } });
}

interface Walk {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
  conditions: number;
  values: number;
}

/** A filter's work; counts its conditions and list values into `walk`. */
function filterCost(walk: Walk, filter: unknown, depth: number): number {
  if (filter === null || typeof filter !== "object" || Array.isArray(filter)) return 0;
  if (depth > 16) throw limitError("the filter nests too deeply (at most 8 levels of and/or and nested entity filters)", "QUERY_TOO_COMPLEX");
  let cost = 0;
  for (const [key, value] of Object.entries(filter as Record<string, unknown>)) {
    if (key === "and" || key === "or") {
      if (Array.isArray(value)) for (const sub of value) cost += filterCost(walk, sub, depth + 1) + (key === "or" ? OR_BRANCH_COST : 0);
      continue;
    }
    walk.conditions++;
    if (key.endsWith("_") && value !== null && typeof value === "object" && !Array.isArray(value)) {
      cost += NESTED_FILTER_COST + filterCost(walk, value, depth + 1) * 10;
      continue;
    }
    cost += CONDITION_COST;
    if (Array.isArray(value)) {
      walk.values += value.length;
      cost += value.length;
    }
  }
  return cost;
}

function argValue(walk: Walk, value: ValueNode | undefined): unknown {
  return value === undefined ? undefined : valueFromASTUntyped(value, walk.variables);
}

/**
 * The depth of a selection and its cost: every entity a list can return counts once, multiplied
 * by the sizes of the lists around it (`first`, default 100), plus the work of its filters
 * (conditions, `_in` values, nested entity filters) and skipped rows, so an expensive query is
 * refused before it runs. Variables count with their values (or their declared defaults).
 */
function measure(walk: Walk, set: SelectionSetNode, parent: GraphQLNamedType, multiplier: number, seen: Set<string>, level: number) {
  if (level > 64) throw limitError("the query's selections nest too deeply", "QUERY_TOO_DEEP");
  let depth = 0;
  let cost = 0;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      if (!isObjectType(parent)) continue;
      const field = parent.getFields()[sel.name.value];
      if (!field) continue;
      const isList = isListType(getNullableType(field.type));
      const isEntityList = isList && isObjectType(getNamedType(field.type));
      let size = 1;
      if (isEntityList) {
        const arg = (name: string) => argValue(walk, sel.arguments?.find((a) => a.name.value === name)?.value);
        const first = arg("first");
        size = typeof first === "number" && first >= 0 ? first : DEFAULT_FIRST;
        const skip = arg("skip");
        if (typeof skip === "number" && skip > 0) cost += (multiplier * skip) / SKIP_COST_DIVISOR;
        cost += multiplier * filterCost(walk, arg("where"), 0);
      }
      const inner = multiplier * size;
      if (isEntityList || isObjectType(getNamedType(field.type))) cost += inner;
      if (sel.selectionSet) {
        const sub = measure(walk, sel.selectionSet, getNamedType(field.type), inner, seen, level + 1);
        depth = Math.max(depth, sub.depth + 1);
        cost += sub.cost;
      } else {
        depth = Math.max(depth, 1);
      }
    } else {
      let inner: SelectionSetNode | undefined;
      let type: GraphQLNamedType | undefined = parent;
      if (sel.kind === Kind.INLINE_FRAGMENT) {
        inner = sel.selectionSet;
        if (sel.typeCondition) type = walk.schema.getType(sel.typeCondition.name.value) ?? parent;
      } else {
        const name = sel.name.value;
        const fragment = walk.fragments.get(name);
        if (!fragment || seen.has(name)) continue;
        inner = fragment.selectionSet;
        type = walk.schema.getType(fragment.typeCondition.name.value) ?? parent;
        seen = new Set(seen).add(name);
      }
      const sub = measure(walk, inner, type, multiplier, seen, level + 1);
      depth = Math.max(depth, sub.depth);
      cost += sub.cost;
    }
  }
  return { depth, cost };
}

/** The variables as the query will see them: the request's values, else the declared defaults. */
function effectiveVariables(operation: OperationDefinitionNode, variables: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...variables };
  for (const def of operation.variableDefinitions ?? []) {
    const name = def.variable.name.value;
    if (out[name] === undefined && def.defaultValue) out[name] = valueFromASTUntyped(def.defaultValue);
  }
  return out;
}

/** Throws a GraphQL error naming the limit when the operation asks too much. */
export function checkQueryLimits(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
  limits: QueryLimits = DEFAULT_LIMITS,
): void {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations[0];
  if (!operation) return;
  const root = operation.operation === "query" ? schema.getQueryType() : undefined;
  if (!root) return;
  const fragments = new Map(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
  );
  const walk: Walk = { schema, fragments, variables: effectiveVariables(operation, variables ?? {}), conditions: 0, values: 0 };
  const { depth, cost } = measure(walk, operation.selectionSet, root, 1, new Set(), 0);
  if (depth > limits.maxDepth) {
    throw limitError(`query depth ${depth} exceeds the maximum of ${limits.maxDepth}: nest fewer relations`, "QUERY_TOO_DEEP");
  }
  if (walk.conditions > limits.maxFilterConditions) {
    throw limitError(
      `the query's filters have ${walk.conditions} conditions, more than the maximum of ${limits.maxFilterConditions}: split it into simpler queries`,
      "QUERY_TOO_COMPLEX",
    );
  }
  if (walk.values > limits.maxFilterValues) {
    throw limitError(
      `the query's filters list ${walk.values} values (_in, _not_in and list filters together), more than the maximum of ${limits.maxFilterValues}: ask in several queries`,
      "QUERY_TOO_COMPLEX",
    );
  }
  if (cost > limits.maxCost) {
    throw limitError(
      `query may cost ${Math.round(cost)} (entities it can return, times the lists around them, plus filter work), more than the maximum of ${limits.maxCost}: ask for fewer (first), nest less or filter more simply`,
      "QUERY_TOO_COSTLY",
    );
  }
}

/**
 * Cheap checks on the raw text before it is parsed: its size and how deeply brackets nest (the
 * parser recurses on nested lists and objects, so a deep literal must not reach it).
 */
export function checkQueryText(query: string, limits: QueryLimits = DEFAULT_LIMITS): void {
  const bytes = Buffer.byteLength(query);
  if (bytes > limits.maxQueryBytes) {
    throw limitError(`the query text is ${bytes} bytes, more than the maximum of ${limits.maxQueryBytes}`, "QUERY_TOO_LARGE");
  }
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < query.length; i++) {
    const c = query.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash escape
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 35) {
      while (i < query.length && query.charCodeAt(i) !== 10) i++; // comment
    } else if (c === 91 || c === 123 || c === 40) {
      depth++;
      if (depth > max) max = depth;
    } else if (c === 93 || c === 125 || c === 41) depth--;
  }
  if (max > limits.maxBracketDepth) {
    throw limitError(`the query nests brackets ${max} levels deep, more than the maximum of ${limits.maxBracketDepth}`, "QUERY_TOO_DEEP");
  }
}

/** The same bound for variables, which arrive as JSON. */
export function checkValueDepth(value: unknown, limits: QueryLimits = DEFAULT_LIMITS, depth = 0): void {
  if (depth > limits.maxBracketDepth) {
    throw limitError(`the variables nest ${depth} levels deep, more than the maximum of ${limits.maxBracketDepth}`, "QUERY_TOO_DEEP");
  }
  if (value !== null && typeof value === "object") {
    for (const v of Object.values(value as Record<string, unknown>)) checkValueDepth(v, limits, depth + 1);
  }
}
