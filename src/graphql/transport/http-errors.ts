import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorCode } from '../../domain/index.js';
import { processLogger } from '../../logging/index.js';

/**
 * The HTTP requests the server refuses before any GraphQL runs, answered in the same
 * shape as a GraphQL error (GraphQL over HTTP, "Response": `{"errors": [...]}`), so a
 * client parses one shape whatever went wrong: a body that is not JSON, a body over
 * the limit, a content type other than JSON, an unknown path, a method the path does
 * not serve. Never Express's default error page: that one is HTML and, whenever
 * NODE_ENV is not `production`, carries the stack trace with the server's file paths.
 */
export type HttpErrorCode = Extract<
  ErrorCode,
  | 'BAD_REQUEST'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RATE_LIMITED'
  | 'INTERNAL'
>;

/** The status of each code (RFC 9110, section 15). */
export const HTTP_STATUS: Readonly<Record<HttpErrorCode, number>> = {
  BAD_REQUEST: 400,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL: 500,
};

/** The largest request body accepted, as body-parser spells it, and as a person reads it. */
export const BODY_LIMIT = '1mb';
const BODY_LIMIT_TEXT = '1 MB';

export function sendHttpError(
  res: Response,
  code: HttpErrorCode,
  message: string,
  headers: Record<string, string> = {},
  extensions: Record<string, string | number> = {},
): void {
  res
    .status(HTTP_STATUS[code])
    .set(headers)
    .json({ errors: [{ message, extensions: { code, ...extensions } }] });
}

/** Refuses a WebSocket upgrade with the same JSON body, written on the raw socket. */
export function rejectUpgrade(
  socket: Duplex,
  code: HttpErrorCode,
  message: string,
  headers: Record<string, string> = {},
  extensions: Record<string, string | number> = {},
): void {
  const status = HTTP_STATUS[code];
  const body = JSON.stringify({ errors: [{ message, extensions: { code, ...extensions } }] });
  // The HTTP server stops watching an upgraded socket: a client that resets it must not
  // raise an unhandled 'error'.
  socket.on('error', () => socket.destroy());
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: application/json; charset=utf-8\r\n' +
      Object.entries(headers)
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('') +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n` +
      body,
  );
}

/**
 * Answers every method but `allowed` with 405 and an `Allow` header (RFC 9110, 15.5.6);
 * OPTIONS gets 204 with the same header. Mount it after the path's own handlers.
 */
export function methodNotAllowed(allowed: readonly string[]): RequestHandler {
  const allow = allowed.join(', ');
  return (req, res, next) => {
    if (allowed.includes(req.method)) return next();
    if (req.method === 'OPTIONS') {
      res.status(204).set('Allow', allow).end();
      return;
    }
    sendHttpError(
      res,
      'METHOD_NOT_ALLOWED',
      `${req.method} is not served on ${req.path}: use ${allow}`,
      {
        Allow: allow,
      },
    );
  };
}

/**
 * A POST to GraphQL carries `application/json` (GraphQL over HTTP, "POST"); anything
 * else is refused here, before the body is read, rather than parsed as something else.
 */
export const requireJsonBody: RequestHandler = (req, res, next) => {
  if (req.method !== 'POST') return next();
  const type = req.is('application/json');
  // `Content-Length: 0` counts as a body for type-is; for a client it is none.
  if (type === null || (req.get('content-length') === '0' && !req.get('content-type'))) {
    sendHttpError(res, 'BAD_REQUEST', 'POST needs a JSON body, e.g. {"query": "{ __typename }"}');
    return;
  }
  if (type === false) {
    sendHttpError(
      res,
      'UNSUPPORTED_MEDIA_TYPE',
      `POST takes Content-Type: application/json, not ${req.get('content-type') ?? 'none'}`,
    );
    return;
  }
  next();
};

/** The last route: nothing above served this path. */
export const notFound: RequestHandler = (req, res) => {
  sendHttpError(res, 'NOT_FOUND', `nothing is served at ${req.method} ${req.path}`);
};

/**
 * The error handler Express calls instead of its HTML page. body-parser's failures carry
 * a `type` (body-parser README, "Errors"); other client errors carry a 4xx `status` and a
 * message meant for the client (`expose`); anything else is our fault and is masked.
 */
export const jsonErrors: ErrorRequestHandler = (error: unknown, req, res, next) => {
  if (res.headersSent) return next(error);
  const failure = (error ?? {}) as {
    type?: unknown;
    status?: unknown;
    expose?: unknown;
    message?: unknown;
  };
  const message = typeof failure.message === 'string' ? failure.message : '';
  switch (failure.type) {
    case 'entity.parse.failed':
      return sendHttpError(res, 'BAD_REQUEST', `the request body is not valid JSON: ${message}`);
    case 'entity.too.large':
      return sendHttpError(
        res,
        'PAYLOAD_TOO_LARGE',
        `the request body is over the limit of ${BODY_LIMIT_TEXT}`,
      );
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return sendHttpError(res, 'UNSUPPORTED_MEDIA_TYPE', message);
  }
  const status = typeof failure.status === 'number' ? failure.status : 500;
  if (status === 404) return notFound(req, res, next);
  if (status >= 400 && status < 500 && failure.expose === true && message) {
    return sendHttpError(res, status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST', message);
  }
  processLogger().error({ err: error }, `internal error serving ${req.method} ${req.path}`);
  sendHttpError(res, 'INTERNAL', 'Unexpected error.');
};
