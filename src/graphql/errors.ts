import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { AlphalakeError } from '../domain/index.js';
import { processLogger, type Logger } from '../logging/index.js';

/**
 * What a client sees when something fails. An AlphalakeError keeps its message and
 * its code in `extensions.code`; so does a GraphQL error caused by one (a scalar
 * that refused a literal, for instance). Anything else is logged, and masked as
 * INTERNAL unless the server runs in development, which shows its message (never its
 * stack: that names the server's files).
 */
export function formatError(
  formatted: GraphQLFormattedError,
  error: unknown,
  options: { development: boolean; logger?: Logger },
): GraphQLFormattedError {
  const cause = alphalakeCause(error);
  if (cause) {
    return {
      ...formatted,
      message: formatted.message,
      extensions: { ...formatted.extensions, code: cause.code, ...pick(cause.details) },
    };
  }
  const code = formatted.extensions?.code;
  // graphql-js and Apollo already say precisely what was wrong with a request.
  if (
    code === 'GRAPHQL_PARSE_FAILED' ||
    code === 'GRAPHQL_VALIDATION_FAILED' ||
    code === 'BAD_USER_INPUT' ||
    code === 'BAD_REQUEST' ||
    code === 'PERSISTED_QUERY_NOT_FOUND' ||
    code === 'PERSISTED_QUERY_NOT_SUPPORTED' ||
    code === 'OPERATION_RESOLUTION_FAILURE'
  ) {
    return formatted;
  }
  // Apollo's APQ check raises this one without a code (requestPipeline.ts; Apollo then
  // calls it INTERNAL_SERVER_ERROR): a client error.
  if (
    formatted.message === APOLLO_HASH_MISMATCH &&
    (code === undefined || code === 'INTERNAL_SERVER_ERROR')
  ) {
    return {
      message:
        'provided sha does not match query: extensions.persistedQuery.sha256Hash must be the SHA-256 (hex) of the query sent with it',
      extensions: { code: 'BAD_REQUEST' },
    };
  }
  (options.logger ?? processLogger()).error({ err: error }, 'internal error');
  if (options.development)
    return { ...formatted, extensions: { ...formatted.extensions, code: 'INTERNAL' } };
  return {
    message: 'Unexpected error.',
    ...(formatted.path ? { path: formatted.path } : {}),
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    extensions: { code: 'INTERNAL' },
  };
}

const APOLLO_HASH_MISMATCH = 'provided sha does not match query';

function alphalakeCause(error: unknown): AlphalakeError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    if (current instanceof AlphalakeError) return current;
    // graphql-js' GraphQLError and graphql-jit's error objects both name the resolver's
    // error `originalError`; other errors may carry a `cause`.
    const next = current as { originalError?: unknown; cause?: unknown };
    current =
      current instanceof GraphQLError || next.originalError !== undefined
        ? next.originalError
        : next.cause;
  }
  return undefined;
}

function pick(details: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const safe: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(details)) {
    if (['string', 'number', 'boolean'].includes(typeof value)) safe[key] = value;
  }
  return safe;
}
