import { startLoopbackApi } from '../support/api.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlatform, type Platform } from '../../src/app.js';
import { configWith } from '../../src/config/index.js';
import { ManualClock } from '../../src/domain/index.js';
import type { ApiServer } from '../../src/graphql/index.js';

/**
 * Every GraphQL example of docs/api.md, run against a server on loopback: a block whose
 * first line is `# expect: CODE` must be refused with that code and no data; any other
 * must answer data without errors.
 */
const T0 = Date.parse('2026-11-20T15:07:30Z') * 1_000; // µs
const doc = readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8');
const examples = [...doc.matchAll(/^```graphql\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
const home = mkdtempSync(path.join(tmpdir(), 'alphalake-it-docs-'));
let platform: Platform;
let server: ApiServer;

beforeAll(async () => {
  platform = await createPlatform(
    // Auth off as `npm start` runs: these examples are about queries (docs/auth.md has tokens).
    configWith({ home, port: 0, backfillSessions: 1, authMode: 'off' }),
    {
      clock: new ManualClock(T0),
    },
  );
  await platform.start({ live: false });
  server = await startLoopbackApi(platform);
});

afterAll(async () => {
  await server?.close();
  await platform?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe('docs/api.md', () => {
  it('has examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(8);
  });

  it.each(examples.map((query, i) => [i + 1, query.split('\n')[0], query] as const))(
    'example %i (%s) answers as the page says',
    async (_n, _first, query) => {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query }),
      });
      const body = (await response.json()) as {
        data?: Record<string, unknown> | null;
        errors?: { extensions?: { code?: string } }[];
      };
      const expected = /^# expect: ([A-Z_]+)$/.exec(query.split('\n')[0] ?? '')?.[1];
      if (expected !== undefined) {
        expect(body.errors?.map((e) => e.extensions?.code)).toEqual([expected]);
        expect(body.data ?? undefined).toBeUndefined();
      } else {
        expect(body.errors).toBeUndefined();
        const values = Object.values(body.data ?? {});
        expect(values.length).toBeGreaterThan(0);
        for (const value of values) {
          expect(value).not.toBeNull();
          if (Array.isArray(value)) expect(value.length).toBeGreaterThan(0);
        }
      }
    },
  );
});
