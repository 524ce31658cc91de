import { defineConfig } from 'vitest/config';

// Tests run against the compiled output (dist/) because type-graphql needs the
// decorator metadata that only tsc emits; `npm test` builds first.
// The compiled sources load through Node itself, like the CLI does, so graphql and
// type-graphql resolve to one copy of graphql (vite would pick its ESM build).
const server = { deps: { external: [/\/dist\/src\//] } };

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['dist/test/unit/**/*.test.js'],
          exclude: ['**/node_modules/**'],
          server,
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['dist/test/integration/**/*.test.js'],
          exclude: ['**/node_modules/**'],
          server,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['dist/test/e2e/**/*.test.js'],
          exclude: ['**/node_modules/**'],
          server,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'services',
          include: ['dist/test/services/**/*.test.js', 'dist/test/conformance/**/*.test.js'],
          exclude: ['**/node_modules/**'],
          server,
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // One file at a time: the servers are shared and the machine has two cores.
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});
