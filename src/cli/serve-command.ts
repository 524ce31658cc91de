import { Command, Option } from 'commander';
import { authSettingsOf, createPlatform, type Platform } from '../app.js';
import { requireVerifiableTokens } from '../auth/index.js';
import { loadConfig, profileSummary, type Config } from '../config/index.js';
import { isoOfMicros } from '../domain/index.js';
import {
  clientAddress,
  credentialOrAddress,
  DEFAULT_LIMITS,
  loadPersistedQueryManifest,
  startApiServer,
  type ApiServer,
  type ApiServerOptions,
} from '../graphql/index.js';

/** Settings every role command takes as flags (each overrides its variable). */
export interface CommonFlags {
  home?: string;
}

export function settingsOf(
  flags: CommonFlags & { port?: string; host?: string; role?: string; auth?: string },
) {
  return {
    ...process.env,
    ...(flags.auth ? { AUTH_MODE: flags.auth } : {}),
    ...(flags.port ? { PORT: flags.port } : {}),
    ...(flags.host ? { HOST: flags.host } : {}),
    ...(flags.home ? { ALPHALAKE_HOME: flags.home } : {}),
    ...(flags.role ? { ALPHALAKE_ROLE: flags.role } : {}),
  };
}

export const homeOption = () =>
  new Option('--home <dir>', 'data folder (embedded lake, file cache) (ALPHALAKE_HOME)');

/** `alphalake serve`: the whole platform in one process, or the roles given, GraphQL on one port. */
export function serveCommand(): Command {
  return new Command('serve')
    .description(
      'Run the platform: simulator → stream bus → speed layer and lake, GraphQL on one port, and (with the embedded job store, JOBS_SERVE_WORKER) a job worker for scheduled maintenance and enqueued jobs. With --role, only the roles given (GraphQL only with `api`). Settings come from the environment (see README); flags override them.',
    )
    .addOption(
      new Option(
        '--role <roles>',
        'what this process runs: all, or a comma-separated list of api, sink, speed, ingest (ALPHALAKE_ROLE)',
      ),
    )
    .addOption(new Option('-p, --port <port>', 'HTTP/WebSocket port (PORT)'))
    .addOption(new Option('--host <host>', 'interface to bind (HOST)'))
    .addOption(homeOption())
    .addOption(
      new Option(
        '--auth <mode>',
        'jwt: every request needs a token or API key; off: no authentication, local use only (AUTH_MODE)',
      ).choices(['jwt', 'off']),
    )
    .action(
      async (flags: {
        port?: string;
        host?: string;
        home?: string;
        role?: string;
        auth?: string;
      }) => {
        await serve(loadConfig(settingsOf(flags)));
      },
    );
}

/** `alphalake sink`: the bus → Delta lake sink alone (exactly once, docs/sink.md). */
export function sinkCommand(): Command {
  return new Command('sink')
    .description(
      'Run the lake sink alone: trades and rejects from Kafka into the Delta tables, exactly once; silver bars and the watermark follow. Needs KAFKA_BROKERS.',
    )
    .addOption(homeOption())
    .action(async (flags: CommonFlags) => {
      await serve(loadConfig(settingsOf({ ...flags, role: 'sink' })));
    });
}

/** `alphalake speed`: the speed layer alone. */
export function speedCommand(): Command {
  return new Command('speed')
    .description(
      'Run the speed layer alone: trades and quotes from Kafka folded into bars in the speed store. Needs KAFKA_BROKERS and CASSANDRA_CONTACT_POINTS.',
    )
    .addOption(homeOption())
    .action(async (flags: CommonFlags) => {
      await serve(loadConfig(settingsOf({ ...flags, role: 'speed' })));
    });
}

/** AUTH_MODE=off, said where nobody can miss it: stderr, framed, before the URL. */
function warnAuthOff(): void {
  const rule = '!'.repeat(78);
  console.warn(
    [
      rule,
      '!! AUTHENTICATION IS OFF (AUTH_MODE=off): anyone who reaches this port is an admin.',
      '!! For local use only. Set AUTH_MODE=jwt with AUTH_JWT_SECRET or AUTH_JWKS_URL',
      '!! before exposing this server (docs/auth.md).',
      rule,
    ].join('\n'),
  );
}

/** The API's limits, rate limit and persisted queries, from config. */
export function apiLimits(
  config: Config,
): Pick<ApiServerOptions, 'limits' | 'rateLimit' | 'persistedQueries'> {
  return {
    limits: {
      ...DEFAULT_LIMITS,
      maxDepth: config.maxQueryDepth,
      maxAliases: config.maxAliases,
      maxDirectives: config.maxDirectives,
      maxCost: config.maxQueryCost,
      maxPageSize: config.maxPageSize,
    },
    ...(config.rateLimitRequests > 0
      ? {
          rateLimit: {
            requests: config.rateLimitRequests,
            windowSeconds: config.rateLimitWindowSeconds,
            // With auth on, each user's credential has its own allowance; off, each address.
            key: config.authMode === 'jwt' ? credentialOrAddress : clientAddress,
          },
        }
      : {}),
    persistedQueries:
      config.persistedQueries === 'allowlist'
        ? {
            mode: 'allowlist',
            allowList: loadPersistedQueryManifest(config.persistedQueriesFile ?? ''),
          }
        : { mode: config.persistedQueries },
  };
}

/**
 * The GraphQL server's options as `serve` starts it, from the configuration and the
 * platform: the benches start theirs the same way, so they measure what runs.
 */
export function apiServerOptions(config: Config, platform: Platform): ApiServerOptions {
  return {
    auth: platform.auth,
    host: config.host,
    port: config.port,
    development: config.environment === 'development',
    ready: () => platform.ready,
    responseCacheBytes: config.responseCacheMb * 1024 * 1024,
    backends: (signal) => platform.backends(signal),
    ...apiLimits(config),
    authRecheckMs: config.authRecheckSeconds * 1000,
    logger: platform.logger,
  };
}

/**
 * Starts the roles of `config.roles` in this process; the GraphQL server only when it
 * runs `api`. Stops on SIGINT/SIGTERM, flushing the lake when it runs the sink.
 */
export async function serve(config: Config): Promise<void> {
  const started = Date.now();
  // Before anything is opened: a server that could verify no token must not start.
  if (config.roles.includes('api')) requireVerifiableTokens(authSettingsOf(config));
  const platform = await createPlatform(config);
  const roles = platform.roles.join(',');
  console.log(`alphalake: roles ${roles}; ${profileSummary(config.profile)}; starting…`);
  const report = await platform.start();
  if (report.backfill) {
    const { trades, from, to } = report.backfill;
    console.log(
      `alphalake: history ${isoOfMicros(from)} → ${isoOfMicros(to)}: ${trades} trades written (${Date.now() - started} ms)`,
    );
  }
  let server: ApiServer | undefined;
  if (platform.roles.includes('api')) {
    if (platform.auth.mode === 'off') warnAuthOff();
    server = await startApiServer(platform.api, apiServerOptions(config, platform));
    console.log(
      `alphalake: GraphQL on ${server.url} (subscriptions on ${server.wsUrl}), ready in ${Date.now() - started} ms`,
    );
  } else {
    console.log(`alphalake: ${roles} running, ready in ${Date.now() - started} ms`);
  }
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(
      `alphalake: ${signal}, stopping${platform.roles.includes('sink') ? ' (flushing the lake)' : ''}…`,
    );
    await server?.close();
    await platform.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}
