import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestHandler } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../logging/index.js';
import { requestIdOf, withRequestScope } from '../../logging/index.js';
import type { Counter, Histogram, MetricsRegistry } from '../../metrics/index.js';
import type { ApiContext, ApiRequest } from './context.js';

/** The header a request id arrives in and is returned in. */
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * The API's own metrics: the rate and latency of GraphQL requests per operation (a
 * histogram's `_count` is the request count), the errors clients see per code, and the
 * open WebSocket connections.
 */
export interface ApiMetrics {
  readonly requestDuration: Histogram<'operation' | 'type'>;
  readonly errors: Counter<'code'>;
  readonly operationLabel: (name: string | null | undefined) => string;
}

/**
 * Latency buckets (seconds): a cached answer takes well under a millisecond, a month of
 * bars from DuckDB a few hundred.
 */
const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/**
 * Distinct operation names kept as label values; names are the client's to choose, so
 * past this many the rest share `_other` rather than growing the series without bound.
 */
const MAX_OPERATION_LABELS = 200;

export function apiMetrics(metrics: MetricsRegistry, openSockets: () => number): ApiMetrics {
  const named = new Set<string>();
  metrics.gauge(
    'alphalake_graphql_websocket_connections',
    'Open graphql-ws connections (each may carry several subscriptions).',
    openSockets,
  );
  return {
    requestDuration: metrics.histogram(
      'alphalake_graphql_request_duration_seconds',
      'GraphQL requests over HTTP, by operation name and type, from arrival to the last byte sent; _count is the request count.',
      ['operation', 'type'],
      LATENCY_BUCKETS,
    ),
    errors: metrics.counter(
      'alphalake_graphql_errors_total',
      'Errors sent to clients, by extensions.code (RATE_LIMITED included).',
      ['code'],
    ),
    operationLabel(name) {
      if (name === null || name === undefined || name === '') return '_anonymous';
      if (named.has(name)) return name;
      if (named.size >= MAX_OPERATION_LABELS) return '_other';
      named.add(name);
      return name;
    },
  };
}

/** What the server knows of a request in `res.locals`. */
export interface RequestLocals {
  apiRequest?: ApiRequest;
}

/**
 * Starts observing a request, once (a second call answers the same record): the request
 * id (the client's `x-request-id` when sensible, else a new one) is returned in the same
 * header; when the response is sent, one access line is logged (when `info` is on: the
 * line's object is not even built otherwise) and, for a GraphQL POST, its latency
 * observed under its operation's name. Shared by the cache-hit fast path (fast-path.ts)
 * and `requestObserver`, so a request the fast path passes on is counted once.
 */
export type RequestObservation = (req: IncomingMessage, res: ServerResponse) => ApiRequest;

export function requestObservation(
  logger: Logger,
  metrics: ApiMetrics,
  graphqlPath: string,
): RequestObservation {
  const observed = new WeakMap<IncomingMessage, ApiRequest>();
  return (req, res) => {
    const seen = observed.get(req);
    if (seen !== undefined) return seen;
    const request: ApiRequest = { id: requestIdOf(req.headers[REQUEST_ID_HEADER]) };
    observed.set(req, request);
    res.setHeader(REQUEST_ID_HEADER, request.id);
    const started = performance.now();
    // Read now: a router mounted on a path rewrites req.url while it runs.
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    const method = req.method ?? 'GET';
    res.once('finish', () => {
      const seconds = (performance.now() - started) / 1000;
      if (path === graphqlPath && method !== 'GET') {
        metrics.requestDuration.observe(
          {
            operation: metrics.operationLabel(request.operation),
            type: request.type ?? 'unknown',
          },
          seconds,
        );
      }
      if (!logger.isLevelEnabled('info')) return;
      logger.info(
        {
          requestId: request.id,
          method,
          path,
          status: res.statusCode,
          durationMs: Math.round(seconds * 1e6) / 1e3,
          ...(request.operation ? { operation: request.operation } : {}),
        },
        'request',
      );
    });
    return request;
  };
}

/**
 * First on every path Express serves: observes the request (`requestObservation`, a no-op
 * for one the fast path already observed) and attaches its id to every log line of it.
 */
export function requestObserver(observe: RequestObservation): RequestHandler {
  return (req, res, next) => {
    const request = observe(req, res);
    (res.locals as RequestLocals).apiRequest = request;
    withRequestScope({ requestId: request.id }, next);
  };
}

/**
 * Enters the request's log scope again: body parsing resumes on the socket's own async
 * context, so the scope entered by `requestObserver` is lost by the time GraphQL runs.
 */
export const reenterRequestScope: RequestHandler = (_req, res, next) => {
  const request = (res.locals as RequestLocals).apiRequest;
  if (request === undefined) return next();
  withRequestScope({ requestId: request.id }, next);
};

/** Names the operation (and its type) on the request, for the access log and metrics. */
export function operationRecorder(): ApolloServerPlugin<ApiContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, operation, operationName }) {
          const request = contextValue.request;
          if (request === undefined) return;
          request.operation = operationName ?? undefined;
          request.type = operation?.operation;
        },
      };
    },
  };
}
