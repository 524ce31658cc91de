import { describe, expect, it } from 'vitest';
import {
  ALWAYS_OPEN,
  compareTrades,
  NYSE,
  SECOND_US,
  type Trade,
} from '../../../src/domain/index.js';
import { MarketSimulator } from '../../../src/ingest/index.js';

const SYMBOLS = ['AAPL', 'AMZN', 'GOOGL', 'MSFT', 'NVDA', 'TSLA'];
const simulator = (seed = 42) =>
  new MarketSimulator({ seed, symbols: SYMBOLS, calendar: ALWAYS_OPEN, tradesPerSecond: 1 });
const trades = (sim: MarketSimulator, from: number, to: number): Trade[] =>
  [...sim.tape(from, to)].flatMap((s) => s.trades);

/** Epoch µs of ISO text. */
const at = (iso: string): number => Date.parse(iso) * 1_000;
const DAY = at('2026-11-20T00:00:00Z');
const HOUR = 3_600 * SECOND_US;
const MINUTE = 60 * SECOND_US;

describe('market simulator', () => {
  it('is deterministic: the same seed gives the same tape, from any starting point', () => {
    const full = trades(simulator(), DAY + 10 * HOUR, DAY + 10 * HOUR + 10 * MINUTE);
    const again = trades(simulator(), DAY + 10 * HOUR, DAY + 10 * HOUR + 10 * MINUTE);
    const tail = trades(simulator(), DAY + 10 * HOUR + 5 * MINUTE, DAY + 10 * HOUR + 10 * MINUTE);
    expect(again).toEqual(full);
    expect(tail).toEqual(full.filter((t) => t.ts >= DAY + 10 * HOUR + 5 * MINUTE));
    expect(trades(simulator(7), DAY + 10 * HOUR, DAY + 10 * HOUR + MINUTE)).not.toEqual(
      full.filter((t) => t.ts < DAY + 10 * HOUR + MINUTE),
    );
  });

  it('trades every symbol, in time order, with valid prices and sizes', () => {
    const tape = trades(simulator(), DAY + 12 * HOUR, DAY + 12 * HOUR + 10 * MINUTE);
    expect(new Set(tape.map((t) => t.symbol))).toEqual(new Set(SYMBOLS));
    for (let i = 1; i < tape.length; i++)
      expect(tape[i]!.ts).toBeGreaterThanOrEqual(tape[i - 1]!.ts);
    for (const t of tape) {
      expect(t.price).toBeGreaterThan(0);
      expect(Number.isInteger(t.size) && t.size > 0).toBe(true);
    }
    expect(new Set(tape.map((t) => `${t.symbol}/${t.id}`)).size).toBe(tape.length);
  });

  it('gives trades microsecond times, several in one millisecond, each symbol in (ts, seq) order', () => {
    const tape = trades(simulator(), DAY + 13 * HOUR, DAY + 14 * HOUR);
    expect(tape.every((t) => Number.isSafeInteger(t.ts))).toBe(true);
    // Not all on whole milliseconds: the sub-millisecond digits are real.
    expect(tape.filter((t) => t.ts % 1_000 !== 0).length).toBeGreaterThan(tape.length / 2);
    for (const symbol of SYMBOLS) {
      const own = tape.filter((t) => t.symbol === symbol);
      for (let i = 1; i < own.length; i++) {
        expect(compareTrades(own[i - 1]!, own[i]!)).toBeLessThan(0);
        expect(own[i]!.seq).toBe(own[i - 1]!.seq + 1);
      }
    }
    const millis = new Map<string, number>();
    for (const t of tape) {
      const key = `${t.symbol}/${Math.floor(t.ts / 1_000)}`;
      millis.set(key, (millis.get(key) ?? 0) + 1);
    }
    expect([...millis.values()].some((count) => count > 1)).toBe(true);
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
        if (t.symbol === symbol) buckets.set(Math.floor((t.ts - DAY) / (5 * MINUTE)), t.price);
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
    const saturday = at('2026-11-21T00:00:00Z');
    expect(trades(sim, saturday, saturday + 24 * HOUR)).toEqual([]);
    const friday = trades(sim, at('2026-11-20T00:00:00Z'), at('2026-11-21T00:00:00Z'));
    expect(friday.length).toBeGreaterThan(10_000);
    expect(Math.min(...friday.map((t) => t.ts))).toBeGreaterThanOrEqual(at('2026-11-20T14:30:00Z'));
    expect(Math.max(...friday.map((t) => t.ts))).toBeLessThan(at('2026-11-20T21:00:00Z'));
  });
});
