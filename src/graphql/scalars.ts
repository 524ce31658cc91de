import { GraphQLScalarType, Kind } from 'graphql';
import { AlphalakeError } from '../domain/index.js';

const ISO_8601 =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * An instant: ISO 8601 in and out (a date alone means midnight UTC); epoch
 * milliseconds are accepted as input. A malformed value is BAD_USER_INPUT.
 */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description:
    'An instant in UTC: ISO 8601 (`2026-11-20T14:30:00Z`) or epoch milliseconds as input.',
  serialize(value) {
    const date = value instanceof Date ? value : new Date(value as number | string);
    if (Number.isNaN(date.getTime()))
      throw new Error(`cannot serialize ${String(value)} as DateTime`);
    return date.toISOString();
  },
  parseValue(value) {
    return parseInstant(value);
  },
  parseLiteral(ast) {
    if (ast.kind === Kind.STRING) return parseInstant(ast.value);
    if (ast.kind === Kind.INT) return parseInstant(Number(ast.value));
    throw malformed(ast.kind);
  },
});

function parseInstant(value: unknown): Date {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return new Date(value);
  if (typeof value === 'string' && ISO_8601.test(value.trim())) {
    const text = value.trim();
    // Without a zone, an instant is UTC: never the server's local time.
    const zoned = /(Z|[+-]\d{2}:?\d{2})$/.test(text);
    const date = new Date(
      /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : zoned ? text : `${text}Z`,
    );
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw malformed(value);
}

function malformed(value: unknown): AlphalakeError {
  return new AlphalakeError(
    'BAD_USER_INPUT',
    `${JSON.stringify(value)} is not a valid DateTime: use ISO 8601 such as 2026-11-20T14:30:00Z`,
  );
}
