import { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { apiSchemaSdl } from '../graphql/index.js';

/**
 * `alphalake schema [--out file]`: the GraphQL schema in SDL, as the code builds it. The
 * checked-in `schema.graphql` is its output (`npm run schema`); a unit test fails when
 * the two drift apart.
 */
export function schemaCommand(): Command {
  return new Command('schema')
    .description('Print the GraphQL schema (SDL) that the API serves, or write it to a file.')
    .option('--out <file>', 'write the schema to this file instead of stdout')
    .action(async (opts: { out?: string }) => {
      const sdl = await apiSchemaSdl();
      if (opts.out) await writeFile(opts.out, sdl);
      else process.stdout.write(sdl);
    });
}
