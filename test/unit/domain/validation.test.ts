import { describe, expect, it } from 'vitest';
import {
  validateBar,
  validateQuote,
  validateTrade,
  type Bar,
  type Quote,
  type Trade,
} from '../../../src/domain/index.js';

const NOW = Date.UTC(2026, 10, 20, 15, 0, 0) * 1_000 + 123;
const context = {
  isKnownSymbol: (s: string) => s === 'AAPL',
  now: NOW,
  futureToleranceUs: 5_000_000,
};
const good: Trade = {
  symbol: 'AAPL',
  ts: NOW - 1_000_001,
  seq: 7,
  price: 190.5,
  size: 100,
  id: 't1',
  exchange: 'XNAS',
};
const quote: Quote = {
  symbol: 'AAPL',
  ts: NOW,
  bidPrice: 190.4,
  bidSize: 100,
  askPrice: 190.5,
  askSize: 200,
};

describe('trade rules', () => {
  it('accepts a well-formed trade', () => {
    expect(validateTrade(good, context)).toBeUndefined();
  });

  it.each([
    [{ symbol: 'aapl!' }, 'SYMBOL_MALFORMED'],
    [{ symbol: 'ZZZZ' }, 'UNKNOWN_SYMBOL'],
    [{ ts: Number.NaN }, 'TIMESTAMP_INVALID'],
    [{ ts: NOW - 0.5 }, 'TIMESTAMP_INVALID'],
    [{ ts: 2 ** 53 }, 'TIMESTAMP_INVALID'],
    [{ ts: NOW + 60_000_000 }, 'TIMESTAMP_IN_FUTURE'],
    [{ ts: NOW + 5_000_001 }, 'TIMESTAMP_IN_FUTURE'],
    [{ price: Number.POSITIVE_INFINITY }, 'PRICE_NOT_FINITE'],
    [{ price: 0 }, 'PRICE_NOT_POSITIVE'],
    [{ price: -1 }, 'NEGATIVE_PRICE'],
    [{ size: 0 }, 'ZERO_SIZE'],
    [{ size: 1.5 }, 'SIZE_NOT_POSITIVE_INTEGER'],
    [{ id: '' }, 'ID_MISSING'],
    [{ seq: -1 }, 'SEQUENCE_INVALID'],
    [{ seq: 1.5 }, 'SEQUENCE_INVALID'],
  ] as const)('rejects %j with %s', (change, reason) => {
    expect(validateTrade({ ...good, ...change } as Trade, context)).toBe(reason);
  });

  it('rejects an event time outside the range the ingest takes', () => {
    const range = { from: good.ts, to: good.ts + 1 };
    expect(validateTrade(good, { ...context, range })).toBeUndefined();
    expect(validateTrade({ ...good, ts: good.ts + 1 }, { ...context, range })).toBe(
      'TIMESTAMP_OUT_OF_RANGE',
    );
    expect(validateTrade({ ...good, ts: good.ts - 1 }, { ...context, range })).toBe(
      'TIMESTAMP_OUT_OF_RANGE',
    );
  });

  it('tolerates a small clock skew into the future', () => {
    expect(validateTrade({ ...good, ts: NOW + 5_000_000 }, context)).toBeUndefined();
  });
});

describe('quote rules', () => {
  it('accepts a locked or normal quote', () => {
    expect(validateQuote(quote, context)).toBeUndefined();
    expect(validateQuote({ ...quote, bidPrice: 190.5 }, context)).toBeUndefined();
  });

  it('rejects a crossed quote and bad sizes', () => {
    expect(validateQuote({ ...quote, bidPrice: 190.6 }, context)).toBe('QUOTE_CROSSED');
    expect(validateQuote({ ...quote, askSize: -5 }, context)).toBe('SIZE_NOT_POSITIVE_INTEGER');
  });
});

describe('bar rules', () => {
  const bar: Bar = {
    symbol: 'AAPL',
    interval: '1m',
    ts: NOW - 60_000_000,
    open: 190.5,
    high: 191,
    low: 190,
    close: 190.75,
    volume: 1200.5,
    vwap: 190.6,
    tradeCount: 17,
  };

  it('takes a bar without a vwap (NaN: the vendor gave none, as Polygon minute-aggs files)', () => {
    expect(validateBar(bar, context)).toBeUndefined();
    expect(validateBar({ ...bar, vwap: Number.NaN }, context)).toBeUndefined();
  });

  it.each([
    [{ vwap: Number.POSITIVE_INFINITY }, 'PRICE_NOT_FINITE'],
    [{ open: Number.NaN }, 'PRICE_NOT_FINITE'],
    [{ low: 190.6 }, 'BAR_INCONSISTENT'],
  ])('rejects %j as %s', (change, reason) => {
    expect(validateBar({ ...bar, ...change }, context)).toBe(reason);
  });
});
