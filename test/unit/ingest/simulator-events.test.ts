import { describe, expect, it } from 'vitest';
import { calendarNamed, DAY_US, type Session, type Trade } from '../../../src/domain/index.js';
import { MemorySymbolDirectory } from '../../../src/mdm/index.js';
import { MemoryBus } from '../../../src/stream/index.js';
import {
  imperfectFeed,
  Ingestor,
  MarketSimulator,
  SimulatorEvents,
  withoutHalted,
} from '../../../src/ingest/index.js';

const calendar = calendarNamed('24x7');
const START = Date.UTC(2020, 0, 2) * 1000;
const sessions = (n: number): Session[] =>
  Array.from(
    { length: n },
    (_, i) => calendar.sessionOn(new Date((START + i * DAY_US) / 1000).toISOString().slice(0, 10))!,
  );

function correlation(xs: number[], ys: number[]): number {
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  xs.forEach((x, i) => {
    sxy += (x - mx) * (ys[i]! - my);
    sxx += (x - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  });
  return sxy / Math.sqrt(sxx * syy);
}

describe('simulator events', () => {
  const days = sessions(400);

  it('plants news whose sentiment predicts the next day’s return, as strongly as configured', () => {
    const simulator = new MarketSimulator({
      seed: 7,
      symbols: ['TSLA'],
      calendar,
      tradesPerSecond: 1,
    });
    const measure = (strength: number) => {
      const events = new SimulatorEvents({
        seed: 7,
        symbols: ['TSLA'],
        newsPerSession: 1,
        newsSignalStrength: strength,
      });
      const sentiments: number[] = [];
      const returns: number[] = [];
      for (const session of days) {
        const day = Math.floor(session.open / DAY_US) * DAY_US;
        const next = Math.log(
          simulator.openingMid('TSLA', day + 2 * DAY_US)! /
            simulator.openingMid('TSLA', day + DAY_US)!,
        );
        for (const news of events.news(session)) {
          sentiments.push(news.sentiment);
          returns.push(next);
        }
      }
      return { n: sentiments.length, correlation: correlation(sentiments, returns) };
    };
    const strong = measure(0.9);
    const none = measure(0);
    expect(strong.n).toBeGreaterThan(300);
    expect(strong.correlation).toBeGreaterThan(0.5);
    expect(Math.abs(none.correlation)).toBeLessThan(0.15);
  });

  it('is deterministic and has splits, dividends and halts at about their rates', () => {
    const settings = {
      seed: 3,
      symbols: ['AAPL', 'MSFT'],
      splitsPerYear: 2,
      dividendsPerYear: 4,
      haltsPerSession: 0.5,
    };
    const a = new SimulatorEvents(settings);
    const b = new SimulatorEvents(settings);
    const actions = days.flatMap((s) => a.corporateActions(s));
    expect(days.flatMap((s) => b.corporateActions(s))).toEqual(actions);
    // 400 sessions × 2 symbols: about 6.3 splits and 12.7 dividends expected.
    const splits = actions.filter((x) => x.kind === 'split').length;
    const dividends = actions.filter((x) => x.kind === 'dividend').length;
    expect(splits).toBeGreaterThan(0);
    expect(splits).toBeLessThan(20);
    expect(dividends).toBeGreaterThan(4);
    expect(dividends).toBeLessThan(30);
    const halts = days.flatMap((s) => a.halts(s));
    expect(halts.length).toBeGreaterThan(300);
    expect(halts.length).toBeLessThan(500);
    for (const h of halts) expect(h.to - h.from).toBeGreaterThan(0);
  });

  it('drops the trades inside a halt', () => {
    const trade = (ts: number, symbol = 'AAPL'): Trade => ({
      symbol,
      ts,
      seq: ts,
      price: 1,
      size: 1,
      id: String(ts),
      exchange: 'X',
    });
    const kept = withoutHalted(
      [trade(1), trade(5), trade(9), trade(5, 'MSFT')],
      [{ symbol: 'AAPL', from: 5, to: 9 }],
    );
    expect(kept.map((t) => `${t.symbol}${t.ts}`)).toEqual(['AAPL1', 'AAPL9', 'MSFT5']);
  });

  it('sends duplicate, out-of-order and late trades at about their rates, losing none', () => {
    const batches = Array.from({ length: 100 }, (_, b) =>
      Array.from(
        { length: 100 },
        (_, i): Trade => ({
          symbol: 'AAPL',
          ts: b * 100 + i,
          seq: b * 100 + i,
          price: 1,
          size: 1,
          id: `t${b * 100 + i}`,
          exchange: 'X',
        }),
      ),
    );
    const out = [
      ...imperfectFeed(
        batches,
        { duplicateRate: 0.02, outOfOrderRate: 0.05, lateRate: 0.01, lateBatches: 3 },
        11,
      ),
    ];
    const sent = out.flat();
    const ids = sent.map((t) => t.id);
    expect(new Set(ids).size).toBe(10_000);
    const duplicates = ids.length - 10_000;
    expect(duplicates).toBeGreaterThan(100);
    expect(duplicates).toBeLessThan(300);
    let backwards = 0;
    for (let i = 1; i < sent.length; i++) if (sent[i]!.ts < sent[i - 1]!.ts) backwards++;
    expect(backwards).toBeGreaterThan(200);
    // Late trades arrive in a later batch than their own.
    const late = out.flatMap((batch, index) => batch.filter((t) => Math.floor(t.ts / 100) < index));
    expect(late.length).toBeGreaterThan(50);
    expect(late.length).toBeLessThan(200);
  });

  it('feeds the ingest path duplicates it drops as DUPLICATE, one reject per copy', () => {
    const ingestor = new Ingestor(new MemoryBus(), new MemorySymbolDirectory(['AAPL']), {
      now: () => Date.UTC(2026, 0, 1) * 1000,
    });
    const batches = Array.from({ length: 20 }, (_, b) =>
      Array.from(
        { length: 50 },
        (_, i): Trade => ({
          symbol: 'AAPL',
          ts: Date.UTC(2025, 0, 2) * 1000 + b * 50 + i,
          seq: b * 50 + i,
          price: 1,
          size: 1,
          id: `t${b * 50 + i}`,
          exchange: 'X',
        }),
      ),
    );
    let sent = 0;
    let duplicates = 0;
    let accepted = 0;
    for (const batch of imperfectFeed(
      batches,
      { duplicateRate: 0.05, outOfOrderRate: 0, lateRate: 0, lateBatches: 1 },
      5,
    )) {
      sent += batch.length;
      const checked = ingestor.checkRecords(
        batch.map((value) => ({ kind: 'trade' as const, value })),
        'simulator',
      );
      accepted += checked.trades.length;
      duplicates += checked.rejects.filter((r) => r.reason === 'DUPLICATE').length;
    }
    expect(accepted).toBe(1_000);
    expect(duplicates).toBe(sent - 1_000);
    expect(duplicates).toBeGreaterThan(0);
  });

  it('applies its splits and dividends to the raw tape, keeping raw prices plausible over years', () => {
    const simulator = new MarketSimulator({
      seed: 9,
      symbols: ['NVDA'],
      calendar,
      tradesPerSecond: 0.01,
      events: { splitsPerYear: 12, dividendsPerYear: 4, haltsPerSession: 0 },
    });
    let splits = 0;
    let dividends = 0;
    for (let day = Date.UTC(2020, 0, 1) * 1000; day < Date.UTC(2026, 11, 1) * 1000; day += DAY_US) {
      const session = calendar.sessionOn(new Date(day / 1000).toISOString().slice(0, 10))!;
      const before = simulator.rawScale('NVDA', day - DAY_US);
      const after = simulator.rawScale('NVDA', day);
      let price = before.price;
      let volume = before.volume;
      for (const action of simulator.corporateActions(session)) {
        if (action.kind === 'split') {
          splits++;
          price = (price * action.splitFrom) / action.splitTo;
          volume = (volume * action.splitTo) / action.splitFrom;
        } else {
          dividends++;
          // The raw opening mid drops by the dividend.
          const raw = simulator.openingMid('NVDA', day)! * price;
          price = price * (1 - action.cashAmount / raw);
        }
      }
      // The day's scale is the day before's times exactly the actions of the day.
      expect(after).toEqual({ price, volume });
      // Splits keep the raw price within a familiar range of the base price (120).
      const raw = simulator.openingMid('NVDA', day)! * after.price;
      expect(raw).toBeGreaterThan(120 / 8);
      expect(raw).toBeLessThan(120 * 8);
    }
    expect(splits).toBeGreaterThan(50);
    expect(dividends).toBeGreaterThan(15);
  });
});
