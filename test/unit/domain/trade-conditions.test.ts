import { describe, expect, it } from 'vitest';
import {
  aggregateBars,
  AlphalakeError,
  BarBuilder,
  conditionRulesOf,
  MINUTE_US,
  POLYGON_CONDITIONS_FIXTURE,
  type Trade,
} from '../../../src/domain/index.js';

/**
 * Bars under Polygon's trade conditions, against a recomputation written here from the
 * fixture's raw JSON (`update_rules.consolidated` of each trade condition), not through
 * conditionRulesOf: per minute, open/close from the first/last trade by (ts, seq) whose
 * every listed condition has updates_open_close, high/low over those with
 * updates_high_low, volume and notional over those with updates_volume.
 */
const T0 = Date.UTC(2026, 10, 20, 14, 30) * 1000;

type Flag = 'updates_open_close' | 'updates_high_low' | 'updates_volume';

/** The fixture's rules straight from its JSON, trade conditions only. */
const RAW = new Map<number, Record<Flag, boolean>>();
for (const row of POLYGON_CONDITIONS_FIXTURE.results as readonly {
  id: number;
  data_types: readonly string[];
  update_rules?: { consolidated?: Record<Flag, boolean> };
}[]) {
  if (row.data_types.includes('trade') && row.update_rules?.consolidated)
    RAW.set(row.id, row.update_rules.consolidated);
}

function allows(trade: Trade, flag: Flag): boolean {
  return (trade.conditions ?? []).every((id) => RAW.get(id)?.[flag] ?? true);
}

function trade(ts: number, seq: number, price: number, size: number, conditions?: number[]): Trade {
  return {
    symbol: 'AAPL',
    ts,
    seq,
    price,
    size,
    id: String(seq),
    exchange: 'XNAS',
    ...(conditions ? { conditions } : {}),
  };
}

describe('trade conditions in bars', () => {
  it('reads the fixture as the endpoint documents it: trade conditions only', () => {
    const rules = conditionRulesOf(POLYGON_CONDITIONS_FIXTURE);
    // Id 12 is also a quote condition in the listing; the trade condition (Form T) counts.
    expect(rules.get(12)).toEqual({
      updatesOpenClose: false,
      updatesHighLow: false,
      updatesVolume: true,
    });
    expect(rules.get(2)).toEqual({
      updatesOpenClose: false,
      updatesHighLow: false,
      updatesVolume: true,
    });
    expect(rules.get(10)).toEqual({
      updatesOpenClose: false,
      updatesHighLow: true,
      updatesVolume: true,
    });
    expect(rules.size).toBe(RAW.size);
    expect(() => conditionRulesOf({ results: [{ id: 'x' }] })).toThrow(AlphalakeError);
    expect(() =>
      conditionRulesOf({
        results: [
          { id: 1, data_types: ['trade'], update_rules: { consolidated: { updates_volume: 1 } } },
        ],
      }),
    ).toThrow(/update_rules.consolidated.updates_open_close is not a boolean/);
  });

  it('keeps odd lots, average-price and derivatively priced trades from setting the prices they may not', () => {
    const [bar] = aggregateBars([
      trade(T0 + 1, 1, 100, 100),
      trade(T0 + 2, 2, 130, 10, [37]), // odd lot: volume only
      trade(T0 + 3, 3, 70, 500, [2]), // average price: volume only
      trade(T0 + 4, 4, 120, 100, [10]), // derivatively priced: high/low, not last
      trade(T0 + 5, 5, 101, 100, [14, 41]), // intermarket sweep, trade-through exempt: all
      trade(T0 + 6, 6, 99, 100, [16]), // official open: nothing
    ]);
    expect(bar).toMatchObject({ open: 100, high: 120, low: 100, close: 101, tradeCount: 6 });
    expect(bar!.volume).toBe(100 + 10 + 500 + 100 + 100);
  });

  it('prices a minute of odd lots from its own trades rather than leave it without a price', () => {
    const [bar] = aggregateBars([trade(T0 + 1, 1, 50, 10, [37]), trade(T0 + 2, 2, 51, 20, [37])]);
    expect(bar).toMatchObject({ open: 50, high: 51, low: 50, close: 51, volume: 30 });
  });

  it('equals an independent recomputation over random conditioned trades, live or in a batch', () => {
    const random = mulberry32(20261120);
    const ids = [...RAW.keys(), 0, 99];
    const trades: Trade[] = [];
    for (let i = 0; i < 20_000; i++) {
      const count = Math.floor(random.next() * 3);
      const conditions = Array.from(
        { length: count },
        () => ids[Math.floor(random.next() * ids.length)]!,
      );
      trades.push(
        trade(
          T0 + Math.floor(random.next() * 30 * MINUTE_US),
          i,
          Math.round((96 + random.next() * 8) * 100) / 100,
          1 + Math.floor(random.next() * 300),
          random.next() < 0.3 ? undefined : conditions,
        ),
      );
    }
    const byMinute = new Map<number, Trade[]>();
    for (const t of trades) {
      const minute = t.ts - (t.ts % MINUTE_US);
      byMinute.set(minute, [...(byMinute.get(minute) ?? []), t]);
    }
    const expected = [...byMinute.entries()]
      .sort(([a], [b]) => a - b)
      .map(([minute, list]) => {
        // The notional in arrival order, as a fold over the batch adds it.
        const counted = list.filter((t) => allows(t, 'updates_volume'));
        const ordered = [...list].sort((a, b) => a.ts - b.ts || a.seq - b.seq);
        const priced = ordered.filter((t) => allows(t, 'updates_open_close'));
        const ranged = list.filter((t) => allows(t, 'updates_high_low'));
        const openClose = priced.length > 0 ? priced : ordered;
        const range = (ranged.length > 0 ? ranged : list).map((t) => t.price);
        const volume = counted.reduce((sum, t) => sum + t.size, 0);
        const notional = counted.reduce((sum, t) => sum + t.price * t.size, 0);
        const close = openClose.at(-1)!.price;
        return {
          ts: minute,
          open: openClose[0]!.price,
          high: Math.max(...range),
          low: Math.min(...range),
          close,
          volume,
          vwap: volume > 0 ? notional / volume : close,
          tradeCount: list.length,
        };
      });
    const batch = aggregateBars(trades);
    expect(batch.map(({ symbol: _s, interval: _i, ...rest }) => rest)).toEqual(expected);
    // The speed layer's fold, one trade at a time in arrival order, gives the same bars.
    const live = new BarBuilder('1m');
    for (const t of trades) live.add(t);
    expect(live.bars()).toEqual(batch);
    // Some minutes do differ from an unconditioned fold: the rules are exercised.
    const plain = aggregateBars(trades.map(({ conditions: _c, ...t }) => t));
    const differs = (b: (typeof plain)[number], i: number) =>
      ['open', 'high', 'low', 'close', 'volume'].some(
        (k) => b[k as keyof typeof b] !== batch[i]![k as keyof typeof b],
      );
    expect(plain.length).toBe(30);
    expect(plain.filter(differs).length).toBeGreaterThan(20);
  });
});

/** A small seeded generator (mulberry32): the same trades every run. */
function mulberry32(seed: number): { next(): number } {
  let state = seed >>> 0;
  return {
    next() {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}
