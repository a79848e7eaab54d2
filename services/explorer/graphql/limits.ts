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
} from "graphql";
import { DEFAULT_FIRST } from "./sql-query.js";

/** How deep a query may nest and how many entities it may ask for at most. */
export interface QueryLimits {
  maxDepth: number;
  maxCost: number;
}

export const DEFAULT_LIMITS: QueryLimits = { maxDepth: 10, maxCost: 50_000 };

interface Walk {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
}

/**
 * The depth of a selection and its cost: every entity a list can return counts once, multiplied
 * by the sizes of the lists around it (`first`, default 100), so a wide nested query is refused
 * before it runs instead of loading millions of rows.
 */
function measure(walk: Walk, set: SelectionSetNode, parent: GraphQLNamedType, multiplier: number, seen: Set<string>) {
  let depth = 0;
  let cost = 0;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      if (!isObjectType(parent)) continue;
      const field = parent.getFields()[sel.name.value];
      if (!field) continue;
      const isList = isListType(getNullableType(field.type));
      let size = 1;
      if (isList) {
        const arg = sel.arguments?.find((a) => a.name.value === "first");
        const value = arg ? valueFromASTUntyped(arg.value, walk.variables) : DEFAULT_FIRST;
        size = typeof value === "number" && value >= 0 ? value : DEFAULT_FIRST;
      }
      const inner = multiplier * size;
      if (isList || isObjectType(getNamedType(field.type))) cost += inner;
      if (sel.selectionSet) {
        const sub = measure(walk, sel.selectionSet, getNamedType(field.type), inner, seen);
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
      const sub = measure(walk, inner, type, multiplier, seen);
      depth = Math.max(depth, sub.depth);
      cost += sub.cost;
    }
  }
  return { depth, cost };
}

/** Throws a GraphQL error when the operation is too deep or too costly. */
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
    document.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((d) => [d.name.value, d]),
  );
  const { depth, cost } = measure({ schema, fragments, variables: variables ?? {} }, operation.selectionSet, root, 1, new Set());
  if (depth > limits.maxDepth) {
    throw new GraphQLError(`query depth ${depth} exceeds the maximum of ${limits.maxDepth}`, {
      extensions: { code: "QUERY_TOO_DEEP" },
    });
  }
  if (cost > limits.maxCost) {
    throw new GraphQLError(
      `query may return ${cost} entities, more than the maximum of ${limits.maxCost}: ask for fewer (first) or nest less`,
      { extensions: { code: "QUERY_TOO_COSTLY" } },
    );
  }
}
