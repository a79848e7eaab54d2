import { execute, parse, validate, type DocumentNode, type GraphQLSchema } from "graphql";
import type { ExplorerContext } from "./build-schema.js";
import { checkQueryLimits, type QueryLimits } from "./limits.js";

/**
 * The common case, answered without the generic HTTP pipeline: a JSON POST of a well-formed,
 * valid query that runs without errors. Anything else (a syntax or validation error, a limit,
 * a resolver error, another content type) returns undefined and goes to graphql-yoga, which
 * then produces the canonical GraphQL-over-HTTP answer.
 */
export class FastPath {
  /** Parsed and validated documents by query text (only valid ones are kept). */
  private readonly documents = new Map<string, DocumentNode>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly limits: QueryLimits,
    private readonly capacity = 1000,
  ) {}

  private document(query: string): DocumentNode | undefined {
    let doc = this.documents.get(query);
    if (doc) return doc;
    try {
      doc = parse(query, { maxTokens: 5000 });
    } catch {
      return undefined;
    }
    if (validate(this.schema, doc).length) return undefined;
    if (this.documents.size >= this.capacity) this.documents.clear();
    this.documents.set(query, doc);
    return doc;
  }

  /** The JSON answer, or undefined when yoga should answer instead. */
  run(body: string, context: ExplorerContext): string | undefined {
    let params: { query?: unknown; variables?: unknown; operationName?: unknown };
    try {
      params = JSON.parse(body) as typeof params;
    } catch {
      return undefined;
    }
    if (typeof params !== "object" || params === null || typeof params.query !== "string") return undefined;
    const variables = params.variables ?? undefined;
    if (variables !== undefined && (typeof variables !== "object" || variables === null || Array.isArray(variables))) return undefined;
    const operationName = typeof params.operationName === "string" ? params.operationName : undefined;
    const document = this.document(params.query);
    if (!document) return undefined;
    try {
      checkQueryLimits(this.schema, document, operationName, variables as Record<string, unknown> | undefined, this.limits);
    } catch {
      return undefined;
    }
    const result = execute({
      schema: this.schema,
      document,
      variableValues: variables as Record<string, unknown> | undefined,
      operationName,
      contextValue: context,
    });
    if ("then" in result || result.errors) return undefined;
    return JSON.stringify({ data: result.data });
  }
}
