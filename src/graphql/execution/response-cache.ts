import { Kind, parse, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { LRUCache } from 'lru-cache';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);

/**
 * Serialized GraphQL responses whose answer is fixed by the lake: every root field read
 * only data below the watermark (or, like `lakeStatus`, only the watermark itself). Such
 * an answer depends on nothing but the request and the data version — the watermark and
 * the versions of the lake's tables (`ApiServices.dataVersion`) — so it is kept under the
 * key (data version, document, variables, operation name, accepted media type) and sent
 * again as bytes, without parsing, validating, executing or serializing. A new table
 * version or a moved watermark changes every key, so nothing stale is ever served; the
 * old entries age out of the byte-bounded LRU. An answer that touched the speed layer
 * (ts ≥ watermark), or any root field that did not declare itself settled, is never kept.
 *
 * Keys include the caller's role: what `@Authorized` lets through depends on it and on
 * nothing else about the caller, so one role's answer is never served to another (a
 * viewer never receives an admin's cached answer, nor an admin a viewer's FORBIDDEN).
 * A field whose answer depends on who asks beyond their role (`me`) never settles. A
 * request without valid credentials is refused before the cache is consulted.
 */
export interface CachedResponse {
  readonly status: number;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
  /**
   * The body gzipped, once, when it is kept (`compressForCache`): sent to a client that
   * accepts gzip (RFC 9110 §12.5.3, §8.4.1.3) instead of compressing on every hit. Absent
   * for a body too small to gain from it.
   */
  readonly gzipped?: Buffer;
  /** The operation's name as Apollo resolved it, for the metrics and log of a hit. */
  readonly operation?: string;
}

/** Bodies below this many bytes are sent as they are: gzip's framing would eat the gain. */
export const MIN_GZIP_BYTES = 1024;

/**
 * The response as it is kept: with its body gzipped off the event loop (zlib runs on
 * libuv's thread pool) when that makes it smaller.
 */
export async function compressForCache(response: CachedResponse): Promise<CachedResponse> {
  if (response.body.byteLength < MIN_GZIP_BYTES) return response;
  const gzipped = await gzipAsync(response.body);
  return gzipped.byteLength < response.body.byteLength ? { ...response, gzipped } : response;
}

export interface ResponseCacheStats {
  readonly entries: number;
  readonly bytes: number;
  readonly maxBytes: number;
  readonly hits: number;
  readonly misses: number;
  readonly stored: number;
}

export class ResponseCache {
  private readonly responses: LRUCache<string, CachedResponse>;
  private hits = 0;
  private misses = 0;
  private stored = 0;

  constructor(readonly maxBytes: number) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
      throw new RangeError(`maxBytes must be a positive integer, not ${maxBytes}`);
    }
    this.responses = new LRUCache<string, CachedResponse>({
      maxSize: maxBytes,
      sizeCalculation: (response, key) =>
        response.body.byteLength +
        (response.gzipped?.byteLength ?? 0) +
        key.length * 2 +
        response.headers.reduce((n, [k, v]) => n + 2 * (k.length + v.length), 64),
    });
  }

  get(key: string): CachedResponse | undefined {
    const response = this.responses.get(key);
    if (response === undefined) this.misses++;
    else this.hits++;
    return response;
  }

  set(key: string, response: CachedResponse): void {
    this.responses.set(key, response);
    this.stored++;
  }

  stats(): ResponseCacheStats {
    return {
      entries: this.responses.size,
      bytes: this.responses.calculatedSize,
      maxBytes: this.maxBytes,
      hits: this.hits,
      misses: this.misses,
      stored: this.stored,
    };
  }
}

/** A GraphQL-over-HTTP POST body, as far as caching needs it. */
export interface GraphQLBody {
  readonly query?: unknown;
  readonly variables?: unknown;
  readonly operationName?: unknown;
}

/**
 * The cache key of a request at a data version: `document` is the text the request runs
 * (`PersistedQueries.documentOf`: sent, or found by its hash), so a hash-only request and
 * one sending the text share the kept answer.
 */
export function responseKey(
  dataVersion: string,
  role: string,
  accept: string,
  document: string,
  body: GraphQLBody,
): string {
  return JSON.stringify([
    dataVersion,
    role,
    accept,
    document,
    body.variables ?? null,
    body.operationName ?? null,
  ]);
}

/**
 * How many root fields the request's query operation selects, when that is plain to
 * see: fields only (no fragments, no directives such as `@skip` that make the count
 * depend on variables). Undefined for anything else (a mutation, a subscription, a
 * document that does not parse, an ambiguous operation): such a response is not cached.
 */
export function rootFieldCount(body: {
  readonly query: string;
  readonly operationName?: unknown;
}): number | undefined {
  let document: DocumentNode;
  try {
    document = parse(body.query, { noLocation: true });
  } catch {
    return undefined;
  }
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  const name = typeof body.operationName === 'string' ? body.operationName : undefined;
  const operation =
    name === undefined
      ? operations.length === 1
        ? operations[0]
        : undefined
      : operations.find((o) => o.name?.value === name);
  if (operation === undefined || operation.operation !== 'query') return undefined;
  let count = 0;
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD || (selection.directives?.length ?? 0) > 0) {
      return undefined;
    }
    count++;
  }
  return count;
}
