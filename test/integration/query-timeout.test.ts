import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlatform, type Platform } from '../../src/app.js';
import { tradeColumns } from '../../src/batch/index.js';
import { configWith } from '../../src/config/index.js';
import { isoOfMicros, ManualClock, type Trade } from '../../src/domain/index.js';
import type { ApiServer } from '../../src/graphql/index.js';
import type { LakeTimestamp } from '../../src/lake/index.js';
import { startLoopbackApi } from '../support/api.js';

/**
 * DUCKDB_STATEMENT_TIMEOUT_MS against a real DuckDB query: 1-second bars over 1,000,000
 * trades of one symbol (every bar's open and close found in (ts, seq) order, its notional
 * summed in that order) under a 5 ms bound. No machine does that in 5 ms (2M trades took
 * 1.4 s here at a load of 9), so the outcome does not hang on the machine's speed or
 * load. The statement is interrupted and the request answered QUERY_TIMEOUT. Then the
 * one DuckDB connection of the pool (the interrupted one) answers a lake read exactly
 * (unbounded, straight on the table, since any lake query through a 5 ms bound would
 * race the clock), and the server keeps answering requests.
 */
const T0 = Date.parse('2026-11-20T15:07:30Z') * 1_000; // µs
const START = Date.parse('2026-10-01T00:00:00Z') * 1_000;
const TRADES = 1_000_000;
const SPACING_US = 2_000;
const home = mkdtempSync(path.join(tmpdir(), 'alphalake-it-timeout-'));
let platform: Platform;
let server: ApiServer;

interface Answer {
  status: number;
  body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  };
}

async function post(query: string): Promise<Answer> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

beforeAll(async () => {
  platform = await createPlatform(
    configWith({
      home,
      port: 0,
      backfillSessions: 1,
      authMode: 'off',
      duckdbStatementTimeoutMs: 5,
      duckdbConnections: 1,
      maxScanRows: 0,
    }),
    { clock: new ManualClock(T0) },
  );
  await platform.start({ live: false });
  for (let done = 0; done < TRADES; done += 500_000) {
    const trades: Trade[] = [];
    for (let i = done; i < Math.min(TRADES, done + 500_000); i++) {
      trades.push({
        symbol: 'TSLA',
        ts: START + i * SPACING_US,
        seq: i,
        price: 250 + (i % 1000) / 100,
        size: 1 + (i % 300),
        id: `t${i}`,
        exchange: 'XNAS',
      });
    }
    await platform.tables.trades.append(tradeColumns(trades));
  }
  // The files' schemas and footers read once, outside any bound (`timeoutMs: 0`), as a
  // server that has run a while has them: the query after the timeout then costs ≈ 20 ms.
  await platform.tables.trades.query({
    columns: ['ts'],
    filters: [{ column: 'symbol', op: '=', value: 'TSLA' }],
    limit: 1,
    timeoutMs: 0,
  });
  server = await startLoopbackApi(platform);
}, 180_000);

afterAll(async () => {
  await server?.close();
  await platform?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe('QUERY_TIMEOUT', () => {
  it('interrupts a DuckDB query over the statement timeout, and the next query runs', async () => {
    const from = isoOfMicros(START);
    const to = isoOfMicros(START + TRADES * SPACING_US);
    const expected = (n: number) => ({
      trades: Array.from({ length: n }, (_, i) => ({
        tsMicros: START + i * SPACING_US,
        seq: i,
        price: 250 + (i % 1000) / 100,
        size: 1 + (i % 300),
        id: `t${i}`,
      })),
    });
    const slow = await post(
      `{ bars(symbol: "TSLA", interval: "1s", from: "${from}", to: "${to}", limit: 100000) { tsMicros close volume } }`,
    );
    expect(slow.body.errors?.map((e) => e.extensions?.['code'])).toEqual(['QUERY_TIMEOUT']);
    expect(slow.body.errors?.[0]?.extensions).toMatchObject({ timeoutMs: 5 });
    expect(slow.body.errors?.[0]?.message).toMatch(/statement timeout of 5 ms/);

    // The same (interrupted) connection reads the lake again, exactly: three trades.
    const again = await platform.tables.trades.query({
      columns: ['ts', 'seq', 'price', 'size', 'id'],
      filters: [{ column: 'symbol', op: '=', value: 'TSLA' }],
      orderBy: [{ column: 'ts' }, { column: 'seq' }],
      limit: 3,
      timeoutMs: 0,
    });
    expect(
      again.rows.map((r) => ({
        tsMicros: (r['ts'] as LakeTimestamp).epochMicros,
        seq: Number(r['seq']),
        price: r['price'],
        size: Number(r['size']),
        id: r['id'],
      })),
    ).toEqual(expected(3).trades);
    // And the server answers the next request.
    const next = await post('{ __typename }');
    expect(next.status).toBe(200);
    expect(next.body).toEqual({ data: { __typename: 'Query' } });
  });
});
