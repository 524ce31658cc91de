import { afterEach, describe, expect, it } from 'vitest';
import { isAlphalakeError } from '../../../src/domain/index.js';
import {
  YahooChartClient,
  YahooDailySource,
  type RetryNotice,
  type SourceRecord,
} from '../../../src/ingest/index.js';
import {
  fixtureText,
  startYahoo,
  type Fault,
  type VendorServer,
} from '../../support/vendor-servers.js';

const RANGE = {
  from: Date.parse('2020-08-01T00:00:00Z') * 1000,
  to: Date.parse('2020-09-03T00:00:00Z') * 1000,
};

const servers: VendorServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function yahoo(faults: Fault[] = []) {
  const server = await startYahoo({ symbols: { AAPL: 'yahoo/chart-AAPL.json' }, faults });
  servers.push(server);
  const notices: RetryNotice[] = [];
  const client = new YahooChartClient({
    baseUrl: server.url,
    backoffBaseMs: 5,
    onRetry: (n) => notices.push(n),
  });
  return { server, client, notices };
}

interface Chart {
  timestamp: number[];
  indicators: {
    quote: {
      open: (number | null)[];
      high: number[];
      low: number[];
      close: number[];
      volume: number[];
    }[];
  };
}

describe('Yahoo chart source against a local chart endpoint', () => {
  it('reads daily bars un-adjusted for later splits, and the split and dividend as corporate actions', async () => {
    const { server, client } = await yahoo();
    const source = new YahooDailySource(client, ['AAPL'], RANGE);
    const batches: SourceRecord[][] = [];
    for await (const batch of source.records(new AbortController().signal))
      batches.push([...batch]);
    expect(batches).toHaveLength(1);
    const records = batches[0] as SourceRecord[];

    const chart = (
      JSON.parse(fixtureText('yahoo/chart-AAPL.json')) as { chart: { result: Chart[] } }
    ).chart.result[0] as Chart;
    const q = chart.indicators.quote[0] as Chart['indicators']['quote'][0];
    const dates = [
      '2020-08-06',
      '2020-08-07',
      '2020-08-10',
      '2020-08-28',
      '2020-08-31',
      '2020-09-01',
    ];
    // The 4:1 split on 2020-08-31: Yahoo's earlier prices are divided by 4, its volumes multiplied.
    const expectedBars = dates.map((date, i) => {
      const factor = date < '2020-08-31' ? 4 : 1;
      const [open, high, low, close] = [
        q.open[i] as number,
        q.high[i] as number,
        q.low[i] as number,
        q.close[i] as number,
      ].map((p) => p * factor) as [number, number, number, number];
      return {
        kind: 'bar',
        value: {
          symbol: 'AAPL',
          interval: '1d',
          ts: Date.parse(`${date}T00:00:00Z`) * 1000,
          open,
          high,
          low,
          close,
          volume: Math.round((q.volume[i] as number) / factor),
          vwap: (high + low + close) / 3,
          tradeCount: 0,
        },
      };
    });
    expect(records.filter((r) => r.kind === 'bar')).toEqual(expectedBars);
    expect(records.filter((r) => r.kind === 'malformed')).toEqual([
      {
        kind: 'malformed',
        raw: JSON.stringify({
          timestamp: chart.timestamp[6],
          open: null,
          high: q.high[6],
          low: q.low[6],
          close: q.close[6],
          volume: q.volume[6],
        }),
        column: 'open',
        detail: 'daily bar with open null',
      },
    ]);
    expect(records.filter((r) => r.kind === 'corporate-action')).toEqual([
      {
        kind: 'corporate-action',
        value: {
          kind: 'split',
          symbol: 'AAPL',
          exDate: '2020-08-31',
          splitFrom: 1,
          splitTo: 4,
          source: 'yahoo',
        },
      },
      {
        kind: 'corporate-action',
        value: {
          kind: 'dividend',
          symbol: 'AAPL',
          exDate: '2020-08-07',
          cashAmount: 0.205 * 4,
          currency: 'USD',
          source: 'yahoo',
        },
      },
    ]);
    const asked = new URL(server.requests[0]?.url ?? '', server.url);
    expect(asked.pathname).toBe('/v8/finance/chart/AAPL');
    expect(Object.fromEntries(asked.searchParams)).toEqual({
      period1: String(RANGE.from / 1_000_000),
      period2: String(RANGE.to / 1_000_000),
      interval: '1d',
      events: 'div,splits',
      includeAdjustedClose: 'true',
    });
  });

  it('retries a 429 after its Retry-After and a 503 with backoff', async () => {
    const { client, notices } = await yahoo([{ status: 429, retryAfter: '0' }, { status: 503 }]);
    const records = await client.daily('AAPL', RANGE, new AbortController().signal);
    expect(records.filter((r) => r.kind === 'bar')).toHaveLength(6);
    expect(notices.map((n) => [n.status, n.basis, n.attempt])).toEqual([
      [429, 'retry-after', 1],
      [503, 'backoff', 2],
    ]);
    expect(notices[0]?.waitMs).toBe(0);
  });

  it('answers an unknown symbol with NOT_FOUND and Yahoo’s reason; a malformed chart with UPSTREAM_MALFORMED', async () => {
    const { client } = await yahoo();
    const missing = await client
      .daily('NOSUCH', RANGE, new AbortController().signal)
      .catch((e: unknown) => e);
    expect(isAlphalakeError(missing, 'NOT_FOUND')).toBe(true);
    expect((missing as Error).message).toBe(
      'Yahoo /v8/finance/chart/NOSUCH: HTTP 404 (No data found, symbol may be delisted)',
    );

    const { client: broken } = await yahoo([
      {
        status: 200,
        body: '{"chart":{"result":[{"timestamp":[1],"indicators":{"quote":[{"open":[]}]}}]}}',
      },
    ]);
    const error = await broken
      .daily('AAPL', RANGE, new AbortController().signal)
      .catch((e: unknown) => e);
    expect(isAlphalakeError(error, 'UPSTREAM_MALFORMED')).toBe(true);
    expect((error as Error).message).toMatch(
      /^Yahoo \/v8\/finance\/chart\/AAPL: malformed chart \(indicators.quote\[0\].open/,
    );
  });
});
