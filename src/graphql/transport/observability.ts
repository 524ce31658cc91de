import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestHandler } from 'express';
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
 * First on every path: the request id (the client's `x-request-id` when sensible, else a
 * new one) is returned in the same header and attached to every log line of the request;
 * when the response is sent, one access line is logged and, for GraphQL, its latency
 * observed under its operation's name.
 */
export function requestObserver(
  logger: Logger,
  metrics: ApiMetrics,
  graphqlPath: string,
): RequestHandler {
  return (req, res, next) => {
    const request: ApiRequest = { id: requestIdOf(req.headers[REQUEST_ID_HEADER]) };
    (res.locals as RequestLocals).apiRequest = request;
    res.setHeader(REQUEST_ID_HEADER, request.id);
    const started = performance.now();
    // Read now: a router mounted on a path rewrites req.url while it runs.
    const path = req.path;
    const method = req.method;
    res.once('finish', () => {
      const seconds = (performance.now() - started) / 1000;
      const graphql = path === graphqlPath && method !== 'GET';
      if (graphql) {
        metrics.requestDuration.observe(
          {
            operation: metrics.operationLabel(request.operation),
            type: request.type ?? 'unknown',
          },
          seconds,
        );
      }
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
