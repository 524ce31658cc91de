import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import express, { type RequestHandler } from 'express';
import {
  getOperationAST,
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  type GraphQLFormattedError,
} from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import {
  actorOf,
  credentialsFromConnectionParams,
  credentialsFromHeaders,
  type Authenticator,
  type Principal,
} from '../../auth/index.js';
import type { ApiContext, ApiServices } from './context.js';
import { SLOW_CONSUMER_CLOSE_CODE } from '../../speed/index.js';
import { isoOfMicros } from '../../domain/index.js';
import { formatError } from '../errors.js';
import {
  BODY_LIMIT,
  jsonErrors,
  methodNotAllowed,
  notFound,
  rejectUpgrade,
  requireJsonBody,
  sendHttpError,
} from './http-errors.js';
import {
  DEFAULT_LIMITS,
  limitRules,
  variableCostPlugin,
  variableCostRefusal,
  type QueryLimits,
} from '../guard/limits.js';
import { processLogger, type Logger } from '../../logging/index.js';
import {
  apiMetrics,
  operationRecorder,
  reenterRequestScope,
  requestObservation,
  requestObserver,
  type ApiMetrics,
} from './observability.js';
import {
  allowListPlugin,
  allowListRefusal,
  PersistedQueries,
  type PersistedQueriesOptions,
} from '../execution/persisted-queries.js';
import { RateLimiter, type RateLimitOptions } from '../guard/rate-limit.js';
import { AlphalakeError } from '../../domain/index.js';
import { GRAPHIQL_ASSET_PREFIX, GRAPHIQL_ASSETS, graphiqlPage } from './graphiql.js';
import { buildApiSchema } from '../schema.js';
import { CredentialWatch } from './credential-watch.js';
import { graphqlHttpHandler } from './http-handler.js';
import { cacheHitFastPath, fastPathState } from './fast-path.js';
import { jitGateway } from '../execution/jit-executor.js';
import { ResponseCache } from '../execution/response-cache.js';
import { requestLoaders } from '../execution/loaders.js';
import { sharedSubscriptionExecutor } from '../execution/shared-subscriptions.js';

export interface ApiServerOptions {
  readonly host: string;
  readonly port: number;
  /** Show internal error messages to clients. */
  readonly development: boolean;
  /** Readiness: true once the platform has started (history backfilled, consumers running). */
  readonly ready: () => boolean;
  /**
   * Who each request is (src/auth): asked before any GraphQL runs, over HTTP and for every
   * WebSocket subscription. `OPEN_DOOR` when AUTH_MODE=off.
   */
  readonly auth: Authenticator;
  /** Bound (bytes) of the cache of settled responses; 0 or absent: no cache. */
  readonly responseCacheBytes?: number;
  /**
   * The configured backends (the bus, …) and whether each answers now: `/readyz` lists
   * them and is not ready (503) while one is down. @default none
   */
  readonly backends?: (signal: AbortSignal) => Promise<Readonly<Record<string, BackendHealth>>>;
  /** What one operation may ask for (limits.ts). @default DEFAULT_LIMITS */
  readonly limits?: QueryLimits;
  /** A per-client rate limit on GraphQL requests and WebSocket handshakes. @default none */
  readonly rateLimit?: RateLimitOptions;
  /** Automatic persisted queries, or an allow-list. @default { mode: 'auto' } */
  readonly persistedQueries?: PersistedQueriesOptions;
  /** Where the access log and errors go. @default the process logger (src/logging) */
  readonly logger?: Logger;
  /**
   * How often the credentials of every open WebSocket are verified again (AUTH_RECHECK_SECONDS);
   * 0: never (a token is still closed at its `exp`). @default 60_000
   */
  readonly authRecheckMs?: number;
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
 * `/metrics`. With a response cache, a GraphQL POST meets the cache-hit fast path
 * (fast-path.ts) before Express.
 */
export async function startApiServer(
  services: ApiServices,
  options: ApiServerOptions,
): Promise<ApiServer> {
  const schema = await buildApiSchema();
  const logger = options.logger ?? processLogger();
  const limits = options.limits ?? DEFAULT_LIMITS;
  const rules = limitRules(limits);
  const rateLimiter = options.rateLimit ? new RateLimiter(options.rateLimit) : undefined;
  const persisted = options.persistedQueries ?? { mode: 'auto' };
  const persistedQueries = new PersistedQueries(persisted);
  const app = express();
  const httpServer = createServer();
  // Upgrades are routed here rather than by ws's `path` option, which answers any other
  // path with a bare text 400: a WebSocket client gets the same JSON errors as HTTP.
  const wsServer = new WebSocketServer({ noServer: true });
  wsServer.on('wsClientError', (error, socket) => {
    const code = error.message === 'Invalid HTTP method' ? 'METHOD_NOT_ALLOWED' : 'BAD_REQUEST';
    rejectUpgrade(socket, code, `WebSocket handshake refused: ${error.message}`);
  });
  const metrics = apiMetrics(services.metrics, () => wsServer.clients.size);
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
    const upgrade = () =>
      wsServer.handleUpgrade(req, socket, head, (ws) => wsServer.emit('connection', ws, req));
    if (!rateLimiter) return upgrade();
    rateLimiter.check(req).then((decision) => {
      if (decision.allowed) return upgrade();
      metrics.errors.inc({ code: 'RATE_LIMITED' });
      const { retryAfterSeconds } = decision;
      rejectUpgrade(
        socket,
        'RATE_LIMITED',
        rateLimitMessage(retryAfterSeconds),
        { 'Retry-After': String(retryAfterSeconds) },
        { retryAfterSeconds },
      );
    }, socket.destroy.bind(socket));
  });
  const format = (formatted: GraphQLFormattedError, error: unknown) => {
    const shown = formatError(formatted, error, { development: options.development, logger });
    const code = shown.extensions?.code;
    metrics.errors.inc({ code: typeof code === 'string' ? code : 'INTERNAL' });
    return shown;
  };
  // Each subscription's principal, found by its socket's context and the operation's id.
  const principals = new WeakMap<object, Map<string, Principal>>();
  // Closes a socket when its token expires or its API key is revoked (credential-watch.ts).
  const credentialWatch = new CredentialWatch({
    auth: options.auth,
    recheckMs: options.authRecheckMs ?? 60_000,
  });

  const wsCleanup = useServer(
    {
      schema,
      // Credentials are checked for every operation, not once per connection, so a token
      // that expired since the socket opened starts nothing new. They come from
      // connectionParams (browsers cannot set WebSocket headers), else from the upgrade
      // request's headers. A refusal is the operation's error, before parsing or
      // validation, with the same codes as over HTTP.
      onSubscribe: async (ctx, id, payload) => {
        const refusal = allowListRefusal(persisted, payload.query);
        if (refusal) return [new GraphQLError(refusal.message, { originalError: refusal })];
        const costly = costWithVariables(payload, limits);
        if (costly) return [costly];
        try {
          const credentials =
            options.auth.mode === 'off'
              ? undefined
              : (credentialsFromConnectionParams(ctx.connectionParams) ??
                credentialsFromHeaders(ctx.extra.request.headers));
          const principal = await options.auth.authenticate(credentials);
          credentialWatch.watch(ctx, credentials, principal, (code, reason) =>
            ctx.extra.socket.close(code, reason),
          );
          const byId = principals.get(ctx) ?? new Map<string, Principal>();
          byId.set(id, principal);
          principals.set(ctx, byId);
          return undefined;
        } catch (error) {
          if (!(error instanceof AlphalakeError)) throw error;
          return [new GraphQLError(error.message, { originalError: error })];
        }
      },
      onComplete: (ctx, id) => {
        principals.get(ctx)?.delete(id);
      },
      onClose: (ctx) => {
        credentialWatch.forget(ctx);
      },
      context: (ctx, id): ApiContext => {
        const principal = principals.get(ctx)?.get(id);
        return {
          services,
          principal,
          actor: actorOf(principal),
          loaders: requestLoaders(services.market),
          closeSlowConsumer: () =>
            ctx.extra.socket.close(SLOW_CONSUMER_CLOSE_CODE, 'SLOW_CONSUMER'),
        };
      },
      validate: (schema, document) => validate(schema, document, [...specifiedRules, ...rules]),
      // Subscribers that send the same operation with the same variables under the same role
      // share each live update's response: executed once, not once per subscriber.
      subscribe: sharedSubscriptionExecutor(
        (args) => (args.contextValue as ApiContext).principal?.role ?? 'anonymous',
      ),
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
    validationRules: rules,
    persistedQueries: persistedQueries.apolloOption(),
    formatError: format,
    // Never, not even in development: a stack trace names the server's files. Development
    // shows internal messages (formatError); the stack goes to the server's log.
    includeStacktraceInErrorResponses: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      // No @cacheControl hints in this schema: the plugin would only wrap every field's resolver.
      ApolloServerPluginCacheControlDisabled(),
      operationRecorder(),
      allowListPlugin(persisted),
      variableCostPlugin(limits),
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
              credentialWatch.stop();
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

  const observe = requestObservation(logger, metrics, GRAPHQL_PATH);
  // Cache hits are answered ahead of Express (fast-path.ts); everything else reaches it.
  httpServer.on(
    'request',
    responseCache
      ? cacheHitFastPath(
          {
            path: GRAPHQL_PATH,
            cache: responseCache,
            services,
            auth: options.auth,
            persisted: persistedQueries,
            observe,
            rateLimiter,
          },
          app,
        )
      : app,
  );
  // Express names its version in every response otherwise.
  app.disable('x-powered-by');
  app.use(requestObserver(observe));
  // GraphQL first: every request walks the routes in order, and this is the busy one.
  app.all(GRAPHQL_PATH, methodNotAllowed(['GET', 'POST']));
  app.get(GRAPHQL_PATH, (req, res, next) => {
    const wantsPage =
      req.accepts(['application/json', 'text/html']) === 'text/html' && !req.query.query;
    if (!wantsPage) return next();
    res.type('html').send(graphiqlPage(GRAPHQL_PATH));
  });
  app.use(
    GRAPHQL_PATH,
    ...(rateLimiter ? [rateLimit(rateLimiter, metrics)] : []),
    requireJsonBody,
    // Skips a body the fast path has read; its error, if reading failed, is raised next.
    express.json({ limit: BODY_LIMIT }),
    bodyErrorOfFastPath,
    reenterRequestScope,
    graphqlHttpHandler(apollo, services, responseCache, options.auth, persistedQueries),
  );
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
  app.get('/metrics', async (_req, res) => {
    const text = await services.metrics.render();
    res.type(services.metrics.contentType).send(text);
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

/**
 * Refuses a request over the rate limit before its body is read. A request the fast path
 * passed on has spent its budget there: its decision is taken as it was.
 */
function rateLimit(limiter: RateLimiter, metrics: ApiMetrics): RequestHandler {
  return (req, res, next) => {
    const decided = fastPathState(req)?.rate;
    (decided ? Promise.resolve(decided) : limiter.check(req)).then((decision) => {
      if (decision.allowed) return next();
      metrics.errors.inc({ code: 'RATE_LIMITED' });
      const { retryAfterSeconds } = decision;
      sendHttpError(
        res,
        'RATE_LIMITED',
        rateLimitMessage(retryAfterSeconds),
        { 'Retry-After': String(retryAfterSeconds) },
        { retryAfterSeconds },
      );
    }, next);
  };
}

/** A body the fast path failed to read fails here, as `express.json` would have failed it. */
const bodyErrorOfFastPath: RequestHandler = (req, _res, next) => {
  const error = fastPathState(req)?.bodyError;
  next(error);
};

/**
 * A graphql-ws operation counted with its variables (limits.ts, `variableCostRefusal`):
 * what Apollo's plugin does over HTTP. A document that does not parse is left to
 * graphql-ws, which reports the syntax error itself.
 */
function costWithVariables(
  payload: {
    query: string;
    operationName?: string | null;
    variables?: Record<string, unknown> | null;
  },
  limits: QueryLimits,
): GraphQLError | undefined {
  if (!payload.variables || Object.keys(payload.variables).length === 0) return undefined;
  let document;
  try {
    document = parse(payload.query, { noLocation: true });
  } catch {
    return undefined;
  }
  return variableCostRefusal(
    document,
    getOperationAST(document, payload.operationName ?? undefined) ?? undefined,
    payload.variables,
    limits,
  );
}

function rateLimitMessage(retryAfterSeconds: number): string {
  return `too many requests: the rate limit is spent, try again in ${retryAfterSeconds} s`;
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
