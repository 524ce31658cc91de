import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import express from 'express';
import { specifiedRules, validate, type GraphQLFormattedError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { ApiContext, ApiServices } from './context.js';
import { SLOW_CONSUMER_CLOSE_CODE } from '../speed/index.js';
import { isoOfMicros } from '../domain/index.js';
import { formatError } from './errors.js';
import {
  BODY_LIMIT,
  jsonErrors,
  methodNotAllowed,
  notFound,
  rejectUpgrade,
  requireJsonBody,
} from './http-errors.js';
import { costLimitRule } from './limits.js';
import { AlphalakeError } from '../domain/index.js';
import { GRAPHIQL_ASSET_PREFIX, GRAPHIQL_ASSETS, graphiqlPage } from './graphiql.js';
import { buildApiSchema } from './schema.js';
import { graphqlHttpHandler } from './http-handler.js';
import { jitGateway } from './jit-executor.js';
import { ResponseCache } from './response-cache.js';

export interface ApiServerOptions {
  readonly host: string;
  readonly port: number;
  /** Show internal error messages to clients. */
  readonly development: boolean;
  /** Readiness: true once the platform has started (history backfilled, consumers running). */
  readonly ready: () => boolean;
  /** Bound (bytes) of the cache of settled responses; 0 or absent: no cache. */
  readonly responseCacheBytes?: number;
  /**
   * The configured backends (the bus, …) and whether each answers now: `/readyz` lists
   * them and is not ready (503) while one is down. @default none
   */
  readonly backends?: (signal: AbortSignal) => Promise<Readonly<Record<string, BackendHealth>>>;
}

/** One backend as `/readyz` shows it. */
export interface BackendHealth {
  readonly backend: string;
  readonly ready: boolean;
  readonly detail: string;
  /** The lake only: the latest version of `silver.bars_1m`, whose commits move the watermark. */
  readonly version?: number;
  /**
   * The lake only: seconds from the watermark to now (null before the first one). Shown,
   * never a failure by itself: the watermark rightly stands still while the market is shut.
   */
  readonly watermarkAgeSeconds?: number | null;
}

/** How long `/readyz` waits for a backend's answer before calling it down. */
const READINESS_TIMEOUT_MS = 3_000;

export interface ApiServer {
  readonly url: string;
  readonly wsUrl: string;
  close(): Promise<void>;
}

const GRAPHQL_PATH = '/graphql';

/**
 * One HTTP port for everything: Apollo Server for queries and mutations, graphql-ws
 * for subscriptions on the same path, GraphiQL for browsers, `/healthz`, `/readyz` and
 * `/metrics`.
 */
export async function startApiServer(
  services: ApiServices,
  options: ApiServerOptions,
): Promise<ApiServer> {
  const schema = await buildApiSchema();
  const app = express();
  const httpServer = createServer(app);
  // Upgrades are routed here rather than by ws's `path` option, which answers any other
  // path with a bare text 400: a WebSocket client gets the same JSON errors as HTTP.
  const wsServer = new WebSocketServer({ noServer: true });
  wsServer.on('wsClientError', (error, socket) => {
    const code = error.message === 'Invalid HTTP method' ? 'METHOD_NOT_ALLOWED' : 'BAD_REQUEST';
    rejectUpgrade(socket, code, `WebSocket handshake refused: ${error.message}`);
  });
  httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== GRAPHQL_PATH) {
      rejectUpgrade(
        socket,
        'NOT_FOUND',
        `nothing is served at ${path}: WebSocket is on ${GRAPHQL_PATH}`,
      );
      return;
    }
    wsServer.handleUpgrade(req, socket, head, (ws) => wsServer.emit('connection', ws, req));
  });
  const format = (formatted: GraphQLFormattedError, error: unknown) =>
    formatError(formatted, error, { development: options.development });

  const wsCleanup = useServer(
    {
      schema,
      context: (ctx): ApiContext => ({
        services,
        closeSlowConsumer: () => ctx.extra.socket.close(SLOW_CONSUMER_CLOSE_CODE, 'SLOW_CONSUMER'),
      }),
      validate: (schema, document) =>
        validate(schema, document, [...specifiedRules, costLimitRule()]),
      onError: (_ctx, _id, _payload, errors) =>
        errors.map((error) => format(error.toJSON(), error)),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors
          ? { ...result, errors: result.errors.map((error) => format(error.toJSON(), error)) }
          : undefined,
    },
    wsServer,
  );

  const apollo = new ApolloServer<ApiContext>({
    gateway: jitGateway(schema),
    // GraphiQL, served here, needs introspection; Apollo would turn it off under
    // NODE_ENV=production (the process default), so it is said explicitly.
    introspection: true,
    // The serve command handles SIGINT/SIGTERM itself (it flushes the lake first); Apollo's
    // own handlers (on unless NODE_ENV=test) would stop the server and re-raise the signal,
    // killing the process before the flush.
    stopOnTerminationSignals: false,
    validationRules: [costLimitRule()],
    formatError: format,
    // Never, not even in development: a stack trace names the server's files. Development
    // shows internal messages (formatError); the stack goes to the server's log.
    includeStacktraceInErrorResponses: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      // No @cacheControl hints in this schema: the plugin would only wrap every field's resolver.
      ApolloServerPluginCacheControlDisabled(),
      {
        // HTTP serves queries and mutations; a subscription sent here would run once
        // with no event, so it is refused before execution with the right address.
        async requestDidStart() {
          return {
            async didResolveOperation({ operation }) {
              if (operation?.operation === 'subscription') {
                throw new AlphalakeError(
                  'BAD_USER_INPUT',
                  'subscriptions are served over WebSocket (graphql-ws) on this same URL, not over HTTP',
                );
              }
            },
          };
        },
      },
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await wsCleanup.dispose();
            },
          };
        },
      },
    ],
  });
  await apollo.start();
  const responseCache =
    options.responseCacheBytes && options.responseCacheBytes > 0
      ? new ResponseCache(options.responseCacheBytes)
      : undefined;
  if (responseCache) {
    services.metrics.gauge(
      'alphalake_response_cache_bytes',
      'Size of the cached GraphQL responses (bounded by API_RESPONSE_CACHE_MB).',
      () => responseCache.stats().bytes,
    );
    services.metrics.gauge(
      'alphalake_response_cache_hits',
      'GraphQL requests answered from the response cache since start.',
      () => responseCache.stats().hits,
    );
  }

  // Express names its version in every response otherwise.
  app.disable('x-powered-by');
  const readOnly = methodNotAllowed(['GET', 'HEAD']);
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.all('/healthz', readOnly);
  app.get('/readyz', async (_req, res) => {
    const started = options.ready();
    const backends = options.backends
      ? await options
          .backends(AbortSignal.timeout(READINESS_TIMEOUT_MS))
          .catch((error: unknown) => ({
            backends: {
              backend: 'unknown',
              ready: false,
              detail: `readiness check failed: ${(error as Error).message}`,
            },
          }))
      : {};
    const down = Object.values(backends).some((b) => !b.ready);
    const ready = started && !down;
    const watermark = services.watermark();
    res.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : started ? 'degraded' : 'starting',
      watermark: watermark === undefined ? null : isoOfMicros(watermark),
      backends,
    });
  });
  app.all('/readyz', readOnly);
  app.get('/metrics', (_req, res) => {
    res.type('text/plain; version=0.0.4').send(services.metrics.render());
  });
  app.all('/metrics', readOnly);
  for (const [name, file] of Object.entries(GRAPHIQL_ASSETS)) {
    const asset = `${GRAPHIQL_ASSET_PREFIX}${name}`;
    // A file that cannot be sent reaches jsonErrors through next() (Express's default).
    app.get(asset, (_req, res) => {
      res.sendFile(file, { maxAge: '1h' });
    });
    app.all(asset, readOnly);
  }
  app.all(GRAPHQL_PATH, methodNotAllowed(['GET', 'POST']));
  app.get(GRAPHQL_PATH, (req, res, next) => {
    const wantsPage =
      req.accepts(['application/json', 'text/html']) === 'text/html' && !req.query.query;
    if (!wantsPage) return next();
    res.type('html').send(graphiqlPage(GRAPHQL_PATH));
  });
  app.use(
    GRAPHQL_PATH,
    requireJsonBody,
    express.json({ limit: BODY_LIMIT }),
    graphqlHttpHandler(apollo, services, responseCache),
  );
  // Whatever no route above served, and every error, is answered as JSON (http-errors.ts).
  app.use(notFound);
  app.use(jsonErrors);

  await listen(httpServer, options.host, options.port);
  const address = httpServer.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}${GRAPHQL_PATH}`,
    wsUrl: `ws://${host}:${address.port}${GRAPHQL_PATH}`,
    async close() {
      await apollo.stop();
    },
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
