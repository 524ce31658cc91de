import express from 'express';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { credentialsFromHeaders, type Authenticator, type Principal } from '../../auth/index.js';
import { withRequestScope } from '../../logging/index.js';
import type { PersistedQueries } from '../execution/persisted-queries.js';
import { responseKey, type GraphQLBody, type ResponseCache } from '../execution/response-cache.js';
import type { RateDecision, RateLimiter } from '../guard/rate-limit.js';
import type { ApiServices } from './context.js';
import { BODY_LIMIT } from './http-errors.js';
import { acceptOf, nameCachedOperation, sendResponse } from './send-response.js';
import type { RequestObservation } from './observability.js';

/**
 * The fast path for response-cache hits: a plain Node request listener in front of the
 * Express app that answers a GraphQL POST whose answer is kept (response-cache.ts)
 * without Express (its router, request/response prototypes and middleware stack) or
 * Apollo (its request pipeline, plugins, context), which a CPU profile showed to be most
 * of what a hit cost. Every guard a hit passes in the full pipeline runs here, in the
 * same order and with the same code:
 *
 * 1. observation (observability.ts): the request id (`x-request-id` taken or made, and
 *    returned), the latency histogram per operation, the access line;
 * 2. the rate limit (rate-limit.ts), before the body is read: a hit spends the budget;
 * 3. the body, read by the same body-parser `express.json` uses, with the same limit;
 * 4. persisted queries (`PersistedQueries.documentOf`): the document a request runs
 *    (sent, or found by a hash-only request's sha256), and in `allowlist` mode only a
 *    listed one;
 * 5. authentication (src/auth) before the cache is touched: the role is part of the key.
 *
 * What it skips is safe to skip for a hit: a kept answer is a settled query's, executed
 * by Apollo under the same limits, allow-list and role when it was stored, and keyed by
 * everything it depends on (data version, role, document, variables, operation name,
 * `Accept`). Anything else — a refusal at any step, a miss, a GET, another path, an
 * unexpected error — is passed on to Express with what was learnt (`fastPathState`), so
 * nothing is done twice (the budget is not spent again, the token not verified again)
 * and every refusal is sent by the one piece of code that sends it for every request.
 */
export interface FastPathOptions {
  readonly path: string;
  readonly cache: ResponseCache;
  readonly services: Pick<ApiServices, 'dataVersion'>;
  readonly auth: Authenticator;
  readonly persisted: PersistedQueries;
  readonly observe: RequestObservation;
  readonly rateLimiter?: RateLimiter;
}

/** A request's authentication: who, or the error it was refused with. */
export type Authentication = { readonly principal: Principal } | { readonly error: unknown };

/** What the fast path learnt of a request it passed on to Express. */
export interface FastPathState {
  /** The rate limit's decision: the budget is spent once. */
  rate?: RateDecision;
  /** body-parser's error, when reading the body failed (Express answers it). */
  bodyError?: unknown;
  authentication?: Authentication;
  /** The cache key it looked up (and missed) at a data version. */
  lookup?: { readonly key: string; readonly version: string };
}

const states = new WeakMap<IncomingMessage, FastPathState>();

/** What the fast path learnt of a request before it passed it on, if it saw it. */
export function fastPathState(req: IncomingMessage): FastPathState | undefined {
  return states.get(req);
}

/** body-parser's JSON reader on Node's own request: it reads only `req`'s headers and stream. */
type BodyReader = (
  req: IncomingMessage,
  res: ServerResponse,
  done: (error?: unknown) => void,
) => void;

export function cacheHitFastPath(options: FastPathOptions, next: RequestListener): RequestListener {
  const readJson = express.json({ limit: BODY_LIMIT }) as unknown as BodyReader;
  const readBody = (req: IncomingMessage, res: ServerResponse) =>
    new Promise<unknown>((resolve) => readJson(req, res, resolve));
  return (req, res) => {
    if (req.method !== 'POST' || req.url !== options.path) {
      next(req, res);
      return;
    }
    const state: FastPathState = {};
    states.set(req, state);
    answer(options, readBody, state, req, res).then(
      (answered) => {
        if (!answered) next(req, res);
      },
      // Express meets the same failure where it would have, and answers it.
      () => next(req, res),
    );
  };
}

/** True when the request was answered from the cache. */
async function answer(
  options: FastPathOptions,
  readBody: (req: IncomingMessage, res: ServerResponse) => Promise<unknown>,
  state: FastPathState,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  const request = options.observe(req, res);
  if (options.rateLimiter !== undefined) {
    state.rate = await options.rateLimiter.check(req);
    if (!state.rate.allowed) return false;
  }
  const bodyError = await readBody(req, res);
  if (bodyError !== undefined) {
    state.bodyError = bodyError;
    return false;
  }
  const body = (req as IncomingMessage & { body?: GraphQLBody }).body;
  const document = options.persisted.documentOf(body);
  if (body === undefined || document === undefined) return false;
  const principal = await authenticated(options.auth, request.id, state, req);
  if (principal === undefined) return false;
  const version = await options.services.dataVersion();
  const key = responseKey(version, principal.role, acceptOf(req), document, body);
  const hit = options.cache.get(key);
  if (hit === undefined) {
    state.lookup = { key, version };
    return false;
  }
  options.persisted.answeredFromCache(body, document);
  nameCachedOperation(request, hit);
  sendResponse(req, res, hit, 'hit');
  return true;
}

async function authenticated(
  auth: Authenticator,
  requestId: string,
  state: FastPathState,
  req: IncomingMessage,
): Promise<Principal | undefined> {
  try {
    const principal =
      auth.mode === 'off'
        ? await authenticate(auth, req)
        : // A token check may log (an unreachable key set): under the request's id.
          await withRequestScope({ requestId }, () => authenticate(auth, req));
    state.authentication = { principal };
    return principal;
  } catch (error) {
    state.authentication = { error };
    return undefined;
  }
}

/** Who sent a request. With auth off nothing is read, not even a malformed header. */
export function authenticate(auth: Authenticator, req: IncomingMessage): Promise<Principal> {
  return auth.authenticate(auth.mode === 'off' ? undefined : credentialsFromHeaders(req.headers));
}
