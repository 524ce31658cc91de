#!/usr/bin/env node
import 'reflect-metadata';
import { Command } from 'commander';
import { isAlphalakeError } from '../domain/index.js';
import { serveCommand } from './serve-command.js';

const program = new Command('alphalake')
  .description('A GraphQL data platform over a market-data lakehouse.')
  .showHelpAfterError()
  .addCommand(serveCommand());

program.parseAsync(process.argv).catch((error: unknown) => {
  if (isAlphalakeError(error)) {
    console.error(`alphalake: ${error.code}: ${error.message}`);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
