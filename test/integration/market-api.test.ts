import { DuckDBInstance } from '@duckdb/node-api';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/app.js';
import { quoteRow, tradeColumns } from '../../src/batch/index.js';
import {
  DAY_US,
  HOUR_US,
  isoOfMicros,
  MINUTE_US,
  SECOND_US,
  type Quote,
  type Trade,
} from '../../src/domain/index.js';
import type { ApiServer } from '../../src/graphql/index.js';
import { oracleBars, tradesNdjsonSource, writeTradesNdjson } from '../support/bars-oracle.js';
import { dataOf, EmbeddedApi, postGraphql } from '../support/graphql.js';

/**
 * The market queries end to end through a loopback server: bars at every interval
 * against an independent DuckDB recomputation from the simulator's tape (the same
 * trades the backfill wrote), trades paged by cursor, and tradesWithQuote against a
 * brute-force as-of scan of 100K trades written to the lake.
 */
const at = (iso: string): number => Date.parse(iso) * 1_000;
const T0 = at('2026-11-20T15:07:30Z');
// Auth off: this test is about market data, not tokens (docs/auth.md).
const api = new EmbeddedApi('alphalake-market-', T0, {
  backfillSessions: 2,
  simulatorTradesPerSecond: 0.5,
  authMode: 'off',
});
const { home } = api;
let platform: Platform;
let server: ApiServer;

async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  return dataOf(await postGraphql<T>(server.url, query, variables));
}

async function gqlErrors(query: string, variables: Record<string, unknown>) {
  return (await postGraphql(server.url, query, variables)).errors ?? [];
}

interface ApiBar {
  tsMicros: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  vwap: number;
  tradeCount: number;
  interval: string;
}

const BARS = `query($symbol: String!, $interval: String!, $from: DateTime, $to: DateTime, $limit: Int) {
  bars(symbol: $symbol, interval: $interval, from: $from, to: $to, limit: $limit) {
    tsMicros open high low close volume vwap tradeCount interval
  }
}`;

function tapeTrades(from: number, to: number, symbol: string): Trade[] {
  return [...platform.simulator!.tape(from, to, { quotes: false })]
    .flatMap((s) => s.trades)
    .filter((t) => t.symbol === symbol);
}

beforeAll(async () => {
  await api.start();
  ({ platform, server } = api);
}, 120_000);

afterAll(() => api.stop());

describe('bars at every interval', () => {
  const DAY = at('2026-11-19T00:00:00Z');
  const cases: [string, number, number, number][] = [
    ['1s', SECOND_US, DAY + 13 * HOUR_US, DAY + 14 * HOUR_US],
    ['1m', MINUTE_US, DAY, DAY + DAY_US],
    ['5m', 5 * MINUTE_US, DAY, DAY + DAY_US],
    ['15m', 15 * MINUTE_US, DAY, DAY + DAY_US],
    ['1h', HOUR_US, DAY, DAY + DAY_US],
    ['1d', DAY_US, DAY - DAY_US, DAY + DAY_US],
  ];
  for (const [interval, width, from, to] of cases) {
    it(`${interval} bars equal a DuckDB recomputation from the same trades, to the bit`, async () => {
      expect(platform.sink.watermark()!).toBeGreaterThanOrEqual(to);
      const { bars } = await gql<{ bars: ApiBar[] }>(BARS, {
        symbol: 'AAPL',
        interval,
        from: isoOfMicros(from),
        to: isoOfMicros(to),
        limit: 100_000,
      });
      const want = await oracleBars(home, tapeTrades(from, to, 'AAPL'), width);
      expect(want.length).toBeGreaterThan(0);
      expect(bars.every((b) => b.interval === interval)).toBe(true);
      expect(bars.map(({ interval: _i, ...rest }) => rest)).toEqual(want);
    });
  }

  it('refuses an unknown interval with BAD_USER_INPUT', async () => {
    const errors = await gqlErrors(BARS, { symbol: 'AAPL', interval: '7m' });
    expect(errors[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

interface Edge<T> {
  cursor: string;
  node: T;
}
interface Connection<T> {
  edges: Edge<T>[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}
interface ApiTrade {
  tsMicros: number;
  seq: number;
  price: number;
  size: number;
  id: string;
  exchange: string;
}
interface ApiQuote {
  tsMicros: number;
  bidPrice: number;
  bidSize: number;
  askPrice: number;
  askSize: number;
}

const TRADE_PAGE = `query($symbol: String!, $from: DateTime, $to: DateTime, $first: Int, $after: String) {
  tradesConnection(symbol: $symbol, from: $from, to: $to, first: $first, after: $after) {
    edges { cursor node { tsMicros seq price size id exchange } }
    pageInfo { hasNextPage endCursor }
  }
}`;

describe('vwap', () => {
  it('equals Σ price·size / Σ size computed in DuckDB from the same trades', async () => {
    const from = at('2026-11-19T03:00:00Z');
    const to = at('2026-11-19T21:00:00Z');
    const { vwap } = await gql<{ vwap: { vwap: number; volume: number; tradeCount: number } }>(
      `query($from: DateTime, $to: DateTime) { vwap(symbol: "AMZN", from: $from, to: $to) { vwap volume tradeCount } }`,
      { from: isoOfMicros(from), to: isoOfMicros(to) },
    );
    const trades = tapeTrades(from, to, 'AMZN');
    const file = writeTradesNdjson(path.join(home, 'vwap.ndjson'), trades);
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const reader = await connection.runAndReadAll(
        `SELECT sum(price * size ORDER BY ts, seq) / sum(size), sum(size), count(*) FROM ${tradesNdjsonSource(file)}`,
      );
      const [want] = reader.getRows();
      expect(vwap).toEqual({
        vwap: Number(want![0]),
        volume: Number(want![1]),
        tradeCount: Number(want![2]),
      });
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});

describe('trades by cursor', () => {
  it('pages through a day of trades in (ts, seq, id) order, every trade once', async () => {
    const from = at('2026-11-19T10:00:00Z');
    const to = at('2026-11-19T12:00:00Z');
    const seen: ApiTrade[] = [];
    let after: string | undefined;
    for (;;) {
      const { tradesConnection: page } = await gql<{ tradesConnection: Connection<ApiTrade> }>(
        TRADE_PAGE,
        { symbol: 'MSFT', from: isoOfMicros(from), to: isoOfMicros(to), first: 300, after },
      );
      seen.push(...page.edges.map((e) => e.node));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor!;
    }
    const want = tapeTrades(from, to, 'MSFT')
      .map((t) => ({
        tsMicros: t.ts,
        seq: t.seq,
        price: t.price,
        size: t.size,
        id: t.id,
        exchange: t.exchange,
      }))
      .sort((a, b) => a.tsMicros - b.tsMicros || a.seq - b.seq || (a.id < b.id ? -1 : 1));
    expect(want.length).toBeGreaterThan(300 * 3);
    expect(seen).toEqual(want);
  });

  it('refuses a forged cursor with BAD_USER_INPUT', async () => {
    const errors = await gqlErrors(TRADE_PAGE, { symbol: 'MSFT', after: 'not-a-cursor' });
    expect(errors[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('tradesWithQuote', () => {
  // A day before the backfill: nothing else of this symbol is in the lake there.
  const START = at('2026-10-01T00:00:00Z');
  const TRADES = 100_000;
  const trades: Trade[] = [];
  const quotes: Quote[] = [];

  beforeAll(async () => {
    // A fixed pseudo-random walk (LCG): quotes at distinct instants, trades among them
    // with ties in time broken by seq, some before the first quote.
    let state = 12345;
    const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let ts = START;
    for (let i = 0; i < TRADES / 2; i++) {
      ts += 1 + Math.floor(next() * 2_000_000);
      const mid = 100 + next() * 10;
      quotes.push({
        symbol: 'NVDA',
        ts,
        bidPrice: mid - 0.01,
        bidSize: 1 + Math.floor(next() * 900),
        askPrice: mid + 0.01,
        askSize: 1 + Math.floor(next() * 900),
      });
    }
    let tts = START - 5 * SECOND_US;
    for (let i = 0; i < TRADES; i++) {
      if (next() > 0.1) tts += Math.floor(next() * 1_000_000);
      trades.push({
        symbol: 'NVDA',
        ts: tts,
        seq: i,
        price: 100 + next() * 10,
        size: 1 + Math.floor(next() * 500),
        id: `t${i}`,
        exchange: 'XNAS',
      });
    }
    await platform.tables.quotes.append(quotes.map(quoteRow));
    await platform.tables.trades.append(tradeColumns(trades));
  }, 120_000);

  it('matches a brute-force as-of scan on 100K trades, page by page', async () => {
    const QUERY = `query($from: DateTime, $to: DateTime, $after: String) {
      tradesWithQuote(symbol: "NVDA", from: $from, to: $to, first: 10000, after: $after) {
        edges { node { trade { tsMicros seq price size id } quote { tsMicros bidPrice bidSize askPrice askSize } } }
        pageInfo { hasNextPage endCursor }
      }
    }`;
    const served: { trade: Omit<ApiTrade, 'exchange'>; quote: ApiQuote | null }[] = [];
    let after: string | undefined;
    for (;;) {
      const { tradesWithQuote: page } = await gql<{
        tradesWithQuote: Connection<{
          trade: Omit<ApiTrade, 'exchange'>;
          quote: ApiQuote | null;
        }>;
      }>(QUERY, {
        from: isoOfMicros(START - DAY_US),
        to: isoOfMicros(START + 30 * DAY_US),
        after,
      });
      served.push(...page.edges.map((e) => e.node));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor!;
    }
    // Brute force: for each trade, every quote scanned, the latest at or before it kept.
    const sortedQuotes = [...quotes];
    const want = trades.map((t) => {
      let lo = 0;
      let hi = sortedQuotes.length;
      // The quotes are in time order by construction; binary search is the scan's shortcut.
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (sortedQuotes[mid]!.ts <= t.ts) lo = mid + 1;
        else hi = mid;
      }
      const best: Quote | undefined = lo > 0 ? sortedQuotes[lo - 1] : undefined;
      return {
        trade: { tsMicros: t.ts, seq: t.seq, price: t.price, size: t.size, id: t.id },
        quote: best
          ? {
              tsMicros: best.ts,
              bidPrice: best.bidPrice,
              bidSize: best.bidSize,
              askPrice: best.askPrice,
              askSize: best.askSize,
            }
          : null,
      };
    });
    expect(want.some((w) => w.quote === null)).toBe(true);
    expect(served.length).toBe(TRADES);
    expect(served).toEqual(want);
  }, 300_000);

  it('pages quotes and answers the latest quote', async () => {
    const QUERY = `query($after: String) {
      quotes(symbol: "NVDA", from: "2026-09-30T00:00:00Z", to: "2026-10-02T00:00:00Z", first: 10000, after: $after) {
        edges { node { tsMicros bidPrice bidSize askPrice askSize } }
        pageInfo { hasNextPage endCursor }
      }
    }`;
    const served: ApiQuote[] = [];
    let after: string | undefined;
    for (;;) {
      const { quotes: page } = await gql<{ quotes: Connection<ApiQuote> }>(QUERY, { after });
      served.push(...page.edges.map((e) => e.node));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor!;
    }
    const end = at('2026-10-02T00:00:00Z');
    const want = quotes
      .filter((q) => q.ts < end)
      .map((q) => ({
        tsMicros: q.ts,
        bidPrice: q.bidPrice,
        bidSize: q.bidSize,
        askPrice: q.askPrice,
        askSize: q.askSize,
      }));
    expect(served).toEqual(want);
  });
});
