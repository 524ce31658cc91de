/**
 * The one error vocabulary a client ever sees. Every failure we expect carries a
 * stable `code`; the GraphQL layer copies it into `extensions.code` and anything
 * that is not an `AlphalakeError` is masked as INTERNAL outside development.
 */
export const ERROR_CODES = [
  'BAD_USER_INPUT',
  // HTTP-level refusals, before any GraphQL runs (src/graphql/http-errors.ts maps each to
  // its status): a body that is not JSON (400), a body over the limit (413), a body that
  // is not `application/json` (415), a method the path does not serve (405). NOT_FOUND
  // below also answers an unknown path (404).
  'BAD_REQUEST',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'METHOD_NOT_ALLOWED',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'UNSUPPORTED_TABLE_FEATURE',
  'SCHEMA_MISMATCH',
  'RATE_LIMITED',
  'UNAVAILABLE',
  // A live subscriber fell further behind than its bounded buffer (LIVE_QUEUE_LIMIT): it is
  // closed (graphql-ws close code 4010, reason SLOW_CONSUMER) so it cannot stall the others.
  'SLOW_CONSUMER',
  // A vendor (Polygon, Yahoo) answered 2xx with a body outside its documented format (not
  // JSON, no `results` array): the page cannot be trusted, so the source stops with this.
  'UPSTREAM_MALFORMED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class AlphalakeError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AlphalakeError';
    this.code = code;
    this.details = Object.freeze({ ...details });
  }
}

export function isAlphalakeError(error: unknown, code?: ErrorCode): error is AlphalakeError {
  return error instanceof AlphalakeError && (code === undefined || error.code === code);
}

/** Our own bug, never the caller's: fail loudly with a message worth reading. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`invariant violated: ${message}`);
}
