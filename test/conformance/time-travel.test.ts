import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/app.js';
import { tradeColumns } from '../../src/batch/index.js';
import { isoOfMicros, SECOND_US, utcDate, type Trade } from '../../src/domain/index.js';
import type { ApiServer } from '../../src/graphql/index.js';
import { dataOf, EmbeddedApi, postGraphql } from '../support/graphql.js';
import { findTables, oracle } from './harness.js';

/**
 * Time travel through the API: `tradesConnection(asOfVersion: N)` and `lakeTable(asOfVersion: N)`
 * answer what delta-rs reads at version N of bronze.trades.
 */
const T0 = Date.parse('2026-11-20T15:07:30Z') * 1000;
// Auth off: this test is about time travel, not tokens (docs/auth.md).
const api = new EmbeddedApi('alphalake-timetravel-', T0, { backfillSessions: 0, authMode: 'off' });
const { home } = api;
let platform: Platform;
let server: ApiServer;
const versions: number[] = [];
const START = Date.parse('2026-11-02T14:00:00Z') * 1000;

async function gql<T>(query: string, variables: Record<string, unknown>): Promise<T> {
  return dataOf(await postGraphql<T>(server.url, query, variables));
}

beforeAll(async () => {
  await api.start();
  ({ platform, server } = api);
  // Three commits of AAPL trades across two days, each a version of bronze.trades.
  for (let batch = 0; batch < 3; batch++) {
    const trades: Trade[] = Array.from({ length: 1_500 }, (_, i) => ({
      symbol: 'AAPL',
      ts: START + batch * 20 * 3600 * SECOND_US + i * 37 * SECOND_US + (i % 5),
      seq: i,
      price: 180 + ((i * 7919) % 1000) / 997,
      size: 1 + ((i * 31) % 400),
      id: `b${batch}-${i}`,
      exchange: 'XNAS',
    }));
    versions.push((await platform.tables.trades.append(tradeColumns(trades))).version);
  }
}, 120_000);

afterAll(() => api.stop());

interface OracleTrade {
  symbol: string;
  ts: { $ts: string };
  seq: { $int: string } | null;
  price: number;
  size: { $int: string };
  id: string;
  exchange: string | null;
  date: string;
}

describe('time travel', () => {
  it('tradesConnection at version N equals delta-rs at version N', async () => {
    const [table] = (await findTables(home)).filter((t) =>
      t.endsWith(path.join('bronze', 'trades')),
    );
    const answers = await oracle(
      versions.map((version) => ({ op: 'read', path: path.join(home, table!), version })),
    );
    for (const [i, version] of versions.entries()) {
      const want = (answers[i]!.rows ?? [])
        .map((row) => JSON.parse(row) as OracleTrade)
        .filter((row) => row.symbol === 'AAPL')
        .map((row) => ({
          tsMicros: Number(row.ts.$ts),
          seq: Number(row.seq?.$int ?? 0),
          price: row.price,
          size: Number(row.size.$int),
          id: row.id,
          exchange: row.exchange ?? '',
          date: row.date,
        }))
        // Both sides in the API's order, (ts, seq, id): a snapshot itself has no order.
        .sort((a, b) => a.tsMicros - b.tsMicros || a.seq - b.seq || (a.id < b.id ? -1 : 1));
      expect(want.length).toBe(1_500 * (i + 1));
      const served: typeof want = [];
      let after: string | undefined;
      for (;;) {
        const { tradesConnection: page } = await gql<{
          tradesConnection: {
            edges: { node: Omit<(typeof want)[number], 'date'> }[];
            pageInfo: { hasNextPage: boolean; endCursor: string };
          };
        }>(
          `query($v: Int, $after: String, $from: DateTime, $to: DateTime) {
            tradesConnection(symbol: "AAPL", from: $from, to: $to, first: 1000, after: $after, asOfVersion: $v) {
              edges { node { tsMicros seq price size id exchange } }
              pageInfo { hasNextPage endCursor }
            }
          }`,
          {
            v: version,
            after,
            from: isoOfMicros(START - 86_400 * SECOND_US),
            to: isoOfMicros(START + 4 * 86_400 * SECOND_US),
          },
        );
        // The partition column `date` is checked against the oracle's: the UTC date of ts.
        served.push(...page.edges.map((e) => ({ ...e.node, date: utcDate(e.node.tsMicros) })));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(served).toEqual(want);

      const { lakeTable } = await gql<{
        lakeTable: { version: number; fileCount: number; history: { version: number }[] };
      }>(
        `query($v: Int) { lakeTable(name: "bronze.trades", asOfVersion: $v) { version fileCount history { version } } }`,
        { v: version },
      );
      expect(lakeTable.version).toBe(answers[i]!.version);
      expect(lakeTable.history[0]?.version).toBe(version);
    }
  }, 300_000);
});
