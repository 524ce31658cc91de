import { describe, expect, it } from 'vitest';
import {
  actionFactor,
  adjustmentSpans,
  isIdentity,
  spanAt,
  startOfDate,
  TIME_MAX,
  TIME_MIN,
  type CorporateActionRecord,
} from '../../../src/mdm/index.js';

const split = (exDate: string, splitFrom: number, splitTo: number): CorporateActionRecord => ({
  id: `s:split:${exDate}`,
  symbolId: 's',
  kind: 'split',
  symbol: 'X',
  exDate,
  splitFrom,
  splitTo,
  source: 'test',
});

const dividend = (exDate: string, cashAmount: number): CorporateActionRecord => ({
  id: `s:dividend:${exDate}`,
  symbolId: 's',
  kind: 'dividend',
  symbol: 'X',
  exDate,
  cashAmount,
  currency: 'USD',
  source: 'test',
});

describe('adjustment factors', () => {
  it('a split scales prices by from/to and volumes by to/from; a dividend prices by 1 − D/P', () => {
    expect(actionFactor(split('2024-03-05', 1, 2), undefined)).toEqual({
      exTs: startOfDate('2024-03-05'),
      price: 0.5,
      volume: 2,
    });
    expect(actionFactor(split('2024-03-05', 3, 2), undefined)).toEqual({
      exTs: startOfDate('2024-03-05'),
      price: 3 / 2,
      volume: 2 / 3,
    });
    expect(actionFactor(dividend('2024-03-05', 0.37), 54.1)).toEqual({
      exTs: startOfDate('2024-03-05'),
      price: 1 - 0.37 / 54.1,
      volume: 1,
    });
  });

  it('a dividend with no close before its ex-date (or one above the close) adjusts nothing and says so', () => {
    expect(actionFactor(dividend('2024-03-05', 0.37), undefined)).toMatchObject({
      price: 1,
      volume: 1,
      unpriced: true,
    });
    expect(actionFactor(dividend('2024-03-05', 60), 54.1)).toMatchObject({ unpriced: true });
  });

  it('multiplies later factors into earlier spans, latest first, and covers the time line once', () => {
    const d = actionFactor(dividend('2024-01-10', 0.5), 101.7);
    const s = actionFactor(split('2024-03-05', 1, 4), undefined);
    const d2 = actionFactor(dividend('2024-03-05', 0.2), 26.3);
    const spans = adjustmentSpans([d, s, d2]);
    const jan10 = startOfDate('2024-01-10');
    const mar5 = startOfDate('2024-03-05');
    expect(spans).toEqual([
      { from: TIME_MIN, to: jan10, price: 1 * 0.25 * d2.price * d.price, volume: 4 },
      { from: jan10, to: mar5, price: 1 * 0.25 * d2.price, volume: 4 },
      { from: mar5, to: TIME_MAX, price: 1, volume: 1 },
    ]);
    expect(spanAt(spans, mar5 - 1)).toBe(spans[1]);
    expect(spanAt(spans, mar5)).toBe(spans[2]);
    expect(isIdentity(spans)).toBe(false);
    expect(isIdentity(adjustmentSpans([]))).toBe(true);
    expect(adjustmentSpans([])).toEqual([{ from: TIME_MIN, to: TIME_MAX, price: 1, volume: 1 }]);
  });

  it('refuses a date that is not one', () => {
    expect(() => startOfDate('2024-13-01')).toThrow(/not a date/);
  });
});
