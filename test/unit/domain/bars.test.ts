import { describe, expect, it } from 'vitest';
import { aggregateBars, BarBuilder, type Trade } from '../../../src/domain/index.js';

const T0 = Date.UTC(2026, 10, 20, 15, 0, 0);
const trade = (ts: number, price: number, size: number, symbol = 'AAPL'): Trade => ({
  symbol,
  ts,
  price,
  size,
  id: `${symbol}-${ts}`,
  exchange: 'XNAS',
});

describe('1-minute bars', () => {
  it('computes OHLCV, VWAP and trade count per symbol and minute', () => {
    const bars = aggregateBars([
      trade(T0 + 1_000, 10, 100),
      trade(T0 + 2_000, 12, 300),
      trade(T0 + 3_000, 9, 100),
      trade(T0 + 59_999, 11, 100),
      trade(T0 + 60_000, 20, 5),
      trade(T0 + 5_000, 50, 10, 'MSFT'),
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
        ts: T0 + 60_000,
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
    builder.add(trade(T0 + 30_000, 11, 1));
    builder.add(trade(T0 + 10_000, 10, 1));
    const bar = builder.add(trade(T0 + 20_000, 15, 1));
    expect([bar.open, bar.close, bar.high, bar.low]).toEqual([10, 11, 15, 10]);
  });

  it('hands over completed bars and keeps the open ones', () => {
    const builder = new BarBuilder();
    builder.add(trade(T0, 10, 1));
    builder.add(trade(T0 + 61_000, 11, 1));
    expect(builder.takeBefore(T0 + 60_000).map((b) => b.ts)).toEqual([T0]);
    expect(builder.bars().map((b) => b.ts)).toEqual([T0 + 60_000]);
  });
});

describe('1-second bars', () => {
  it('folds the same trades into one bar per second, and closes a second once past it', () => {
    const builder = new BarBuilder('1s');
    for (const t of [
      trade(T0 + 100, 10, 100),
      trade(T0 + 999, 12, 300),
      trade(T0 + 1_000, 9, 100),
      trade(T0 + 1_500, 11, 100),
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
        ts: T0 + 1_000,
        open: 9,
        high: 11,
        low: 9,
        close: 11,
        volume: 200,
        vwap: (9 * 100 + 11 * 100) / 200,
        tradeCount: 2,
      },
    ]);
    expect(builder.takeBefore(T0 + 1_999).map((b) => b.ts)).toEqual([T0]);
    expect(builder.bars().map((b) => b.ts)).toEqual([T0 + 1_000]);
  });
});
