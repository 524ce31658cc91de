import { Command, Option } from 'commander';
import { createPlatform } from '../app.js';
import { loadConfig, profileSummary, type Config } from '../config/index.js';
import { isoOfMicros } from '../domain/index.js';
import { startApiServer } from '../graphql/index.js';

/** `alphalake serve`: the whole platform in one process, GraphQL on one port. */
export function serveCommand(): Command {
  return new Command('serve')
    .description(
      'Run the platform: simulator → stream bus → speed layer and lake, GraphQL on one port. Settings come from the environment (see README); flags override them.',
    )
    .addOption(new Option('-p, --port <port>', 'HTTP/WebSocket port (PORT)'))
    .addOption(new Option('--host <host>', 'interface to bind (HOST)'))
    .addOption(new Option('--home <dir>', 'data folder of the embedded profile (ALPHALAKE_HOME)'))
    .action(async (flags: { port?: string; host?: string; home?: string }) => {
      const config = loadConfig({
        ...process.env,
        ...(flags.port ? { PORT: flags.port } : {}),
        ...(flags.host ? { HOST: flags.host } : {}),
        ...(flags.home ? { ALPHALAKE_HOME: flags.home } : {}),
      });
      await serve(config);
    });
}

export async function serve(config: Config): Promise<void> {
  const started = Date.now();
  const platform = await createPlatform(config);
  console.log(`alphalake: ${profileSummary(config.profile)}; filling history…`);
  const report = await platform.start();
  if (report.backfill) {
    const { trades, from, to } = report.backfill;
    console.log(
      `alphalake: history ${isoOfMicros(from)} → ${isoOfMicros(to)}: ${trades} trades written (${Date.now() - started} ms)`,
    );
  }
  const server = await startApiServer(platform.api, {
    host: config.host,
    port: config.port,
    development: config.environment === 'development',
    ready: () => platform.ready,
    responseCacheBytes: config.responseCacheMb * 1024 * 1024,
  });
  console.log(
    `alphalake: GraphQL on ${server.url} (subscriptions on ${server.wsUrl}), ready in ${Date.now() - started} ms`,
  );
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`alphalake: ${signal}, flushing the lake and stopping…`);
    await server.close();
    await platform.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}
