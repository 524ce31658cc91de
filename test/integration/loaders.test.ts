import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPlatform, type Platform } from '../../src/app.js';
import { quoteRow } from '../../src/batch/index.js';
import { configWith } from '../../src/config/index.js';
import { ManualClock, SECOND_US, type Bar, type Quote } from '../../src/domain/index.js';
import type { ApiServer } from '../../src/graphql/index.js';
import { startLoopbackApi } from '../support/api.js';

/**
 * DataLoader where resolvers fan out: however many latest quotes one request asks for —
 * `latestQuotes(symbols)`, aliased root `latestQuote` fields, the `latestQuote` of each
 * `barsMany` item — the market data is asked once, and `bronze.quotes` (the real embedded
 * Delta table, its `query` counted, not replaced) is read once. The answers are checked
 * against the quotes written, the newest of each ticker found here by a plain scan.
 */
const T0 = Date.parse('2026-11-20T15:07:30Z') * 1_000; // µs
const home = mkdtempSync(path.join(tmpdir(), 'alphalake-it-loaders-'));
const WITH_QUOTES = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOG', 'TSLA', 'META', 'NFLX'];
const TICKERS = [...WITH_QUOTES, 'IBM']; // IBM: no quote anywhere
const LIVE = 'NFLX'; // its latest quote is the speed layer's
let platform: Platform;
let server: ApiServer;
const written: Quote[] = [];
let liveQuote: Quote;

interface ApiQuote {
  symbol: string;
  tsMicros: number;
  bidPrice: number;
  bidSize: number;
  askPrice: number;
  askSize: number;
}

async function post(query: string): Promise<{
  data?: Record<string, unknown>;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
  cache: string | null;
}> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  return {
    ...((await response.json()) as object),
    cache: response.headers.get('alphalake-response-cache'),
  };
}

/** The newest of a ticker's quotes by a plain scan; the speed layer's when it has one. */
function expectedQuote(ticker: string): ApiQuote | null {
  const pick =
    ticker === LIVE
      ? liveQuote
      : written
          .filter((q) => q.symbol === ticker)
          .reduce<Quote | undefined>((best, q) => (!best || q.ts > best.ts ? q : best), undefined);
  return pick
    ? {
        symbol: pick.symbol,
        tsMicros: pick.ts,
        bidPrice: pick.bidPrice,
        bidSize: pick.bidSize,
        askPrice: pick.askPrice,
        askSize: pick.askSize,
      }
    : null;
}

const QUOTE_FIELDS = 'symbol tsMicros bidPrice bidSize askPrice askSize';

beforeAll(async () => {
  platform = await createPlatform(
    configWith({ home, port: 0, simulatorEnabled: false, authMode: 'off' }),
    { clock: new ManualClock(T0) },
  );
  await platform.masterData.ensureSymbols(TICKERS, 'test');
  await platform.start({ live: false });
  // Quotes an hour before now, in two commits, each ticker's newest not last in the file.
  for (const [commit, offset] of [
    [0, 0],
    [1, 7],
  ] as const) {
    const quotes: Quote[] = [];
    WITH_QUOTES.forEach((symbol, s) => {
      for (let i = 0; i < 5; i++) {
        quotes.push({
          symbol,
          ts: T0 - 3_600 * SECOND_US + ((i * 3 + s + offset) % 11) * SECOND_US + commit,
          bidPrice: 100 + s + i / 100,
          bidSize: 100 + i + commit,
          askPrice: 100.5 + s + i / 100,
          askSize: 200 + i + commit,
        });
      }
    });
    written.push(...quotes);
    await platform.tables.quotes.append(quotes.map(quoteRow));
  }
  liveQuote = {
    symbol: LIVE,
    ts: T0 - SECOND_US,
    bidPrice: 300.25,
    bidSize: 7,
    askPrice: 300.5,
    askSize: 9,
  };
  await platform.speedStore.putQuotes([liveQuote]);
  server = await startLoopbackApi(platform, { responseCacheBytes: 8 << 20 });
});

afterAll(async () => {
  await server?.close();
  await platform?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe('DataLoader', () => {
  it('answers latestQuotes for many tickers with one market call, one speed-store call and one lake read', async () => {
    const market = vi.spyOn(platform.market, 'latestQuotes');
    const lake = vi.spyOn(platform.tables.quotes, 'query');
    // The real embedded speed store, its calls counted (spyOn calls through).
    const speedMany = vi.spyOn(platform.speedStore, 'latestQuotes');
    const speedOne = vi.spyOn(platform.speedStore, 'latestQuote');
    try {
      const answer = await post(
        `{ latestQuotes(symbols: ${JSON.stringify(TICKERS)}) { ${QUOTE_FIELDS} } a: latestQuote(symbol: "msft") { ${QUOTE_FIELDS} } b: latestQuote(symbol: "IBM") { ${QUOTE_FIELDS} } }`,
      );
      expect(answer.errors).toBeUndefined();
      expect(answer.data).toEqual({
        latestQuotes: TICKERS.map(expectedQuote),
        a: expectedQuote('MSFT'),
        b: null,
      });
      expect(market).toHaveBeenCalledTimes(1);
      // Each ticker once, whatever the case it was asked in.
      expect(market.mock.calls[0]?.[0]).toEqual(TICKERS);
      // The lake for the eight the speed layer has no quote for, in one query.
      expect(lake).toHaveBeenCalledTimes(1);
      // The speed store once for all nine tickers, never once per ticker.
      expect(speedMany).toHaveBeenCalledTimes(1);
      expect(speedMany.mock.calls[0]?.[0]).toEqual(TICKERS);
      expect(speedOne).not.toHaveBeenCalled();
    } finally {
      market.mockRestore();
      lake.mockRestore();
      speedMany.mockRestore();
      speedOne.mockRestore();
    }
  });

  it("reads every barsMany item's latestQuote in one batch, and never caches the answer", async () => {
    const market = vi.spyOn(platform.market, 'latestQuotes');
    const lake = vi.spyOn(platform.tables.quotes, 'query');
    try {
      const query = `{ barsMany(symbols: ${JSON.stringify(TICKERS)}, from: "2026-11-18T00:00:00Z", to: "2026-11-19T00:00:00Z") { symbol bars { ts } latestQuote { ${QUOTE_FIELDS} } } }`;
      for (const round of [1, 2]) {
        const answer = await post(query);
        expect(answer.errors).toBeUndefined();
        expect(answer.data).toEqual({
          barsMany: TICKERS.map((symbol) => ({
            symbol,
            bars: [],
            latestQuote: expectedQuote(symbol),
          })),
        });
        // barsMany alone would settle; its items' quotes may be live, so nothing is kept.
        expect(answer.cache).toBe('miss');
        expect(market).toHaveBeenCalledTimes(round);
        expect(lake).toHaveBeenCalledTimes(round);
      }
    } finally {
      market.mockRestore();
      lake.mockRestore();
    }
  });

  it('reads barsMany over many tickers with one speed-store call, each ticker its own bars', async () => {
    // 1-minute bars in the real embedded speed store for two tickers, the minutes before T0.
    const minute = 60 * SECOND_US;
    const start = T0 - (T0 % minute);
    const live: Bar[] = ['AAPL', 'MSFT'].flatMap((symbol, s) =>
      Array.from({ length: 4 }, (_, k) => ({
        symbol,
        interval: '1m' as const,
        ts: start - (4 - k) * minute,
        open: 100 + s + k,
        high: 101 + s + k + (0.1 + 0.2),
        low: 99 + s + k,
        close: 100.5 + s + k,
        volume: 1_000 + k,
        vwap: 100.25 + s + k + (0.1 + 0.2),
        tradeCount: 10 + k,
      })),
    );
    await platform.speedStore.upsertBars(live);
    const many = vi.spyOn(platform.speedStore, 'barsMany');
    const one = vi.spyOn(platform.speedStore, 'bars');
    try {
      const answer = await post(
        `{ barsMany(symbols: ${JSON.stringify(TICKERS)}, interval: "1m", from: "${new Date((start - 10 * minute) / 1_000).toISOString()}", to: "${new Date((start + minute) / 1_000).toISOString()}", adjusted: false) { symbol bars { symbol tsMicros open high low close volume vwap tradeCount source } } }`,
      );
      expect(answer.errors).toBeUndefined();
      expect(answer.data).toEqual({
        barsMany: TICKERS.map((symbol) => ({
          symbol,
          bars: live
            .filter((bar) => bar.symbol === symbol)
            .map(({ interval: _interval, ts, ...bar }) => ({
              ...bar,
              tsMicros: ts,
              source: 'SPEED',
            })),
        })),
      });
      expect(many).toHaveBeenCalledTimes(1);
      expect(many.mock.calls[0]?.[0]).toEqual(TICKERS);
      expect(one).not.toHaveBeenCalled();
    } finally {
      many.mockRestore();
      one.mockRestore();
    }
  });

  it('refuses an unknown ticker in its own place, the others answered', async () => {
    const answer = await post(
      `{ a: latestQuote(symbol: "NOPE") { symbol } b: latestQuote(symbol: "AAPL") { ${QUOTE_FIELDS} } }`,
    );
    expect(answer.data).toEqual({ a: null, b: expectedQuote('AAPL') });
    expect(answer.errors?.map((e) => [e.extensions?.['code'], e.message])).toEqual([
      ['BAD_USER_INPUT', 'unknown symbol "NOPE"'],
    ]);
  });
});
