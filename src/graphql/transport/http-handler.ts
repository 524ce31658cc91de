import { HeaderMap, type ApolloServer } from '@apollo/server';
import type { Request, RequestHandler, Response } from 'express';
import {
  actorOf,
  credentialsFromHeaders,
  type Authenticator,
  type Principal,
} from '../../auth/index.js';
import { isAlphalakeError } from '../../domain/index.js';
import type { ApiContext, ApiServices } from './context.js';
import type { RequestLocals } from './observability.js';
import { requestLoaders } from '../execution/loaders.js';
import {
  compressForCache,
  isGraphQLBody,
  responseKey,
  rootFieldCount,
  type CachedResponse,
  type ResponseCache,
} from '../execution/response-cache.js';

/** Says whether a response came from the response cache (`hit`), was kept (`stored`), or neither. */
export const RESPONSE_CACHE_HEADER = 'alphalake-response-cache';

/**
 * GraphQL over HTTP through Apollo Server (what @as-integrations/express5 does), with
 * authentication and the response cache in front. The caller's credentials are checked
 * first: without valid ones the request is answered 401 UNAUTHENTICATED (503 UNAVAILABLE
 * when the identity provider's keys cannot be fetched) before anything is parsed, so an
 * anonymous caller learns nothing of the schema, a field or a record. Then a request
 * whose answer is cached for the caller's role is sent from memory; any other runs
 * through Apollo, and its response is kept when every root field declared itself settled
 * (see response-cache.ts) and the data version did not move meanwhile.
 */
export function graphqlHttpHandler(
  apollo: ApolloServer<ApiContext>,
  services: ApiServices,
  cache: ResponseCache | undefined,
  auth: Authenticator,
): RequestHandler {
  // Misses of one key in flight: the first request computes, the others wait for it (a
  // new data version would otherwise send every concurrent client through Apollo at once).
  const inflight = new Map<string, Promise<CachedResponse | undefined>>();
  return (req, res, next) => {
    authenticated(auth, req, res)
      .then((principal) =>
        principal === undefined
          ? undefined
          : handle(apollo, services, cache, inflight, principal, req, res),
      )
      .catch(next);
  };
}

/** The request's principal, or undefined once the refusal has been sent. */
async function authenticated(
  auth: Authenticator,
  req: Request,
  res: Response,
): Promise<Principal | undefined> {
  try {
    // With auth off nothing is read, not even a malformed header.
    return await auth.authenticate(
      auth.mode === 'off' ? undefined : credentialsFromHeaders(req.headers),
    );
  } catch (error) {
    if (!isAlphalakeError(error, 'UNAUTHENTICATED') && !isAlphalakeError(error, 'UNAVAILABLE')) {
      throw error;
    }
    const unauthenticated = error.code === 'UNAUTHENTICATED';
    res
      .status(unauthenticated ? 401 : 503)
      // RFC 6750 §3: a 401 names the scheme the client should use.
      .set(unauthenticated ? { 'www-authenticate': 'Bearer realm="alphalake"' } : {})
      .json({ errors: [{ message: error.message, extensions: { code: error.code } }] });
    return undefined;
  }
}

async function handle(
  apollo: ApolloServer<ApiContext>,
  services: ApiServices,
  cache: ResponseCache | undefined,
  inflight: Map<string, Promise<CachedResponse | undefined>>,
  principal: Principal,
  req: Request,
  res: Response,
): Promise<void> {
  const body: unknown = req.body;
  if (!cache || req.method !== 'POST' || !isGraphQLBody(body)) {
    await execute(apollo, services, principal, req, res, undefined);
    return;
  }
  const version = await services.dataVersion();
  const key = responseKey(version, principal.role, body, req.headers.accept ?? '');
  const hit = cache.get(key);
  if (hit !== undefined) {
    nameCachedOperation(res, body);
    send(req, res, hit, 'hit');
    return;
  }
  const pending = inflight.get(key);
  if (pending !== undefined) {
    const shared = await pending;
    if (shared !== undefined) {
      nameCachedOperation(res, body);
      send(req, res, shared, 'hit');
      return;
    }
    await execute(apollo, services, principal, req, res, undefined);
    return;
  }
  let settle!: (response: CachedResponse | undefined) => void;
  inflight.set(key, new Promise((resolve) => (settle = resolve)));
  let stored: CachedResponse | undefined;
  try {
    stored = await execute(apollo, services, principal, req, res, {
      cache,
      key,
      version,
      fields: () => rootFieldCount(body),
    });
  } finally {
    inflight.delete(key);
    settle(stored);
  }
}

interface CacheTarget {
  readonly cache: ResponseCache;
  readonly key: string;
  readonly version: string;
  readonly fields: () => number | undefined;
}

/** Runs the request through Apollo and sends the response; returns it if it was cached. */
async function execute(
  apollo: ApolloServer<ApiContext>,
  services: ApiServices,
  principal: Principal,
  req: Request,
  res: Response,
  target: CacheTarget | undefined,
): Promise<CachedResponse | undefined> {
  const body: unknown = req.body;
  let settled = 0;
  let unsettled = false;
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const response = await apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: {
      method: req.method.toUpperCase(),
      headers,
      search: new URL(req.url, 'http://localhost').search,
      body,
    },
    context: async () => ({
      services,
      principal,
      actor: actorOf(principal),
      settle: () => {
        settled++;
      },
      unsettle: () => {
        unsettled = true;
      },
      loaders: requestLoaders(services.market),
      request: (res.locals as RequestLocals).apiRequest,
    }),
  });
  const status = response.status ?? 200;
  if (response.body.kind === 'complete') {
    const text = response.body.string;
    const cached: CachedResponse = {
      status,
      headers: [...response.headers],
      body: Buffer.from(text),
    };
    const keep =
      target !== undefined &&
      status === 200 &&
      settled > 0 &&
      !unsettled &&
      !text.startsWith('{"errors"') &&
      settled === target.fields() &&
      (await services.dataVersion()) === target.version;
    send(req, res, cached, target === undefined ? undefined : keep ? 'stored' : 'miss');
    if (!keep) return undefined;
    // Compressed once, after this answer is sent; requests of the same key meanwhile wait
    // for it (the in-flight map) and are served the kept entry.
    const kept = await compressForCache(cached);
    target.cache.set(target.key, kept);
    return kept;
  }
  for (const [name, value] of response.headers) res.setHeader(name, value);
  res.statusCode = status;
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
  return undefined;
}

/**
 * Sends a response: a kept one gzipped when it has a gzipped body and the client accepts
 * gzip (`Accept-Encoding`, with its q-values, RFC 9110 §12.5.3). A cacheable answer says
 * `Vary: Accept-Encoding`, since its bytes depend on that header.
 */
function send(
  req: Request,
  res: Response,
  response: CachedResponse,
  outcome: string | undefined,
): void {
  res.statusCode = response.status;
  for (const [name, value] of response.headers) res.setHeader(name, value);
  if (outcome === undefined) {
    res.setHeader('content-length', response.body.byteLength);
    res.end(response.body);
    return;
  }
  res.setHeader(RESPONSE_CACHE_HEADER, outcome);
  res.setHeader('vary', 'accept-encoding');
  const gzipped =
    response.gzipped !== undefined &&
    req.headers['accept-encoding'] !== undefined &&
    req.acceptsEncodings('gzip', 'identity') === 'gzip'
      ? response.gzipped
      : undefined;
  if (gzipped !== undefined) res.setHeader('content-encoding', 'gzip');
  const bytes = gzipped ?? response.body;
  res.setHeader('content-length', bytes.byteLength);
  res.end(bytes);
}

/** A cached answer is a query's (only queries are kept), under the name the client sent. */
function nameCachedOperation(res: Response, body: { operationName?: unknown }): void {
  const request = (res.locals as RequestLocals).apiRequest;
  if (request === undefined) return;
  request.type = 'query';
  if (typeof body.operationName === 'string') request.operation = body.operationName;
}
