import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Kind, parse, type TypeNode, type ObjectTypeDefinitionNode, type FieldDefinitionNode } from "graphql";

/**
 * subgraph/schema.graphql made machine-readable: the entities, their fields and relations.
 * The indexer builds its SQLite tables from it and the explorer its GraphQL API, so both follow
 * the one definition (services never import each other; they share this reading of the schema).
 */

export type ScalarKind = "ID" | "String" | "Bytes" | "Int" | "Int8" | "BigInt" | "BigDecimal" | "Boolean" | "Timestamp";

export interface FieldModel {
  name: string;
  description?: string;
  /** For a relation, the entity it points to; otherwise the scalar kind. */
  kind: ScalarKind;
  relation?: string;
  nullable: boolean;
  /** `@derivedFrom(field:)`: a reverse list, stored nowhere, read from `relation`'s `derivedFrom` column. */
  derivedFrom?: string;
  /** A list; stored lists (not derived) live in one column as JSON. */
  list: boolean;
  /** For a list: whether its elements may be null (`[T]` rather than `[T!]`). */
  nullableElements?: boolean;
}

export interface EntityModel {
  name: string;
  description?: string;
  immutable: boolean;
  fields: FieldModel[];
  byName: Map<string, FieldModel>;
  /** The fields stored as columns (everything but derived lists). */
  stored: FieldModel[];
}

export interface SchemaModel {
  entities: Map<string, EntityModel>;
  source: string;
}

const SCALARS = new Set<string>(["ID", "String", "Bytes", "Int", "Int8", "BigInt", "BigDecimal", "Boolean", "Timestamp"]);

export const DEFAULT_SCHEMA_PATH = fileURLToPath(new URL("../../subgraph/schema.graphql", import.meta.url));

function unwrap(type: TypeNode): { name: string; nullable: boolean; list: boolean; nullableElements: boolean } {
  let nullable = true;
  let list = false;
  let nullableElements = false;
  let t = type;
  if (t.kind === Kind.NON_NULL_TYPE) {
    nullable = false;
    t = t.type;
  }
  if (t.kind === Kind.LIST_TYPE) {
    list = true;
    t = t.type;
    nullableElements = true;
    if (t.kind === Kind.NON_NULL_TYPE) {
      nullableElements = false;
      t = t.type;
    }
  }
  if (t.kind !== Kind.NAMED_TYPE) throw new Error("schema: nested lists are not supported");
  return { name: t.name.value, nullable, list, nullableElements };
}

function fieldModel(entity: string, f: FieldDefinitionNode, entityNames: Set<string>): FieldModel {
  const { name: typeName, nullable, list, nullableElements } = unwrap(f.type);
  const derived = f.directives?.find((d) => d.name.value === "derivedFrom");
  const derivedArg = derived?.arguments?.find((a) => a.name.value === "field");
  const isEntity = entityNames.has(typeName);
  if (!isEntity && !SCALARS.has(typeName)) {
    throw new Error(`schema: ${entity}.${f.name.value} has unsupported type ${typeName}`);
  }
  return {
    name: f.name.value,
    description: f.description?.value,
    kind: isEntity ? "ID" : (typeName as ScalarKind),
    relation: isEntity ? typeName : undefined,
    nullable,
    list,
    nullableElements: list ? nullableElements : undefined,
    derivedFrom: derivedArg?.value.kind === Kind.STRING ? derivedArg.value.value : undefined,
  };
}

/** Parses a subgraph schema (The Graph's `@entity` / `@derivedFrom` dialect). */
export function parseSchemaModel(source: string): SchemaModel {
  const doc = parse(source);
  const defs = doc.definitions.filter(
    (d): d is ObjectTypeDefinitionNode =>
      d.kind === Kind.OBJECT_TYPE_DEFINITION && !!d.directives?.some((x) => x.name.value === "entity"),
  );
  const names = new Set(defs.map((d) => d.name.value));
  const entities = new Map<string, EntityModel>();
  for (const d of defs) {
    const entityDirective = d.directives!.find((x) => x.name.value === "entity")!;
    const immutableArg = entityDirective.arguments?.find((a) => a.name.value === "immutable");
    const fields = (d.fields ?? []).map((f) => fieldModel(d.name.value, f, names));
    if (!fields.some((f) => f.name === "id")) throw new Error(`schema: entity ${d.name.value} has no id`);
    entities.set(d.name.value, {
      name: d.name.value,
      description: d.description?.value,
      immutable: immutableArg?.value.kind === Kind.BOOLEAN && immutableArg.value.value,
      fields,
      byName: new Map(fields.map((f) => [f.name, f])),
      stored: fields.filter((f) => !f.derivedFrom),
    });
  }
  return { entities, source };
}

/** Reads and parses subgraph/schema.graphql (or another schema file). */
export function loadSchemaModel(path = DEFAULT_SCHEMA_PATH): SchemaModel {
  return parseSchemaModel(readFileSync(path, "utf8"));
}
