/**
 * The speed store contract (src/speed/speed-store.ts): one suite, run against every
 * adapter. `speedStoreContract(BACKENDS)` describes it once per backend; the unit tier
 * runs it on the memory store (test/unit/speed/), the services tier on the real
 * Cassandra (test/services/cassandra-speed-store.test.ts).
 *
 * Values are compared exactly: timestamps, prices (doubles that are not short decimals)
 * and sizes up to 2^53 - 1 must come back bit for bit, in the order the port promises.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bar, BarInterval, Quote, Trade } from '../../src/domain/index.js';
import { MICROS_PER_TIME_UNIT, type SpeedStore } from '../../src/speed/index.js';

export interface SpeedStoreBackend {
  readonly name: string;
  /** An empty store of this backend. */
  open(): Promise<SpeedStore>;
  /** A store whose rows expire after `seconds` (for backends with `supportsTtl`). */
  openExpiring?(seconds: number): Promise<SpeedStore>;
  /** Removes what the backend made (a keyspace); the stores are closed by then. */
  dispose?(): Promise<void>;
}

/** Domain time units (epoch ms today, µs after issue 8) per millisecond. */
const UNITS_PER_MS = 1_000 / MICROS_PER_TIME_UNIT;
const SECOND = 1_000 * UNITS_PER_MS;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;
/** 2026-01-02T14:30:00.123Z: not on a second, so a lost millisecond would show. */
const T0 = (Date.UTC(2026, 0, 2, 14, 30) + 123) * UNITS_PER_MS;
/** A price that is not a short decimal (0.1 + 0.2 = 0.30000000000000004). */
const AWKWARD_PRICE = 190 + (0.1 + 0.2);

/** Each trade gets the next sequence number unless the test names one. */
let nextSeq = 1;
const trade = (
  symbol: string,
  ts: number,
  id: string,
  price = 190.25,
  size = 100,
  seq = nextSeq++,
): Trade => ({
  symbol,
  ts,
  seq,
  price,
  size,
  id,
  exchange: 'XNAS',
});

const quote = (symbol: string, ts: number, bidPrice = 190.01): Quote => ({
  symbol,
  ts,
  bidPrice,
  bidSize: 300,
  askPrice: bidPrice + 0.02,
  askSize: 200,
});

const bar = (
  symbol: string,
  interval: BarInterval,
  ts: number,
  close = 190.5,
  volume = 1_000,
): Bar => ({
  symbol,
  interval,
  ts,
  open: 190.1,
  high: 191.3,
  low: 189.7,
  close,
  volume,
  vwap: 190.47 + (0.1 + 0.2),
  tradeCount: 12,
});

const everything = { from: T0 - 30 * DAY, to: T0 + 30 * DAY };

export function speedStoreContract(backends: readonly SpeedStoreBackend[]): void {
  for (const backend of backends) {
    describe(`speed store contract: ${backend.name}`, () => {
      let store: SpeedStore;

      beforeAll(async () => {
        store = await backend.open();
      });

      afterAll(async () => {
        await store?.close();
        await backend.dispose?.();
      });

      it('reports itself ready while open, saying what answered', async () => {
        const health = await store.health(AbortSignal.timeout(10_000));
        expect(health.ready).toBe(true);
        expect(health.detail).not.toBe('');
      });

      it('reports itself not ready once closed, and says so', async () => {
        const closed = await backend.open();
        await closed.close();
        const health = await closed.health(AbortSignal.timeout(10_000));
        expect(health.ready).toBe(false);
        expect(health.detail).toMatch(/closed/);
      });

      it('returns trades exactly as written, ordered by (ts, seq)', async () => {
        const written = [
          trade('TRX', T0 + 2 * SECOND, 'c', AWKWARD_PRICE, Number.MAX_SAFE_INTEGER),
          trade('TRX', T0, 'a', 0.000_123_456_789, 1),
          trade('TRX', T0 + 1, 'b', 1e9 + 0.5, 7),
        ];
        await store.appendTrades(written);
        expect(await store.trades('TRX', everything, 100)).toEqual([
          written[1],
          written[2],
          written[0],
        ]);
      });

      it('keeps a replayed batch once: trades are keyed by (symbol, ts, seq, id)', async () => {
        const batch = [0, 1, 2, 3].map((i) => trade('RPL', T0 + i * SECOND, `r${i}`, 100 + i));
        await store.appendTrades(batch);
        await store.appendTrades([...batch].reverse());
        await store.appendTrades(batch.slice(1, 3));
        expect(await store.trades('RPL', everything, 100)).toEqual(batch);
      });

      it('keeps two trades at the same ts, ordered by seq (not by id)', async () => {
        const late = trade('SAME', T0, 'id-1', 190.1, 100, 2);
        const early = trade('SAME', T0, 'id-2', 190.2, 100, 1);
        await store.appendTrades([late, early]);
        expect(await store.trades('SAME', everything, 10)).toEqual([early, late]);
      });

      it('keeps two trades in the same millisecond apart and in time order', async () => {
        // One microsecond apart, ids and seqs in the opposite order: only the µs orders them.
        const first = trade('USEC', T0 + 1, 'z', 190.25, 100, 9);
        const second = trade('USEC', T0 + 2, 'a', 190.25, 100, 8);
        await store.appendTrades([second, first]);
        expect(await store.trades('USEC', everything, 10)).toEqual([first, second]);
      });

      it('reads a range across several days in time order, [from, to) and limited', async () => {
        const midnight = Math.floor(T0 / DAY) * DAY + DAY;
        const spread = [
          trade('DAYS', midnight - DAY - 1, 'd0'), // the last instant of day 0
          trade('DAYS', midnight - 1, 'd1a'),
          trade('DAYS', midnight, 'd2a'), // the first instant of day 2
          trade('DAYS', midnight + 1, 'd2b'),
          trade('DAYS', midnight + 2 * DAY + 5 * MINUTE, 'd4'),
        ];
        await store.appendTrades([...spread].reverse());
        expect(await store.trades('DAYS', everything, 100)).toEqual(spread);
        expect(await store.trades('DAYS', everything, 3)).toEqual(spread.slice(0, 3));
        expect(await store.trades('DAYS', { from: midnight - 1, to: midnight + 1 }, 100)).toEqual(
          spread.slice(1, 3),
        );
        expect(
          await store.trades('DAYS', { from: midnight - DAY, to: midnight + 3 * DAY }, 2),
        ).toEqual(spread.slice(1, 3));
        expect(await store.trades('DAYS', { from: midnight + 2, to: midnight + DAY }, 10)).toEqual(
          [],
        );
        expect(await store.trades('DAYS', everything, 0)).toEqual([]);
        expect(await store.trades('NONE', everything, 10)).toEqual([]);
      });

      it('reads bars by interval, oldest first across days, limited', async () => {
        const minuteBars = [
          bar('BARS', '1m', T0 - (T0 % MINUTE) - DAY),
          bar('BARS', '1m', T0 - (T0 % MINUTE)),
          bar('BARS', '1m', T0 - (T0 % MINUTE) + MINUTE, 191.25, Number.MAX_SAFE_INTEGER),
        ];
        const secondBars = [0, 1, 2].map((i) =>
          bar('BARS', '1s', T0 - (T0 % SECOND) + i * SECOND, 190 + i),
        );
        await store.upsertBars([...secondBars, ...minuteBars].reverse());
        expect(await store.bars('BARS', '1m', everything, 100)).toEqual(minuteBars);
        expect(await store.bars('BARS', '1s', everything, 100)).toEqual(secondBars);
        expect(await store.bars('BARS', '1m', everything, 2)).toEqual(minuteBars.slice(0, 2));
        expect(
          await store.bars('BARS', '1m', { from: minuteBars[1]!.ts, to: minuteBars[2]!.ts }, 100),
        ).toEqual([minuteBars[1]]);
        expect(await store.bars('NONE', '1m', everything, 100)).toEqual([]);
      });

      it('replaces a bar by (symbol, interval, ts): the later write wins', async () => {
        const start = T0 - (T0 % MINUTE);
        const partial = bar('UPS', '1m', start, 190.5, 100);
        const fuller = { ...bar('UPS', '1m', start, 190.75, 250), tradeCount: 30 };
        await store.upsertBars([partial]);
        await store.upsertBars([fuller]);
        await store.upsertBars([fuller]);
        expect(await store.bars('UPS', '1m', everything, 10)).toEqual([fuller]);
      });

      it('gives the current bar of an interval: the one with the greatest start', async () => {
        const start = T0 - (T0 % MINUTE);
        const older = bar('CUR', '1m', start - DAY);
        const newest = bar('CUR', '1m', start, 192);
        const second = bar('CUR', '1s', start + 5 * SECOND);
        await store.upsertBars([newest, second, older]);
        expect(await store.currentBar('CUR', '1m')).toEqual(newest);
        expect(await store.currentBar('CUR', '1s')).toEqual(second);
        const updated = { ...newest, close: 193, tradeCount: 13 };
        await store.upsertBars([updated]);
        expect(await store.currentBar('CUR', '1m')).toEqual(updated);
        expect(await store.currentBar('NONE', '1m')).toBeUndefined();
      });

      it('keeps quotes by ts and the latest by event time, not arrival', async () => {
        const first = quote('QTE', T0, 190.01);
        const last = quote('QTE', T0 + DAY, 190.02);
        const between = quote('QTE', T0 + 1, 190.03);
        await store.putQuotes([first, last]);
        await store.putQuotes([between]); // arrives late, is not the latest
        expect(await store.latestQuote('QTE')).toEqual(last);
        expect(await store.quotes('QTE', everything, 10)).toEqual([first, between, last]);
        expect(await store.quotes('QTE', everything, 2)).toEqual([first, between]);
        const restated = quote('QTE', T0 + DAY, 190.05);
        await store.putQuotes([restated]);
        expect(await store.latestQuote('QTE')).toEqual(restated);
        expect(await store.quotes('QTE', { from: T0 + 2, to: everything.to }, 10)).toEqual([
          restated,
        ]);
        expect(await store.latestQuote('NONE')).toBeUndefined();
      });

      it('reads quotes as the lambda view asks: [from, to) across days, per symbol, in time order, limited', async () => {
        // Quotes of two symbols interleaved in one batch, over three days, with sub-millisecond
        // steps and prices whose binary fractions must come back whole.
        const days = [T0 - DAY, T0, T0 + DAY];
        const batch = days.flatMap((day, d) =>
          Array.from({ length: 20 }, (_, i) => [
            quote('QRA', day + i * 1_001 + 1, 190 + d + (0.1 + 0.2) * i),
            quote('QRB', day + i * 1_001, 50 + d + i / 3),
          ]).flat(),
        );
        await store.putQuotes(batch);
        const of = (symbol: string) => batch.filter((q) => q.symbol === symbol);
        expect(await store.quotes('QRA', everything, 1_000)).toEqual(of('QRA'));
        expect(await store.quotes('QRB', everything, 1_000)).toEqual(of('QRB'));
        // [from, to): the quote at `from` is in, the one at `to` is out.
        const from = T0 + 5 * 1_001 + 1;
        const to = T0 + DAY + 3 * 1_001 + 1;
        expect(await store.quotes('QRA', { from, to }, 1_000)).toEqual(
          of('QRA').filter((q) => q.ts >= from && q.ts < to),
        );
        expect(await store.quotes('QRA', { from, to }, 4)).toEqual(
          of('QRA')
            .filter((q) => q.ts >= from && q.ts < to)
            .slice(0, 4),
        );
        expect(await store.latestQuote('QRB')).toEqual(of('QRB').at(-1));
      });

      it('writes and reads many symbols at once', async () => {
        const symbols = Array.from({ length: 40 }, (_, i) => `M${i}`);
        const batch = symbols.flatMap((symbol, s) =>
          Array.from({ length: 50 }, (_, i) =>
            trade(symbol, T0 + i * SECOND + s, `${symbol}-${i}`, 100 + i),
          ),
        );
        await store.appendTrades(batch);
        for (const symbol of symbols) {
          expect(await store.trades(symbol, everything, 1_000)).toEqual(
            batch.filter((t) => t.symbol === symbol),
          );
        }
      });

      it('reads the latest quotes of many tickers in one call, in the order asked', async () => {
        // More tickers than one IN list holds (200), quotes over three days, the newest of
        // some a day older than of others, a ticker asked twice and one with none.
        const tickers = Array.from({ length: 230 }, (_, i) => `LQ${i}`);
        const batch = tickers.flatMap((symbol, s) =>
          [T0 - DAY, T0, T0 + DAY]
            .slice(0, 1 + (s % 3))
            .flatMap((day, d) => [
              quote(symbol, day + s, 100 + s + d / 7),
              quote(symbol, day + s + 1_001, 100 + s + (0.1 + 0.2) * d),
            ]),
        );
        await store.putQuotes(batch);
        const asked = ['LQ7', 'NONE', ...tickers, 'LQ7'];
        const expected = asked.map((symbol) =>
          batch
            .filter((q) => q.symbol === symbol)
            .reduce<
              Quote | undefined
            >((best, q) => (best === undefined || q.ts > best.ts ? q : best), undefined),
        );
        expect(await store.latestQuotes(asked)).toEqual(expected);
        // The same answers as one call per ticker.
        expect(await store.latestQuotes(asked)).toEqual(
          await Promise.all(asked.map((symbol) => store.latestQuote(symbol))),
        );
        expect(await store.latestQuotes([])).toEqual([]);
      });

      it('reads the bars of many tickers in one call: per ticker [from, to), oldest first, limited', async () => {
        const tickers = Array.from({ length: 210 }, (_, i) => `BM${i}`);
        const start = T0 - (T0 % MINUTE);
        const batch = tickers.flatMap((symbol, s) =>
          [start - DAY, start, start + DAY].flatMap((day) =>
            Array.from({ length: 1 + (s % 4) }, (_, i) =>
              bar(symbol, '1m', day + i * MINUTE, 190 + s + (0.1 + 0.2) * i),
            ),
          ),
        );
        // Written newest first: the order read back is the store's, not the arrival's.
        await store.upsertBars([...batch].reverse());
        await store.upsertBars([bar('BM3', '1s', start)]); // another interval: not read
        const asked = ['BM1', 'NONE', ...tickers, 'BM1'];
        const ofTicker = (symbol: string, range: { from: number; to: number }, limit: number) =>
          batch
            .filter((b) => b.symbol === symbol && b.ts >= range.from && b.ts < range.to)
            .sort((a, b) => a.ts - b.ts)
            .slice(0, limit);
        for (const [range, limit] of [
          [everything, 1_000],
          [everything, 5],
          [{ from: start + MINUTE, to: start + DAY + 2 * MINUTE }, 1_000],
          [{ from: start + MINUTE, to: start + DAY + 2 * MINUTE }, 2],
        ] as const) {
          expect(await store.barsMany(asked, '1m', range, limit)).toEqual(
            asked.map((symbol) => ofTicker(symbol, range, limit)),
          );
        }
        // The same answers as one call per ticker.
        expect(await store.barsMany(asked, '1m', everything, 3)).toEqual(
          await Promise.all(asked.map((symbol) => store.bars(symbol, '1m', everything, 3))),
        );
        expect(await store.barsMany(asked, '1m', everything, 0)).toEqual(asked.map(() => []));
        expect(await store.barsMany(['BM3'], '1s', everything, 10)).toEqual([
          [bar('BM3', '1s', start)],
        ]);
      });

      it('lets rows go: by evictBefore, or by TTL where the store has one', async () => {
        const old = trade('EVICT', T0 - MINUTE, 'old');
        const recent = trade('EVICT', T0, 'recent');
        if (!store.capabilities.supportsTtl) {
          const oldBar = bar('EVICT', '1m', T0 - (T0 % MINUTE) - MINUTE);
          const recentBar = bar('EVICT', '1m', T0 - (T0 % MINUTE));
          await store.appendTrades([old, recent]);
          await store.upsertBars([oldBar, recentBar]);
          await store.putQuotes([quote('EVICT', T0 - MINUTE), quote('EVICT', T0)]);
          await store.evictBefore(T0 - (T0 % MINUTE)); // the start of recentBar
          expect(await store.trades('EVICT', everything, 10)).toEqual([recent]);
          expect(await store.bars('EVICT', '1m', everything, 10)).toEqual([recentBar]);
          expect(await store.quotes('EVICT', everything, 10)).toEqual([quote('EVICT', T0)]);
          return;
        }
        expect(
          backend.openExpiring,
          `${backend.name} supports TTL: give openExpiring`,
        ).toBeDefined();
        const expiring = await backend.openExpiring!(1);
        try {
          await expiring.appendTrades([old, recent]);
          await expiring.upsertBars([bar('EVICT', '1m', T0 - (T0 % MINUTE))]);
          await expiring.putQuotes([quote('EVICT', T0)]);
          // Waits for expiry (a condition, not a time limit): at most about 30 s.
          for (let i = 0; i < 150; i++) {
            const left =
              (await expiring.trades('EVICT', everything, 10)).length +
              (await expiring.bars('EVICT', '1m', everything, 10)).length +
              (await expiring.quotes('EVICT', everything, 10)).length;
            if (left === 0) break;
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
          expect(await expiring.trades('EVICT', everything, 10)).toEqual([]);
          expect(await expiring.bars('EVICT', '1m', everything, 10)).toEqual([]);
          expect(await expiring.latestQuote('EVICT')).toBeUndefined();
          expect(await expiring.currentBar('EVICT', '1m')).toBeUndefined();
        } finally {
          await expiring.close();
        }
      });
    });
  }
}
