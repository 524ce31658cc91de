import { HeaderMap, type ApolloServer } from '@apollo/server';
import type { Request, RequestHandler, Response } from 'express';
import { actorOf, type Authenticator, type Principal } from '../../auth/index.js';
import { isAlphalakeError } from '../../domain/index.js';
import type { ApiContext, ApiRequest, ApiServices } from './context.js';
import type { RequestLocals } from './observability.js';
import { requestLoaders } from '../execution/loaders.js';
import {
  compressForCache,
  responseKey,
  rootFieldCount,
  type CachedResponse,
  type GraphQLBody,
  type ResponseCache,
} from '../execution/response-cache.js';
import type { PersistedQueries } from '../execution/persisted-queries.js';
import { authenticate, fastPathState, type Authentication } from './fast-path.js';
import { acceptOf, nameCachedOperation, sendResponse } from './send-response.js';

/**
 * GraphQL over HTTP through Apollo Server (what @as-integrations/express5 does), with
 * authentication and the response cache in front. The caller's credentials are checked
 * first: without valid ones the request is answered 401 UNAUTHENTICATED (503 UNAVAILABLE
 * when the identity provider's keys cannot be fetched) before anything is parsed, so an
 * anonymous caller learns nothing of the schema, a field or a record. Then a request
 * whose answer is cached for the caller's role is sent from memory; any other runs
 * through Apollo, and its response is kept when every root field declared itself settled
 * (see response-cache.ts) and the data version did not move meanwhile. A request the
 * cache-hit fast path (fast-path.ts) already authenticated and looked up is not
 * authenticated nor looked up again.
 */
export function graphqlHttpHandler(
  apollo: ApolloServer<ApiContext>,
  services: ApiServices,
  cache: ResponseCache | undefined,
  auth: Authenticator,
  persisted: PersistedQueries,
): RequestHandler {
  // Misses of one key in flight: the first request computes, the others wait for it (a
  // new data version would otherwise send every concurrent client through Apollo at once).
  const inflight = new Map<string, Promise<CachedResponse | undefined>>();
  return (req, res, next) => {
    authenticated(auth, req, res)
      .then((principal) =>
        principal === undefined
          ? undefined
          : handle(apollo, services, cache, persisted, inflight, principal, req, res),
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
    const known = fastPathState(req)?.authentication;
    if (known !== undefined) return principalOf(known);
    return await authenticate(auth, req);
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

/** The principal of an authentication, or its error thrown. */
function principalOf(authentication: Authentication): Principal {
  if ('principal' in authentication) return authentication.principal;
  throw authentication.error;
}

async function handle(
  apollo: ApolloServer<ApiContext>,
  services: ApiServices,
  cache: ResponseCache | undefined,
  persisted: PersistedQueries,
  inflight: Map<string, Promise<CachedResponse | undefined>>,
  principal: Principal,
  req: Request,
  res: Response,
): Promise<void> {
  const body = req.body as GraphQLBody;
  const document = cache && req.method === 'POST' ? persisted.documentOf(body) : undefined;
  if (!cache || document === undefined) {
    await execute(apollo, services, principal, req, res, undefined);
    return;
  }
  // The fast path looked this request up a moment ago and missed.
  const looked = fastPathState(req)?.lookup;
  const version = looked?.version ?? (await services.dataVersion());
  const key = looked?.key ?? responseKey(version, principal.role, acceptOf(req), document, body);
  const hit = looked === undefined ? cache.get(key) : undefined;
  if (hit !== undefined) {
    persisted.answeredFromCache(body, document);
    nameCachedOperation(requestOf(res), hit);
    sendResponse(req, res, hit, 'hit');
    return;
  }
  const pending = inflight.get(key);
  if (pending !== undefined) {
    const shared = await pending;
    if (shared !== undefined) {
      persisted.answeredFromCache(body, document);
      nameCachedOperation(requestOf(res), shared);
      sendResponse(req, res, shared, 'hit');
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
      fields: () => rootFieldCount({ query: document, operationName: body.operationName }),
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
      request: requestOf(res),
    }),
  });
  const status = response.status ?? 200;
  if (response.body.kind === 'complete') {
    const text = response.body.string;
    const operation = requestOf(res)?.operation;
    const cached: CachedResponse = {
      status,
      headers: [...response.headers],
      body: Buffer.from(text),
      ...(operation === undefined ? {} : { operation }),
    };
    const keep =
      target !== undefined &&
      status === 200 &&
      settled > 0 &&
      !unsettled &&
      !text.startsWith('{"errors"') &&
      settled === target.fields() &&
      (await services.dataVersion()) === target.version;
    sendResponse(req, res, cached, target === undefined ? undefined : keep ? 'stored' : 'miss');
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

/** The observed request (observability.ts) that Express's `res.locals` carries. */
function requestOf(res: Response): ApiRequest | undefined {
  return (res.locals as RequestLocals).apiRequest;
}
