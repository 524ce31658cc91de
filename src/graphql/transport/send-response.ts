import Negotiator from 'negotiator';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CachedResponse } from '../execution/response-cache.js';
import type { ApiRequest } from './context.js';

/** Says whether a response came from the response cache (`hit`), was kept (`stored`), or neither. */
export const RESPONSE_CACHE_HEADER = 'alphalake-response-cache';

/**
 * Sends a response: a kept one gzipped when it has a gzipped body and the client accepts
 * gzip (`Accept-Encoding`, with its q-values, RFC 9110 §12.5.3). A cacheable answer says
 * `Vary: Accept-Encoding`, since its bytes depend on that header. Plain Node objects: the
 * fast path sends hits with it before Express has seen the request.
 */
export function sendResponse(
  req: IncomingMessage,
  res: ServerResponse,
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
    response.gzipped !== undefined && prefersGzip(req.headers['accept-encoding'])
      ? response.gzipped
      : undefined;
  if (gzipped !== undefined) res.setHeader('content-encoding', 'gzip');
  const bytes = gzipped ?? response.body;
  res.setHeader('content-length', bytes.byteLength);
  res.end(bytes);
}

/** Accept-Encoding values already negotiated (clients send a handful of distinct ones). */
const gzipPreference = new Map<string, boolean>();
const MAX_REMEMBERED_ENCODINGS = 256;

/**
 * Whether gzip is preferred to identity under this Accept-Encoding, as Express's
 * `req.acceptsEncodings('gzip', 'identity') === 'gzip'` decides it (both negotiate with
 * `negotiator`); no header: identity.
 */
export function prefersGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  let gzip = gzipPreference.get(header);
  if (gzip === undefined) {
    gzip =
      new Negotiator({ headers: { 'accept-encoding': header } }).encodings([
        'gzip',
        'identity',
      ])[0] === 'gzip';
    if (gzipPreference.size >= MAX_REMEMBERED_ENCODINGS) gzipPreference.clear();
    gzipPreference.set(header, gzip);
  }
  return gzip;
}

/** The `Accept` header as the cache key holds it. */
export function acceptOf(req: IncomingMessage): string {
  return req.headers.accept ?? '';
}

/**
 * A cached answer is a query's (only queries are kept), under the operation name Apollo
 * resolved when it was kept (the client's `operationName`, or the document's only name).
 */
export function nameCachedOperation(
  request: ApiRequest | undefined,
  response: CachedResponse,
): void {
  if (request === undefined) return;
  request.type = 'query';
  if (response.operation !== undefined) request.operation = response.operation;
}
