import { describe, expect, it } from 'vitest';
import { ALWAYS_OPEN, NYSE, type Trade } from '../../../src/domain/index.js';
import { MarketSimulator } from '../../../src/ingest/index.js';

const SYMBOLS = ['AAPL', 'AMZN', 'GOOGL', 'MSFT', 'NVDA', 'TSLA'];
const simulator = (seed = 42) =>
  new MarketSimulator({ seed, symbols: SYMBOLS, calendar: ALWAYS_OPEN, tradesPerSecond: 1 });
const trades = (sim: MarketSimulator, from: number, to: number): Trade[] =>
  [...sim.tape(from, to)].flatMap((s) => s.trades);

const DAY = Date.parse('2026-11-20T00:00:00Z');
const HOUR = 3_600_000;

describe('market simulator', () => {
  it('is deterministic: the same seed gives the same tape, from any starting point', () => {
    const full = trades(simulator(), DAY + 10 * HOUR, DAY + 10 * HOUR + 600_000);
    const again = trades(simulator(), DAY + 10 * HOUR, DAY + 10 * HOUR + 600_000);
    const tail = trades(simulator(), DAY + 10 * HOUR + 300_000, DAY + 10 * HOUR + 600_000);
    expect(again).toEqual(full);
    expect(tail).toEqual(full.filter((t) => t.ts >= DAY + 10 * HOUR + 300_000));
    expect(trades(simulator(7), DAY + 10 * HOUR, DAY + 10 * HOUR + 60_000)).not.toEqual(
      full.filter((t) => t.ts < DAY + 10 * HOUR + 60_000),
    );
  });

  it('trades every symbol, in time order, with valid prices and sizes', () => {
    const tape = trades(simulator(), DAY + 12 * HOUR, DAY + 12 * HOUR + 600_000);
    expect(new Set(tape.map((t) => t.symbol))).toEqual(new Set(SYMBOLS));
    for (let i = 1; i < tape.length; i++)
      expect(tape[i]!.ts).toBeGreaterThanOrEqual(tape[i - 1]!.ts);
    for (const t of tape) {
      expect(t.price).toBeGreaterThan(0);
      expect(Number.isInteger(t.size) && t.size > 0).toBe(true);
    }
    expect(new Set(tape.map((t) => `${t.symbol}/${t.id}`)).size).toBe(tape.length);
  });

  it('has a U-shaped intraday volume and correlated returns', () => {
    const sim = simulator();
    const day = trades(sim, DAY, DAY + 24 * HOUR);
    const countIn = (fromHour: number, toHour: number) =>
      day.filter((t) => t.ts >= DAY + fromHour * HOUR && t.ts < DAY + toHour * HOUR).length;
    expect(countIn(0, 2)).toBeGreaterThan(1.8 * countIn(11, 13));
    expect(countIn(22, 24)).toBeGreaterThan(1.8 * countIn(11, 13));

    // Five-minute returns of AAPL and MSFT share the market factor.
    const closes = (symbol: string) => {
      const buckets = new Map<number, number>();
      for (const t of day)
        if (t.symbol === symbol) buckets.set(Math.floor((t.ts - DAY) / 300_000), t.price);
      return [...Array(288).keys()]
        .map((k) => buckets.get(k))
        .filter((p): p is number => p !== undefined);
    };
    const returns = (prices: number[]) => prices.slice(1).map((p, i) => Math.log(p / prices[i]!));
    const a = returns(closes('AAPL'));
    const b = returns(closes('MSFT'));
    const n = Math.min(a.length, b.length);
    const mean = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
    const ma = mean(a.slice(0, n));
    const mb = mean(b.slice(0, n));
    let cov = 0;
    let va = 0;
    let vb = 0;
    for (let i = 0; i < n; i++) {
      cov += (a[i]! - ma) * (b[i]! - mb);
      va += (a[i]! - ma) ** 2;
      vb += (b[i]! - mb) ** 2;
    }
    expect(cov / Math.sqrt(va * vb)).toBeGreaterThan(0.3);
  });

  it('follows the NYSE calendar when asked', () => {
    const sim = new MarketSimulator({
      seed: 1,
      symbols: ['AAPL'],
      calendar: NYSE,
      tradesPerSecond: 1,
    });
    const saturday = Date.parse('2026-11-21T00:00:00Z');
    expect(trades(sim, saturday, saturday + 24 * HOUR)).toEqual([]);
    const friday = trades(
      sim,
      Date.parse('2026-11-20T00:00:00Z'),
      Date.parse('2026-11-21T00:00:00Z'),
    );
    expect(friday.length).toBeGreaterThan(10_000);
    expect(Math.min(...friday.map((t) => t.ts))).toBeGreaterThanOrEqual(
      Date.parse('2026-11-20T14:30:00Z'),
    );
    expect(Math.max(...friday.map((t) => t.ts))).toBeLessThan(Date.parse('2026-11-20T21:00:00Z'));
  });
});
