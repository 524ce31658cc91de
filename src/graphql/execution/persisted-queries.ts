import type { ApolloServerOptions, ApolloServerPlugin } from '@apollo/server';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { LRUCache } from 'lru-cache';
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

/** Bound (UTF-16 code units) of the query texts `auto` mode keeps by hash. */
export const APQ_STORE_CHARS = 8 << 20;

/**
 * The persisted queries of one server: Apollo's `persistedQueries` option, and the
 * document a request will run, so that the response cache can key a hash-only request
 * (APQ, "Automatic persisted queries" in Apollo's docs) by the text Apollo will execute.
 * In `auto` mode the store of hashes is this object's own LRU (the one Apollo would
 * otherwise make, also without expiry), so the server reads what Apollo registered.
 */
export class PersistedQueries {
  private readonly registered: LRUCache<string, string> | undefined;

  constructor(
    readonly options: PersistedQueriesOptions,
    maxChars = APQ_STORE_CHARS,
  ) {
    this.registered =
      options.mode === 'auto'
        ? new LRUCache<string, string>({
            maxSize: maxChars,
            sizeCalculation: (text, hash) => text.length + hash.length,
          })
        : undefined;
  }

  /** Apollo Server's `persistedQueries` option for the mode. */
  apolloOption(): ApolloServerOptions<ApiContext>['persistedQueries'] {
    if (this.options.mode === 'off') return false;
    // Apollo prefixes its keys (`apq:`); the store answers by hash.
    const byHash = (key: string) => key.slice(key.indexOf(':') + 1);
    const registered = this.registered;
    if (registered !== undefined) {
      return {
        cache: {
          async get(key: string) {
            return registered.get(byHash(key));
          },
          async set(key: string, text: string) {
            registered.set(byHash(key), text);
          },
          async delete(key: string) {
            return registered.delete(byHash(key));
          },
        },
      };
    }
    const allowList = this.options.allowList ?? new Map<string, string>();
    // The allow-list answers by hash and never grows.
    return {
      cache: {
        async get(key: string) {
          return allowList.get(byHash(key));
        },
        async set() {},
        async delete() {
          return false;
        },
      },
    };
  }

  /**
   * A request answered from the response cache in Apollo's place: a text sent with its
   * hash is registered as Apollo registers it once the operation resolves (a kept answer's
   * did), so the client's next, hash-only, request finds it.
   */
  answeredFromCache(body: unknown, document: string): void {
    if (this.registered === undefined || typeof body !== 'object' || body === null) return;
    const { query, extensions } = body as { query?: unknown; extensions?: unknown };
    const hash = (extensions as { persistedQuery?: { sha256Hash?: unknown } | null } | null)
      ?.persistedQuery?.sha256Hash;
    // documentOf checked that the hash is the text's.
    if (query === document && typeof hash === 'string') this.registered.set(hash, document);
  }

  /**
   * The text of the operation a POST body runs, when this mode lets it run: the query as
   * sent (in `allowlist` mode only if it is on the list), or the one registered under a
   * hash-only request's `extensions.persistedQuery.sha256Hash`. Undefined when the body
   * has neither, names an unknown hash or an unsupported version, or sends a text and a
   * hash that do not match: Apollo answers those itself (with its own errors), so the
   * response cache never answers in its place.
   */
  documentOf(body: unknown): string | undefined {
    if (typeof body !== 'object' || body === null) return undefined;
    const { query, extensions } = body as { query?: unknown; extensions?: unknown };
    const persisted = (extensions as { persistedQuery?: unknown } | null | undefined)
      ?.persistedQuery as { version?: unknown; sha256Hash?: unknown } | null | undefined;
    const { mode, allowList } = this.options;
    const listed = (text: string) =>
      mode !== 'allowlist' || allowList?.get(sha256Hex(text)) === text ? text : undefined;
    // Apollo reads a falsy `persistedQuery` as none (requestPipeline.ts).
    if (!persisted) {
      return typeof query === 'string' && query !== '' ? listed(query) : undefined;
    }
    const hash = persisted.sha256Hash;
    if (mode === 'off' || persisted.version !== 1 || typeof hash !== 'string') return undefined;
    if (typeof query === 'string') return sha256Hex(query) === hash ? listed(query) : undefined;
    if (query !== undefined) return undefined;
    // A manifest's ids are checked to be the hashes of their bodies when it is read.
    return mode === 'auto' ? this.registered?.get(hash) : allowList?.get(hash);
  }
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
