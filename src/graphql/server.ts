import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { specifiedRules, validate, type GraphQLFormattedError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { ApiContext, ApiServices } from './context.js';
import { isoOfMicros } from '../domain/index.js';
import { formatError } from './errors.js';
import { costLimitRule } from './limits.js';
import { AlphalakeError } from '../domain/index.js';
import { GRAPHIQL_ASSET_PREFIX, GRAPHIQL_ASSETS, graphiqlPage } from './graphiql.js';
import { buildApiSchema } from './schema.js';

export interface ApiServerOptions {
  readonly host: string;
  readonly port: number;
  /** Show internal error messages to clients. */
  readonly development: boolean;
  /** Readiness: true once the platform has started (history backfilled, consumers running). */
  readonly ready: () => boolean;
}

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
  const wsServer = new WebSocketServer({ server: httpServer, path: GRAPHQL_PATH });
  const format = (formatted: GraphQLFormattedError, error: unknown) =>
    formatError(formatted, error, { development: options.development });
  const context = async (): Promise<ApiContext> => ({ services });

  const wsCleanup = useServer(
    {
      schema,
      context,
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
    schema,
    validationRules: [costLimitRule()],
    formatError: format,
    includeStacktraceInErrorResponses: options.development,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
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

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const ready = options.ready();
    const watermark = services.watermark();
    res.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : 'starting',
      watermark: watermark === undefined ? null : isoOfMicros(watermark),
    });
  });
  app.get('/metrics', (_req, res) => {
    res.type('text/plain; version=0.0.4').send(services.metrics.render());
  });
  for (const [name, file] of Object.entries(GRAPHIQL_ASSETS)) {
    app.get(`${GRAPHIQL_ASSET_PREFIX}${name}`, (_req, res) => {
      res.sendFile(file, { maxAge: '1h' });
    });
  }
  app.get(GRAPHQL_PATH, (req, res, next) => {
    const wantsPage =
      req.accepts(['application/json', 'text/html']) === 'text/html' && !req.query.query;
    if (!wantsPage) return next();
    res.type('html').send(graphiqlPage(GRAPHQL_PATH));
  });
  app.use(GRAPHQL_PATH, express.json({ limit: '1mb' }), expressMiddleware(apollo, { context }));

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
