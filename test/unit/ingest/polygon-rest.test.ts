import { afterEach, describe, expect, it } from 'vitest';
import {
  conditionRulesOf,
  isAlphalakeError,
  POLYGON_CONDITIONS_FIXTURE,
  type Trade,
} from '../../../src/domain/index.js';
import {
  PolygonRestClient,
  PolygonRestSource,
  type PolygonRestOptions,
  type RetryNotice,
  type SourceRecord,
} from '../../../src/ingest/index.js';
import {
  fixtureLines,
  rawBigInt,
  startPolygonRest,
  type PolygonServerOptions,
  type VendorServer,
} from '../../support/vendor-servers.js';

const KEY = 'pk_test_7f3a9c21e5b84d06';
/** 2018-02-02, the fixtures' day, as a µs range. */
const DAY = {
  from: Date.parse('2018-02-02T00:00:00Z') * 1000,
  to: Date.parse('2018-02-03T00:00:00Z') * 1000,
};

const servers: VendorServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function polygon(
  options: Omit<PolygonServerOptions, 'apiKey'>,
  client: Partial<PolygonRestOptions> = {},
): Promise<{ server: VendorServer; client: PolygonRestClient; notices: RetryNotice[] }> {
  const server = await startPolygonRest({ apiKey: KEY, ...options });
  servers.push(server);
  const notices: RetryNotice[] = [];
  return {
    server,
    notices,
    client: new PolygonRestClient({
      apiKey: KEY,
      baseUrl: server.url,
      callsPerMinute: 0,
      backoffBaseMs: 5,
      onRetry: (n) => notices.push(n),
      ...client,
    }),
  };
}

async function collect(source: AsyncIterable<readonly SourceRecord[]>): Promise<SourceRecord[][]> {
  const pages: SourceRecord[][] = [];
  for await (const page of source) pages.push([...page]);
  return pages;
}

const trades = (records: SourceRecord[]): Trade[] =>
  records.flatMap((r) => (r.kind === 'trade' ? [r.value] : []));

describe('Polygon REST client against a local Polygon server', () => {
  it('reads the trade-condition table across pages into the rules bars follow', async () => {
    const { client, server } = await polygon(
      { routes: { '/v3/reference/conditions': 'polygon/conditions.json' } },
      { pageLimit: 5 },
    );
    const rules = await client.conditionRules(new AbortController().signal);
    // The same table as the fixture the platform starts with, read the same way.
    expect(rules).toEqual(conditionRulesOf(POLYGON_CONDITIONS_FIXTURE));
    expect(rules.get(37)).toEqual({
      updatesOpenClose: false,
      updatesHighLow: false,
      updatesVolume: true,
    });
    expect(server.requests.length).toBe(
      Math.ceil(fixtureLines('polygon/conditions.json').length / 5),
    );
    expect(server.requests[0]!.url).toContain('data_type=trade');
  });

  it('reads every page of /v3/trades through next_url, nanosecond timestamps whole', async () => {
    const { server, client } = await polygon(
      { routes: { '/v3/trades/AAPL': 'polygon/trades-AAPL.json' } },
      { pageLimit: 4 },
    );
    const source = new PolygonRestSource(client, {
      dataset: 'trades',
      symbols: ['AAPL'],
      range: DAY,
    });
    const pages = await collect(source.records(new AbortController().signal));
    const lines = fixtureLines('polygon/trades-AAPL.json');
    expect(pages.map((p) => p.length)).toEqual([4, 4, 4, 4, 4, 4, 1]);
    expect(server.requests).toHaveLength(7);
    const got = trades(pages.flat());
    expect(got).toHaveLength(lines.length);
    got.forEach((trade, i) => {
      const line = lines[i] as string;
      const raw = JSON.parse(line) as Record<string, number | string>;
      const sip = rawBigInt(line, 'sip_timestamp');
      expect(trade.tsNanos).toBe(sip);
      expect(BigInt(trade.ts)).toBe(sip / 1000n);
      expect(trade.seq).toBe(raw['sequence_number']);
      expect(trade.price).toBe(raw['price']);
      expect(trade.size).toBe(raw['size']);
      expect(trade.exchange).toBe(String(raw['exchange']));
      expect(trade.id).toBe(
        raw['trf_id'] === undefined
          ? `${raw['exchange']}:${raw['id']}`
          : `${raw['exchange']}:${raw['trf_id']}:${raw['id']}`,
      );
    });
    // The key went in the header, never in a URL (first page or next_url).
    expect(
      server.requests.every((r) => r.authorization === `Bearer ${KEY}` && !r.url.includes(KEY)),
    ).toBe(true);
    expect(server.requests.slice(1).every((r) => r.url.includes('cursor='))).toBe(true);
  });

  it('asks for the range in nanoseconds and gets only the trades in it', async () => {
    const lines = fixtureLines('polygon/trades-AAPL.json');
    const from = rawBigInt(lines[5] as string, 'sip_timestamp');
    const to = rawBigInt(lines[9] as string, 'sip_timestamp');
    const { client } = await polygon({ routes: { '/v3/trades/AAPL': 'polygon/trades-AAPL.json' } });
    // µs bounds: the floor of trade 5's time includes it; trade 9's floor excludes trade 9 only if its ns are past the µs.
    const range = { from: Number(from / 1000n), to: Number(to / 1000n) };
    const got = trades(
      (await collect(client.trades('AAPL', range, new AbortController().signal))).flat(),
    );
    expect(got.map((t) => t.tsNanos)).toEqual(
      lines.slice(5, 9).map((l) => rawBigInt(l, 'sip_timestamp')),
    );
    // Each trade keeps its condition ids as the page gave them.
    expect(got.map((t) => t.conditions)).toEqual(
      lines
        .slice(5, 9)
        .map((l) => (JSON.parse(l.replace(/,\s*$/, '')) as { conditions: number[] }).conditions),
    );
  });

  it('reads quotes, minute aggregates, news, splits, dividends and tickers into domain records', async () => {
    const { client } = await polygon(
      {
        routes: {
          '/v3/quotes/AAPL': 'polygon/quotes-AAPL.json',
          '/v2/aggs/ticker/AAPL/range/1/minute': 'polygon/aggs-AAPL-minute.json',
          '/v2/reference/news': 'polygon/news-AAPL.json',
          '/v3/reference/splits': 'polygon/splits-AAPL.json',
          '/v3/reference/dividends': 'polygon/dividends-AAPL.json',
          '/v3/reference/tickers': 'polygon/tickers.json',
        },
      },
      { pageLimit: 5 },
    );
    const signal = new AbortController().signal;
    const quotes = (await collect(client.quotes('AAPL', DAY, signal))).flat();
    const quoteLines = fixtureLines('polygon/quotes-AAPL.json');
    expect(quotes).toHaveLength(quoteLines.length);
    const q0 = JSON.parse(quoteLines[0] as string) as Record<string, number>;
    expect(quotes[0]).toEqual({
      kind: 'quote',
      value: {
        symbol: 'AAPL',
        ts: Number(rawBigInt(quoteLines[0] as string, 'sip_timestamp') / 1000n),
        bidPrice: q0['bid_price'],
        bidSize: q0['bid_size'],
        askPrice: q0['ask_price'],
        askSize: q0['ask_size'],
      },
    });

    const bars = (await collect(client.aggregates('AAPL', '1m', DAY, signal))).flat();
    const aggLines = fixtureLines('polygon/aggs-AAPL-minute.json');
    expect(bars).toHaveLength(aggLines.length);
    const a3 = JSON.parse(aggLines[3] as string) as Record<string, number>;
    expect(bars[3]).toEqual({
      kind: 'bar',
      value: {
        symbol: 'AAPL',
        interval: '1m',
        ts: (a3['t'] as number) * 1000,
        open: a3['o'],
        high: a3['h'],
        low: a3['l'],
        close: a3['c'],
        volume: a3['v'],
        vwap: a3['vw'],
        tradeCount: a3['n'],
      },
    });

    const news = (await collect(client.news('AAPL', DAY, signal))).flat();
    expect(news).toEqual([
      {
        kind: 'news',
        value: {
          id: '8ec638777ca03b553ae516761c2a22ba2fdd2f37befae3ab6fdab74e9e5193eb',
          publishedAt: Date.parse('2018-02-02T14:05:00Z') * 1000,
          tickers: ['AAPL'],
          title: 'Apple beats estimates',
          description: 'Apple reported quarterly results above estimates.',
          url: 'https://www.investing.com/news/apple-1',
          source: 'Investing.com',
        },
      },
      {
        kind: 'news',
        value: {
          id: 'a1b2c3',
          publishedAt: Date.parse('2018-02-02T15:30:00Z') * 1000,
          tickers: ['AAPL', 'MSFT'],
          title: 'Apple and Microsoft lead tech',
          description: 'Tech stocks rose.',
          url: 'https://www.benzinga.com/news/2',
          source: 'Benzinga',
        },
      },
      {
        kind: 'news',
        value: {
          id: 'd4e5f6',
          publishedAt: Date.parse('2018-02-02T16:00:00Z') * 1000,
          tickers: ['AAPL'],
          title: 'No description here',
          description: '',
          url: 'https://www.zacks.com/3',
          source: 'Zacks',
        },
      },
    ]);

    const actions = [
      ...(await collect(client.splits('AAPL', signal))).flat(),
      ...(await collect(client.dividends('AAPL', signal))).flat(),
    ];
    expect(actions).toEqual([
      {
        kind: 'corporate-action',
        value: {
          kind: 'split',
          symbol: 'AAPL',
          exDate: '2014-06-09',
          splitFrom: 1,
          splitTo: 7,
          source: 'polygon',
        },
      },
      {
        kind: 'corporate-action',
        value: {
          kind: 'split',
          symbol: 'AAPL',
          exDate: '2020-08-31',
          splitFrom: 1,
          splitTo: 4,
          source: 'polygon',
        },
      },
      {
        kind: 'corporate-action',
        value: {
          kind: 'dividend',
          symbol: 'AAPL',
          exDate: '2021-11-05',
          cashAmount: 0.22,
          currency: 'USD',
          source: 'polygon',
        },
      },
      {
        kind: 'corporate-action',
        value: {
          kind: 'dividend',
          symbol: 'AAPL',
          exDate: '2023-05-12',
          cashAmount: 0.24,
          currency: 'USD',
          source: 'polygon',
        },
      },
    ]);

    const tickerPages = [];
    for await (const page of client.tickers(signal)) tickerPages.push(page);
    expect(tickerPages.flatMap((p) => p.symbols)).toEqual([
      { symbol: 'AAPL', name: 'Apple Inc.', exchange: 'XNAS', currency: 'USD', active: true },
      { symbol: 'MSFT', name: 'Microsoft Corp', exchange: 'XNAS', currency: 'USD', active: true },
    ]);
    expect(tickerPages.flatMap((p) => p.malformed).map((m) => m.column)).toEqual(['name']);
  });

  it('puts a daily aggregate (t = midnight in New York) at the UTC midnight of its date', async () => {
    const { server, client } = await polygon({
      routes: { '/v2/aggs/ticker/AAPL/range/1/day': 'polygon/aggs-AAPL-day.json' },
    });
    const range = {
      from: Date.parse('2021-01-04T00:00:00Z') * 1000,
      to: Date.parse('2021-01-06T00:00:00Z') * 1000,
    };
    const bars = (
      await collect(client.aggregates('AAPL', '1d', range, new AbortController().signal))
    ).flat();
    expect(
      bars.map((b) =>
        b.kind === 'bar' ? [b.value.interval, b.value.ts, b.value.close, b.value.tradeCount] : b,
      ),
    ).toEqual([
      ['1d', Date.parse('2021-01-04T00:00:00Z') * 1000, 132.69, 1310228],
      ['1d', Date.parse('2021-01-05T00:00:00Z') * 1000, 131.01, 707431],
    ]);
    // from/to in ms, `to` inclusive: the last ms before the range's end; unadjusted, ascending.
    const asked = new URL(server.requests[0]?.url ?? '', server.url);
    expect(asked.pathname).toBe(
      `/v2/aggs/ticker/AAPL/range/1/day/${Date.parse('2021-01-04T00:00:00Z')}/${Date.parse('2021-01-06T00:00:00Z') - 1}`,
    );
    expect(asked.searchParams.get('adjusted')).toBe('false');
    expect(asked.searchParams.get('sort')).toBe('asc');
  });

  it('waits out a 429 for exactly its Retry-After, then carries on', async () => {
    const { client, notices } = await polygon(
      {
        routes: { '/v3/trades/AAPL': 'polygon/trades-AAPL.json' },
        faults: { '/v3/trades/AAPL': [{ status: 429, retryAfter: '1' }] },
      },
      { pageLimit: 10 },
    );
    const got = trades(
      (await collect(client.trades('AAPL', DAY, new AbortController().signal))).flat(),
    );
    expect(got).toHaveLength(fixtureLines('polygon/trades-AAPL.json').length);
    expect(notices).toEqual([
      {
        vendor: 'Polygon',
        path: '/v3/trades/AAPL',
        status: 429,
        attempt: 1,
        waitMs: 1000,
        basis: 'retry-after',
      },
    ]);
  });

  it('rides out a burst of 5xx with exponential backoff, and gives up with UNAVAILABLE after the last retry', async () => {
    const burst = [500, 502, 503, 504].map((status) => ({ status }));
    const { client, notices } = await polygon(
      {
        routes: { '/v3/trades/AAPL': 'polygon/trades-AAPL.json' },
        faults: { '/v3/trades/AAPL': burst },
      },
      { pageLimit: 25, maxRetries: 4 },
    );
    const got = trades(
      (await collect(client.trades('AAPL', DAY, new AbortController().signal))).flat(),
    );
    expect(got).toHaveLength(25);
    expect(notices.map((n) => [n.status, n.attempt, n.basis])).toEqual([
      [500, 1, 'backoff'],
      [502, 2, 'backoff'],
      [503, 3, 'backoff'],
      [504, 4, 'backoff'],
    ]);
    // Full jitter: each wait lies in [0, base · 2^attempt).
    notices.forEach((n, i) => expect(n.waitMs).toBeLessThan(5 * 2 ** i));

    const { client: failing } = await polygon(
      {
        routes: { '/v3/trades/AAPL': 'polygon/trades-AAPL.json' },
        faults: { '/v3/trades/AAPL': Array.from({ length: 3 }, () => ({ status: 503 })) },
      },
      { maxRetries: 2 },
    );
    const error = await collect(failing.trades('AAPL', DAY, new AbortController().signal)).catch(
      (e: unknown) => e,
    );
    expect(isAlphalakeError(error, 'UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toMatch(
      /Polygon \/v3\/trades\/AAPL: HTTP 503 after 3 attempts/,
    );
  });

  it('stops on a malformed page with UPSTREAM_MALFORMED, after the pages before it', async () => {
    for (const body of ['<html>502 Bad Gateway</html>', '{"status":"OK","results":"not a list"}']) {
      const { client } = await polygon(
        {
          routes: { '/v3/trades/AAPL': 'polygon/trades-AAPL.json' },
          malformedPages: { '/v3/trades/AAPL': { page: 2, body } },
        },
        { pageLimit: 4 },
      );
      const pages: SourceRecord[][] = [];
      const error = await (async () => {
        for await (const page of client.trades('AAPL', DAY, new AbortController().signal))
          pages.push(page);
      })().catch((e: unknown) => e);
      expect(pages.map((p) => p.length)).toEqual([4, 4]);
      expect(isAlphalakeError(error, 'UPSTREAM_MALFORMED')).toBe(true);
      expect((error as Error).message).toMatch(/^Polygon \/v3\/trades\/AAPL: malformed page/);
    }
  });

  it('turns a record missing a field into a malformed record naming the field', async () => {
    const { client } = await polygon({ routes: { '/v3/trades/BAD': 'polygon/trades-BAD.json' } });
    const records = (await collect(client.trades('BAD', DAY, new AbortController().signal))).flat();
    expect(records.map((r) => r.kind)).toEqual(['trade', 'trade', 'malformed', 'trade', 'trade']);
    const bad = records[2] as Extract<SourceRecord, { kind: 'malformed' }>;
    expect(bad.column).toBe('price');
    expect(bad.detail).toBe('price is missing');
    // The raw record keeps its nanosecond timestamp digits.
    expect(bad.raw).toContain(
      `"sip_timestamp":"${rawBigInt(fixtureLines('polygon/trades-BAD.json')[2] as string, 'sip_timestamp')}"`,
    );
  });

  it('never shows the API key: a refused key, a wrong path and exhausted retries name no secret', async () => {
    const { server } = await polygon({ routes: { '/v3/trades/AAPL': 'polygon/trades-AAPL.json' } });
    const seen: string[] = [];
    const wrongKey = 'pk_wrong_0123456789abcdef';
    const client = new PolygonRestClient({
      apiKey: wrongKey,
      baseUrl: server.url,
      callsPerMinute: 0,
      onRetry: (n) => seen.push(JSON.stringify(n)),
    });
    const refused = await collect(client.trades('AAPL', DAY, new AbortController().signal)).catch(
      (e: unknown) => e,
    );
    expect(isAlphalakeError(refused, 'BAD_USER_INPUT')).toBe(true);
    expect((refused as Error).message).toMatch(/HTTP 401, the API key was refused/);
    seen.push(String(refused), JSON.stringify((refused as { details: unknown }).details));

    const echo = await polygon(
      {
        routes: { '/v3/trades/AAPL': 'polygon/trades-AAPL.json' },
        // A server that echoes the key back in its error text.
        faults: {
          '/v3/trades/AAPL': [
            { status: 500, body: JSON.stringify({ status: 'ERROR', error: `bad key ${KEY}` }) },
          ],
        },
      },
      { maxRetries: 0 },
    );
    const failed = await collect(
      echo.client.trades('AAPL', DAY, new AbortController().signal),
    ).catch((e: unknown) => e);
    expect(isAlphalakeError(failed, 'UNAVAILABLE')).toBe(true);
    expect((failed as Error).message).toContain('bad key ***');
    seen.push(String(failed), (failed as Error).stack ?? '');
    const missing = await collect(
      echo.client.trades('NOPE', DAY, new AbortController().signal),
    ).catch((e: unknown) => e);
    expect(isAlphalakeError(missing, 'NOT_FOUND')).toBe(true);
    seen.push(String(missing));
    for (const text of seen) {
      expect(text).not.toContain(KEY);
      expect(text).not.toContain(wrongKey);
    }
  });
});
