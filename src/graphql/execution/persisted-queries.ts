import type { ApolloServerOptions, ApolloServerPlugin } from '@apollo/server';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AlphalakeError } from '../../domain/index.js';
import type { ApiContext } from '../transport/context.js';

/**
 * Persisted queries (PERSISTED_QUERIES):
 * - `auto`: Apollo's automatic persisted queries (APQ): a client sends the SHA-256 of its
 *   query in `extensions.persistedQuery`; an unknown hash answers
 *   PERSISTED_QUERY_NOT_FOUND, the client sends the text once with the hash, and the
 *   server keeps it (Apollo's in-memory LRU cache) for the next time.
 * - `allowlist`: only the operations of a manifest run — sent by hash, or as text whose
 *   hash is on the list; anything else is refused with PERSISTED_QUERY_NOT_ALLOWED before
 *   it executes, and clients cannot add to the list.
 * - `off`: no persisted queries; a request carrying a hash is refused by Apollo.
 *
 * The manifest is Apollo's persisted query manifest (JSON: `{ "format":
 * "apollo-persisted-query-manifest", "version": 1, "operations": [{ "id", "body", ... }] }`,
 * as `generate-persisted-query-manifest` writes it); `id` must be the SHA-256 of `body`
 * in hex, as APQ hashes it, and is checked when the file is read.
 */
export type PersistedQueriesMode = 'off' | 'auto' | 'allowlist';

export interface PersistedQueriesOptions {
  readonly mode: PersistedQueriesMode;
  /** The allow-list: query text by SHA-256 hex (`allowlist` only). */
  readonly allowList?: ReadonlyMap<string, string>;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Reads an Apollo persisted query manifest; BAD_USER_INPUT naming the file when it is not one. */
export function loadPersistedQueryManifest(file: string): ReadonlyMap<string, string> {
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new AlphalakeError(
      'BAD_USER_INPUT',
      `PERSISTED_QUERIES_FILE ${file} cannot be read as JSON: ${(error as Error).message}`,
      { file },
    );
  }
  const operations = (manifest as { operations?: unknown }).operations;
  if (!Array.isArray(operations)) {
    throw new AlphalakeError(
      'BAD_USER_INPUT',
      `PERSISTED_QUERIES_FILE ${file} is not a persisted query manifest: it has no "operations" list`,
      { file },
    );
  }
  const allowList = new Map<string, string>();
  for (const [index, operation] of operations.entries()) {
    const { id, body } = (operation ?? {}) as { id?: unknown; body?: unknown };
    if (typeof body !== 'string' || typeof id !== 'string' || sha256Hex(body) !== id) {
      throw new AlphalakeError(
        'BAD_USER_INPUT',
        `PERSISTED_QUERIES_FILE ${file}: operation ${index} needs a "body" and an "id" that is the SHA-256 of the body in hex`,
        { file, index },
      );
    }
    allowList.set(id, body);
  }
  return allowList;
}

/** Apollo Server's `persistedQueries` option for a mode. */
export function apolloPersistedQueries(
  options: PersistedQueriesOptions,
): ApolloServerOptions<ApiContext>['persistedQueries'] {
  if (options.mode === 'off') return false;
  if (options.mode === 'auto') return {};
  const allowList = options.allowList ?? new Map<string, string>();
  return {
    // Apollo prefixes its keys (`apq:`); the list answers by hash and never grows.
    cache: {
      async get(key: string) {
        return allowList.get(key.slice(key.indexOf(':') + 1));
      },
      async set() {},
      async delete() {
        return false;
      },
    },
  };
}

/** `allowlist` only: refuses an operation whose text is not on the list. */
export function allowListPlugin(options: PersistedQueriesOptions): ApolloServerPlugin<ApiContext> {
  const allowList = options.allowList ?? new Map<string, string>();
  return {
    async requestDidStart() {
      if (options.mode !== 'allowlist') return;
      let allowed = false;
      return {
        async didResolveSource({ source, queryHash }) {
          // Apollo hashes the text it resolved (sent, or found by hash) as APQ does.
          allowed = allowList.get(queryHash) === source;
        },
        // Refused here, before execution: Apollo answers an error thrown in this hook
        // as the request's error (one thrown while resolving the source would be a 500).
        async didResolveOperation() {
          if (!allowed) {
            throw new AlphalakeError(
              'PERSISTED_QUERY_NOT_ALLOWED',
              'this server runs only the operations on its allow-list (PERSISTED_QUERIES=allowlist): send a persisted query hash from the list',
            );
          }
        },
      };
    },
  };
}

/**
 * `allowlist` only, for graphql-ws (which has no persisted queries): the refusal of a
 * subscription whose text is not on the list, or undefined when it may run.
 */
export function allowListRefusal(
  options: PersistedQueriesOptions,
  query: string,
): AlphalakeError | undefined {
  if (options.mode !== 'allowlist') return undefined;
  if (options.allowList?.get(sha256Hex(query)) === query) return undefined;
  return new AlphalakeError(
    'PERSISTED_QUERY_NOT_ALLOWED',
    'this server runs only the operations on its allow-list (PERSISTED_QUERIES=allowlist): this subscription is not on it',
  );
}
