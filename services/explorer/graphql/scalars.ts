import { GraphQLError, GraphQLScalarType, Kind } from "graphql";

/**
 * The Graph's scalars: BigInt, BigDecimal and Bytes travel as strings (JSON numbers would lose
 * precision). Output values are already strings when they reach these; inputs are checked here so
 * a malformed one is a GraphQL error naming it.
 */

const INTEGER = /^-?\d+$/;
const DECIMAL = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;
const HEX = /^0x([0-9a-fA-F]{2})*$/;

function inputText(value: unknown, scalar: string): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  throw new GraphQLError(`${scalar} cannot represent ${JSON.stringify(value)}`);
}

function checked(pattern: RegExp, scalar: string, normalise: (s: string) => string = (s) => s) {
  return (value: unknown): string => {
    const text = inputText(value, scalar);
    if (!pattern.test(text)) throw new GraphQLError(`Invalid ${scalar} value: ${JSON.stringify(text)}`);
    return normalise(text);
  };
}

function scalar(name: string, description: string, parse: (value: unknown) => string): GraphQLScalarType {
  return new GraphQLScalarType({
    name,
    description,
    serialize: (value) => String(value),
    parseValue: parse,
    parseLiteral(ast) {
      if (ast.kind === Kind.STRING || ast.kind === Kind.INT || ast.kind === Kind.FLOAT) return parse(ast.value);
      throw new GraphQLError(`${name} must be a string`, { nodes: ast });
    },
  });
}

export const BigIntScalar = scalar("BigInt", "An arbitrary-size integer, as a decimal string.", checked(INTEGER, "BigInt"));
export const BigDecimalScalar = scalar("BigDecimal", "An arbitrary-precision decimal, as a string.", checked(DECIMAL, "BigDecimal"));
export const BytesScalar = scalar(
  "Bytes",
  "A byte array, as 0x-prefixed hex.",
  checked(HEX, "Bytes", (s) => s.toLowerCase()),
);
export const Int8Scalar = scalar("Int8", "A 64-bit integer, as a decimal string.", checked(INTEGER, "Int8"));
export const TimestampScalar = scalar("Timestamp", "Microseconds since the Unix epoch, as a decimal string.", checked(INTEGER, "Timestamp"));
