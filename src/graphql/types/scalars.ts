import { GraphQLScalarType, Kind } from 'graphql';
import { AlphalakeError, isoOfMicros, MILLISECOND_US, parseIsoMicros } from '../../domain/index.js';

/**
 * An instant, held inside the API as epoch microseconds (the domain's unit, docs/time.md).
 * Out: ISO 8601 in UTC, with six fractional digits when the instant has sub-millisecond
 * digits (`2024-03-01T09:30:09.292971Z`), three otherwise. In: ISO 8601 with up to six
 * fractional digits (more only when they are zeros: nothing is silently dropped; a date
 * alone means midnight UTC, no zone means UTC) or an integer of epoch microseconds, the
 * value of the `tsMicros` fields. A malformed value is BAD_USER_INPUT.
 */
export const DateTimeScalar = new GraphQLScalarType<number, string>({
  name: 'DateTime',
  description:
    'An instant in UTC: ISO 8601 (`2026-11-20T14:30:00.123456Z`, microseconds kept) or, as input, an integer of epoch microseconds.',
  serialize(value) {
    if (typeof value === 'number' && Number.isSafeInteger(value)) return isoOfMicros(value);
    if (value instanceof Date && !Number.isNaN(value.getTime()))
      return isoOfMicros(value.getTime() * MILLISECOND_US);
    throw new Error(`cannot serialize ${String(value)} as DateTime (epoch µs)`);
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

function parseInstant(value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string') {
    const micros = parseIsoMicros(value);
    if (micros !== undefined) return micros;
  }
  throw malformed(value);
}

function malformed(value: unknown): AlphalakeError {
  return new AlphalakeError(
    'BAD_USER_INPUT',
    `${JSON.stringify(value)} is not a valid DateTime: use ISO 8601 such as 2026-11-20T14:30:00.123456Z (at most microseconds) or epoch microseconds`,
  );
}
