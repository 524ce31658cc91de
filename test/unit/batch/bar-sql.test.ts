import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BARS_1M_TABLE,
  barsFromTradesSql,
  coarserBarsSql,
  TRADES_TABLE,
} from '../../../src/batch/index.js';
import {
  aggregateBars,
  LAKE_BAR_INTERVAL_US,
  MINUTE_US,
  utcDate,
  type Bar,
  type LakeBarInterval,
  type Trade,
} from '../../../src/domain/index.js';
import {
  DeltaTable,
  localObjectStore,
  type ColumnarQueryResult,
  type ObjectStore,
} from '../../../src/lake/index.js';

/**
 * Bars computed by DuckDB (src/batch/read/bar-sql.ts) against oracles computed here from the
 * same trades: the domain's BarBuilder for 1-minute bars, and the same rules written out
 * for longer intervals. Compared at full precision.
 */
const T0 = Date.parse('2026-11-20T23:41:00Z') * 1000; // µs; crosses midnight and 5m/15m buckets

/** A deterministic tape: two symbols, several trades per microsecond now and then. */
function tape(): Trade[] {
  const trades: Trade[] = [];
  let seed = 7;
  const random = (): number => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  let ts = T0;
  for (let i = 0; i < 3000; i++) {
    ts += random() < 0.2 ? 0 : Math.floor(random() * 900_000); // ties in time are common
    const symbol = random() < 0.5 ? 'AAPL' : 'MSFT';
    trades.push({
      symbol,
      ts,
      price: Math.round((100 + 20 * random()) * 100) / 100,
      size: 1 + Math.floor(random() * 500),
      id: `t${String(Math.floor(random() * 1e6)).padStart(7, '0')}-${i}`,
      seq: i + 1,
      exchange: 'XNAS',
    });
  }
  return trades;
}

/** A bar as the lake's SQL returns it: no symbol, any lake interval. */
type LakeBar = Omit<Bar, 'symbol' | 'interval'> & { readonly interval: LakeBarInterval };

/** The order the rules are defined in, the domain's: by time, ties by sequence number. */
const byTimeThenSeq = (a: Trade, b: Trade): number => a.ts - b.ts || a.seq - b.seq;

/**
 * Bars of any interval by the written-out rules, over trades in (ts, seq) order: the
 * notional of a minute is the running sum of its trades' price·size, and a bar's notional
 * the running sum of its minutes' notionals (the definition that makes a bar from trades
 * and the same bar from stored minutes one number).
 */
function oracleBars(trades: readonly Trade[], interval: LakeBarInterval): LakeBar[] {
  const width = LAKE_BAR_INTERVAL_US[interval];
  const minuteNotional = new Map<number, number>();
  const bars = new Map<number, Omit<LakeBar, 'vwap'>>();
  for (const t of [...trades].sort(byTimeThenSeq)) {
    const minute = Math.floor(t.ts / MINUTE_US) * MINUTE_US;
    minuteNotional.set(minute, (minuteNotional.get(minute) ?? 0) + t.price * t.size);
    const start = Math.floor(t.ts / width) * width;
    const bar = bars.get(start);
    bars.set(
      start,
      bar === undefined
        ? {
            interval,
            ts: start,
            open: t.price,
            high: t.price,
            low: t.price,
            close: t.price,
            volume: t.size,
            tradeCount: 1,
          }
        : {
            ...bar,
            high: Math.max(bar.high, t.price),
            low: Math.min(bar.low, t.price),
            close: t.price,
            volume: bar.volume + t.size,
            tradeCount: bar.tradeCount + 1,
          },
    );
  }
  const notional = new Map<number, number>();
  for (const [minute, value] of [...minuteNotional].sort((a, b) => a[0] - b[0])) {
    const start = Math.floor(minute / width) * width;
    notional.set(start, (notional.get(start) ?? 0) + value);
  }
  return [...bars.values()]
    .sort((a, b) => a.ts - b.ts)
    .map((bar) => ({ ...bar, vwap: (notional.get(bar.ts) as number) / bar.volume }));
}

function barsOf(result: ColumnarQueryResult, interval: LakeBarInterval): LakeBar[] {
  const column = (name: string) => result.columns[name]!.values as ArrayLike<number>;
  return Array.from({ length: result.length }, (_, i) => ({
    interval,
    ts: column('ts')[i]!,
    open: column('open')[i]!,
    high: column('high')[i]!,
    low: column('low')[i]!,
    close: column('close')[i]!,
    volume: column('volume')[i]!,
    vwap: column('vwap')[i]!,
    tradeCount: column('trade_count')[i]!,
  }));
}

describe('bars in DuckDB SQL', () => {
  const temp = { dir: '', store: undefined as unknown as ObjectStore };
  beforeEach(async () => {
    temp.dir = await mkdtemp(path.join(tmpdir(), 'alphalake-bars-'));
    temp.store = localObjectStore(temp.dir);
  });
  afterEach(() => rm(temp.dir, { recursive: true, force: true }));
  const trades = tape();

  async function tradesTable(): Promise<DeltaTable> {
    const table = await DeltaTable.create(temp.store, TRADES_TABLE.path, {
      schema: [...TRADES_TABLE.schema],
      partitionColumns: [...TRADES_TABLE.partitionColumns],
    });
    await table.append(trades.map((t) => ({ ...t, date: utcDate(t.ts) })));
    return table;
  }

  const fromTrades = (table: DeltaTable, symbol: string, interval: LakeBarInterval) =>
    table.queryColumns({
      columns: ['ts', 'price', 'size', 'seq'],
      filters: [{ column: 'symbol', op: '=', value: symbol }],
      aggregate: barsFromTradesSql(interval),
      orderBy: [{ column: 'ts' }],
    });

  it('builds 1-minute bars from trades exactly as the domain BarBuilder does', async () => {
    const table = await tradesTable();
    for (const symbol of ['AAPL', 'MSFT']) {
      const mine = trades.filter((t) => t.symbol === symbol).sort(byTimeThenSeq);
      const expected = aggregateBars(mine).map(({ symbol: _symbol, ...bar }) => bar);
      expect(barsOf(await fromTrades(table, symbol, '1m'), '1m')).toEqual(expected);
    }
  });

  it('builds bars of longer intervals from trades (5m, 15m, 1h, 1d)', async () => {
    const table = await tradesTable();
    for (const interval of ['5m', '15m', '1h', '1d'] as const) {
      const mine = trades.filter((t) => t.symbol === 'AAPL');
      expect(barsOf(await fromTrades(table, 'AAPL', interval), interval)).toEqual(
        oracleBars(mine, interval),
      );
    }
  });

  /** silver.bars_1m rows of the AAPL minutes, with or without their notional. */
  async function minuteTable(path: string, withNotional: boolean) {
    const sorted = trades.filter((t) => t.symbol === 'AAPL').sort(byTimeThenSeq);
    const minuteBars = aggregateBars(sorted);
    // The notional as the bar builder sums it: over the minute's trades, in this order.
    const notional = new Map<number, number>();
    for (const t of sorted) {
      const minute = Math.floor(t.ts / MINUTE_US) * MINUTE_US;
      notional.set(minute, (notional.get(minute) ?? 0) + t.price * t.size);
    }
    const table = await DeltaTable.create(temp.store, path, {
      schema: [...BARS_1M_TABLE.schema],
      partitionColumns: [...BARS_1M_TABLE.partitionColumns],
    });
    await table.append(
      minuteBars.map((b) => ({
        symbol: b.symbol,
        ts: b.ts,
        open: b.open,
        high: b.high,
        low: b.low,
        close: b.close,
        volume: b.volume,
        vwap: b.vwap,
        trade_count: b.tradeCount,
        date: utcDate(b.ts),
        notional: withNotional ? (notional.get(b.ts) as number) : null,
      })),
    );
    return { table, minuteBars };
  }

  const coarser = async (table: DeltaTable, interval: LakeBarInterval) =>
    barsOf(
      await table.queryColumns({
        columns: [
          'ts',
          'open',
          'high',
          'low',
          'close',
          'volume',
          'vwap',
          'trade_count',
          'notional',
        ],
        filters: [{ column: 'symbol', op: '=', value: 'AAPL' }],
        aggregate: coarserBarsSql(interval),
        orderBy: [{ column: 'ts' }],
      }),
      interval,
    );

  it('builds coarser bars from 1-minute bars equal to the bars from the trades, vwap included', async () => {
    const trades = await tradesTable();
    const { table } = await minuteTable('silver/bars_1m', true);
    for (const interval of ['1m', '5m', '15m', '1h', '1d'] as const) {
      expect(await coarser(table, interval)).toEqual(
        barsOf(await fromTrades(trades, 'AAPL', interval), interval),
      );
    }
  });

  it('falls back to vwap·volume for minutes stored without their notional', async () => {
    const trades = await tradesTable();
    const { table, minuteBars } = await minuteTable('silver/bars_1m_old', false);
    for (const interval of ['5m', '1h'] as const) {
      const coarse = await coarser(table, interval);
      const direct = barsOf(await fromTrades(trades, 'AAPL', interval), interval);
      // Everything but the vwap is the bar built from the trades themselves.
      expect(coarse.map(({ vwap: _vwap, ...bar }) => bar)).toEqual(
        direct.map(({ vwap: _vwap, ...bar }) => bar),
      );
      // The vwap follows its documented rule: Σ(vwap·volume) over the minutes in time
      // order, divided by Σ volume.
      const width = LAKE_BAR_INTERVAL_US[interval];
      const expectedVwap = coarse.map((bar) => {
        let notional = 0;
        let volume = 0;
        for (const m of minuteBars.filter((m) => m.ts >= bar.ts && m.ts < bar.ts + width)) {
          notional += m.vwap * m.volume;
          volume += m.volume;
        }
        return notional / volume;
      });
      expect(coarse.map((bar) => bar.vwap)).toEqual(expectedVwap);
    }
  });

  it('refuses an unknown interval with BAD_USER_INPUT', () => {
    expect(() => barsFromTradesSql('7m' as LakeBarInterval)).toThrow(
      expect.objectContaining({ code: 'BAD_USER_INPUT' }),
    );
  });
});
