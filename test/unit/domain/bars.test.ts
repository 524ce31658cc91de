import { describe, expect, it } from 'vitest';
import { aggregateBars, BarBuilder, type Trade } from '../../../src/domain/index.js';

/** Epoch µs; offsets below are in milliseconds (`ms`) or microseconds. */
const T0 = Date.UTC(2026, 10, 20, 15, 0, 0) * 1_000;
const ms = (n: number): number => n * 1_000;
const trade = (ts: number, price: number, size: number, symbol = 'AAPL'): Trade => ({
  symbol,
  ts,
  price,
  size,
  id: `${symbol}-${ts}`,
  seq: ts - T0,
  exchange: 'XNAS',
});

describe('1-minute bars', () => {
  it('computes OHLCV, VWAP and trade count per symbol and minute', () => {
    const bars = aggregateBars([
      trade(T0 + ms(1_000), 10, 100),
      trade(T0 + ms(2_000), 12, 300),
      trade(T0 + ms(3_000), 9, 100),
      trade(T0 + ms(59_999), 11, 100),
      trade(T0 + ms(60_000), 20, 5),
      trade(T0 + ms(5_000), 50, 10, 'MSFT'),
    ]);
    expect(bars).toEqual([
      {
        symbol: 'AAPL',
        interval: '1m',
        ts: T0,
        open: 10,
        high: 12,
        low: 9,
        close: 11,
        volume: 600,
        vwap: (10 * 100 + 12 * 300 + 9 * 100 + 11 * 100) / 600,
        tradeCount: 4,
      },
      {
        symbol: 'MSFT',
        interval: '1m',
        ts: T0,
        open: 50,
        high: 50,
        low: 50,
        close: 50,
        volume: 10,
        vwap: 50,
        tradeCount: 1,
      },
      {
        symbol: 'AAPL',
        interval: '1m',
        ts: T0 + ms(60_000),
        open: 20,
        high: 20,
        low: 20,
        close: 20,
        volume: 5,
        vwap: 20,
        tradeCount: 1,
      },
    ]);
  });

  it('takes open and close by event time, whatever the arrival order', () => {
    const builder = new BarBuilder();
    builder.add(trade(T0 + ms(30_000), 11, 1));
    builder.add(trade(T0 + ms(10_000), 10, 1));
    const bar = builder.add(trade(T0 + ms(20_000), 15, 1));
    expect([bar.open, bar.close, bar.high, bar.low]).toEqual([10, 11, 15, 10]);
  });

  it('hands over completed bars and keeps the open ones', () => {
    const builder = new BarBuilder();
    builder.add(trade(T0, 10, 1));
    builder.add(trade(T0 + ms(61_000), 11, 1));
    expect(builder.takeBefore(T0 + ms(60_000)).map((b) => b.ts)).toEqual([T0]);
    expect(builder.bars().map((b) => b.ts)).toEqual([T0 + ms(60_000)]);
  });

  it('folds sub-millisecond trades into the right minute, open and close by (ts, seq)', () => {
    const builder = new BarBuilder();
    // Two trades in the same microsecond: seq decides which is first and last.
    builder.add({ ...trade(T0 + 7, 10, 1), seq: 2 });
    builder.add({ ...trade(T0 + 7, 11, 1), seq: 1 });
    builder.add({ ...trade(T0 + ms(60_000) - 1, 12, 1), seq: 3 });
    const [bar, ...rest] = builder.bars();
    expect(rest).toEqual([]);
    expect(bar).toMatchObject({ ts: T0, open: 11, close: 12, tradeCount: 3 });
    builder.add({ ...trade(T0 + ms(60_000), 13, 1), seq: 4 });
    expect(builder.takeBefore(T0 + ms(60_000)).map((b) => b.ts)).toEqual([T0]);
  });
});

describe('1-second bars', () => {
  it('folds the same trades into one bar per second, and closes a second once past it', () => {
    const builder = new BarBuilder('1s');
    for (const t of [
      trade(T0 + ms(100), 10, 100),
      trade(T0 + ms(999), 12, 300),
      trade(T0 + ms(1_000), 9, 100),
      trade(T0 + ms(1_500), 11, 100),
    ]) {
      builder.add(t);
    }
    expect(builder.bars()).toEqual([
      {
        symbol: 'AAPL',
        interval: '1s',
        ts: T0,
        open: 10,
        high: 12,
        low: 10,
        close: 12,
        volume: 400,
        vwap: (10 * 100 + 12 * 300) / 400,
        tradeCount: 2,
      },
      {
        symbol: 'AAPL',
        interval: '1s',
        ts: T0 + ms(1_000),
        open: 9,
        high: 11,
        low: 9,
        close: 11,
        volume: 200,
        vwap: (9 * 100 + 11 * 100) / 200,
        tradeCount: 2,
      },
    ]);
    expect(builder.takeBefore(T0 + ms(1_999)).map((b) => b.ts)).toEqual([T0]);
    expect(builder.bars().map((b) => b.ts)).toEqual([T0 + ms(1_000)]);
  });
});
