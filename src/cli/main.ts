#!/usr/bin/env node
// First: libraries that read NODE_ENV at load time must see alphalake's default.
import '../config/index.js';
import 'reflect-metadata';
import { Command } from 'commander';
import path from 'node:path';
import { loadConfig } from '../config/index.js';
import { isAlphalakeError } from '../domain/index.js';
import { authCommand, usersCommand } from './auth-command.js';
import { lakeCommand } from './lake-command.js';
import { mdmCommand } from './mdm-command.js';
import { backfillCommand, ingestCommand } from './ingest-command.js';
import { schemaCommand } from './schema-command.js';
import { serveCommand, sinkCommand, speedCommand } from './serve-command.js';
import { workerCommand } from './worker-command.js';

// `alphalake lake read … | head` closes stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const config = (() => {
  try {
    return loadConfig();
  } catch (error) {
    console.error(`alphalake: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  }
})();

const program = new Command('alphalake')
  .description('A GraphQL data platform over a market-data lakehouse.')
  .showHelpAfterError()
  .addCommand(serveCommand())
  .addCommand(sinkCommand())
  .addCommand(speedCommand())
  .addCommand(ingestCommand())
  .addCommand(authCommand(config))
  .addCommand(usersCommand(config))
  .addCommand(mdmCommand(config))
  .addCommand(workerCommand())
  .addCommand(schemaCommand())
  .addCommand(backfillCommand())
  .addCommand(
    lakeCommand({
      s3: {
        ...(config.s3Endpoint ? { endpoint: config.s3Endpoint } : {}),
        region: config.s3Region,
        forcePathStyle: config.s3ForcePathStyle,
        cacheDir: path.join(config.home, 'cache'),
        cacheMaxBytes: config.lakeCacheBytes,
      },
    }),
  );

program.parseAsync(process.argv).catch((error: unknown) => {
  if (isAlphalakeError(error)) {
    console.error(`alphalake: ${error.code}: ${error.message}`);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
