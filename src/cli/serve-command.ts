import { Command, Option } from 'commander';
import { createPlatform } from '../app.js';
import { loadConfig, profileSummary, type Config } from '../config/index.js';
import { isoOfMicros } from '../domain/index.js';
import { startApiServer, type ApiServer } from '../graphql/index.js';

/** Settings every role command takes as flags (each overrides its variable). */
export interface CommonFlags {
  home?: string;
}

export function settingsOf(flags: CommonFlags & { port?: string; host?: string; role?: string }) {
  return {
    ...process.env,
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
      'Run the platform: simulator → stream bus → speed layer and lake, GraphQL on one port. With --role, only the roles given (GraphQL only with `api`). Settings come from the environment (see README); flags override them.',
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
    .action(async (flags: { port?: string; host?: string; home?: string; role?: string }) => {
      await serve(loadConfig(settingsOf(flags)));
    });
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

/**
 * Starts the roles of `config.roles` in this process; the GraphQL server only when it
 * runs `api`. Stops on SIGINT/SIGTERM, flushing the lake when it runs the sink.
 */
export async function serve(config: Config): Promise<void> {
  const started = Date.now();
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
    server = await startApiServer(platform.api, {
      host: config.host,
      port: config.port,
      development: config.environment === 'development',
      ready: () => platform.ready,
      responseCacheBytes: config.responseCacheMb * 1024 * 1024,
      backends: (signal) => platform.backends(signal),
    });
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
