/**
 * The one error vocabulary a client ever sees. Every failure we expect carries a
 * stable `code`; the GraphQL layer copies it into `extensions.code` and anything
 * that is not an `AlphalakeError` is masked as INTERNAL outside development.
 */
export const ERROR_CODES = [
  'BAD_USER_INPUT',
  // HTTP-level refusals, before any GraphQL runs (src/graphql/transport/http-errors.ts maps each to
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
  // Limits on what one request may ask (src/graphql/guard/limits.ts, src/lake/read/query.ts),
  // each refused before anything runs: a selection deeper than API_MAX_DEPTH, more rows
  // asked than API_MAX_COST, more aliases or directives than allowed, a `limit` over
  // API_MAX_PAGE_SIZE, a lake query whose files hold more rows than API_MAX_SCAN_ROWS.
  'QUERY_TOO_DEEP',
  'QUERY_TOO_COMPLEX',
  'TOO_MANY_ALIASES',
  'TOO_MANY_DIRECTIVES',
  'PAGE_TOO_LARGE',
  'QUERY_TOO_EXPENSIVE',
  // A DuckDB statement interrupted at DUCKDB_STATEMENT_TIMEOUT_MS.
  'QUERY_TIMEOUT',
  // PERSISTED_QUERIES=allowlist: an operation that is not on the allow-list.
  'PERSISTED_QUERY_NOT_ALLOWED',
  // Over RATE_LIMIT_REQUESTS per window: HTTP 429 with Retry-After and
  // extensions.retryAfterSeconds.
  'RATE_LIMITED',
  'UNAVAILABLE',
  // A live subscriber fell further behind than its bounded buffer (LIVE_QUEUE_LIMIT): it is
  // closed (graphql-ws close code 4010, reason SLOW_CONSUMER) so it cannot stall the others.
  'SLOW_CONSUMER',
  // A vendor (Polygon, Yahoo) answered 2xx with a body outside its documented format (not
  // JSON, no `results` array): the page cannot be trusted, so the source stops with this.
  'UPSTREAM_MALFORMED',
  // A job whose code is not there yet (retrain until the ML work lands, refresh of master
  // data until the MDM store does): it fails with this reason, never with a fake success.
  'NOT_IMPLEMENTED',
  // A batch that applied every record it could but left some in error (an `mdm.refresh`
  // whose vendor did not know a ticker): the message names each record in error.
  'INCOMPLETE',
  // An embedded store under ALPHALAKE_HOME is held by another process (its pid named):
  // the job store takes one process; master data and the user store wait for another's
  // operation first (src/platform/home-lock.ts).
  'HOME_LOCKED',
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
