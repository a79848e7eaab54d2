import { execute, GraphQLError, Kind, parse, validate, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from "graphql";
import type { ReadModel } from "../read-model.js";
import type { ExplorerContext } from "./build-schema.js";
import { checkQueryLimits, checkQueryText, checkValueDepth, type QueryLimits } from "./limits.js";

/** An HTTP answer to a GraphQL request. `cacheable`: a clean answer that only depends on the query and the indexed data. */
export interface GraphQLAnswer {
  status: number;
  body: string;
  cacheable: boolean;
}

interface RequestParams {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
}

function answer(status: number, errors: GraphQLError[]): GraphQLAnswer {
  return { status, body: JSON.stringify({ errors: errors.map((e) => e.toJSON()) }), cacheable: false };
}

function requestError(message: string): GraphQLAnswer {
  return answer(400, [new GraphQLError(message, { extensions: { code: "BAD_REQUEST" } })]);
}

/**
 * Runs one GraphQL request (The Graph's query API over the read model) with every limit applied:
 * the text is checked before parsing, the document's cost before execution, and the execution's
 * rows, time and response size while it runs. Every refusal is a GraphQL error that says what
 * to change; nothing escapes as an unexplained failure.
 */
export class RequestExecutor {
  private readonly documents = new Map<string, DocumentNode>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly model: ReadModel,
    private readonly limits: QueryLimits,
    private readonly cacheSize = 1000,
  ) {}

  private document(query: string): DocumentNode | GraphQLError[] {
    const cached = this.documents.get(query);
    if (cached) return cached;
    let doc: DocumentNode;
    try {
      checkQueryText(query, this.limits);
      doc = parse(query, { maxTokens: this.limits.maxTokens });
    } catch (error) {
      return [error instanceof GraphQLError ? error : new GraphQLError(`cannot parse the query: ${(error as Error).message}`)];
    }
    const errors = validate(this.schema, doc, undefined, { maxErrors: 10 });
    if (errors.length) return [...errors];
    if (this.documents.size >= this.cacheSize) this.documents.clear();
    this.documents.set(query, doc);
    return doc;
  }

  /** `body`: the JSON of a POST, or the same object built from a GET's parameters. */
  run(body: string): GraphQLAnswer {
    let params: RequestParams;
    try {
      params = JSON.parse(body) as RequestParams;
    } catch (error) {
      return requestError(`the request body is not valid JSON: ${(error as Error).message}`);
    }
    if (typeof params !== "object" || params === null || Array.isArray(params)) {
      return requestError("the request body must be a JSON object with a `query` string (batched queries are not supported)");
    }
    if (typeof params.query !== "string") return requestError("the request has no `query` string");
    const variables = params.variables ?? undefined;
    if (variables !== undefined && (typeof variables !== "object" || variables === null || Array.isArray(variables))) {
      return requestError("`variables` must be a JSON object");
    }
    if (params.operationName !== undefined && params.operationName !== null && typeof params.operationName !== "string") {
      return requestError("`operationName` must be a string");
    }
    const operationName = (params.operationName as string | null | undefined) ?? undefined;
    const document = this.document(params.query);
    if (Array.isArray(document)) return answer(400, document);
    const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
    if (!operation) {
      return requestError(operationName ? `the document has no operation named ${operationName}` : "the document has several operations: name one in `operationName`");
    }
    if (operation.operation !== "query") return requestError(`only queries are supported, not ${operation.operation}s`);
    try {
      checkValueDepth(variables, this.limits);
      checkQueryLimits(this.schema, document, operationName, variables as Record<string, unknown> | undefined, this.limits);
    } catch (error) {
      return answer(200, [error as GraphQLError]);
    }
    const context: ExplorerContext = {
      model: this.model,
      loaded: new Map(),
      budget: { rowsLeft: this.limits.maxRows, deadline: performance.now() + this.limits.timeoutMs },
    };
    // One read transaction for all of the query's statements: one snapshot of the index.
    const result = this.model.read(() =>
      execute({ schema: this.schema, document, variableValues: variables as Record<string, unknown> | undefined, operationName, contextValue: context }),
    );
    if ("then" in result) return answer(500, [new GraphQLError("internal error: the executor returned a promise")]);
    const errors = [...(result.errors ?? []), ...(context.extraErrors ?? [])];
    const json = JSON.stringify(errors.length ? { data: result.data ?? null, errors: errors.map((e) => e.toJSON()) } : { data: result.data });
    if (json.length > this.limits.maxResponseBytes) {
      const mb = (n: number) => (n >= 1024 * 1024 ? `${(n / (1024 * 1024)).toFixed(1)} MB` : `${n} bytes`);
      return answer(200, [
        new GraphQLError(
          `the response would be ${mb(json.length)}, more than the limit of ${mb(this.limits.maxResponseBytes)}: ask for fewer entities (first) or fewer fields`,
          { extensions: { code: "RESPONSE_TOO_LARGE" } },
        ),
      ]);
    }
    return { status: 200, body: json, cacheable: errors.length === 0 };
  }
}
