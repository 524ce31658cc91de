import { defineConfig } from 'vitest/config';

// Tests run against the compiled output (dist/) because type-graphql needs the
// decorator metadata that only tsc emits; `npm test` builds first.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['dist/test/unit/**/*.test.js'], testTimeout: 30_000 } },
      {
        test: {
          name: 'integration',
          include: ['dist/test/integration/**/*.test.js'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'services',
          include: ['dist/test/services/**/*.test.js', 'dist/test/conformance/**/*.test.js'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
