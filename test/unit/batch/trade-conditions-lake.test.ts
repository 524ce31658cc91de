import { DuckDBInstance } from '@duckdb/node-api';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  LakeSink,
  openMedallion,
  secondBarsSql,
  TRADES_TABLE,
  tradeColumns,
} from '../../../src/batch/index.js';
import {
  BarBuilder,
  ManualClock,
  MINUTE_US,
  POLYGON_CONDITIONS_FIXTURE,
  type Trade,
} from '../../../src/domain/index.js';
import { DeltaTable, localObjectStore, type ObjectStore } from '../../../src/lake/index.js';

/**
 * Condition codes in the lake: `bronze.trades.conditions` (a list of ints, NULL for none)
 * is added to a table written before it existed, keeps every trade's ids, and
 * `silver.bars_1m` follows the consolidated update rules: checked against DuckDB over the
 * bronze Parquet files, with the rules taken from the fixture's raw JSON.
 */
const T0 = Date.parse('2026-11-20T15:00:00Z') * 1000;

type Flag = 'updates_open_close' | 'updates_high_low' | 'updates_volume';
const rows = POLYGON_CONDITIONS_FIXTURE.results as readonly {
  id: number;
  data_types: readonly string[];
  update_rules?: { consolidated?: Record<Flag, boolean> };
}[];
/** The ids whose consolidated rule forbids `flag`, as a DuckDB list literal. */
const forbidding = (flag: Flag) =>
  `[${rows
    .filter((r) => r.data_types.includes('trade') && r.update_rules?.consolidated?.[flag] === false)
    .map((r) => r.id)
    .join(', ')}]::INTEGER[]`;

function tape(): Trade[] {
  const ids = [0, 2, 10, 12, 14, 16, 37, 38, 41, 99];
  return Array.from({ length: 600 }, (_, i) => {
    const conditions = [ids[(i * 7) % ids.length]!, ids[(i * 3) % ids.length]!].slice(
      0,
      1 + (i % 2),
    );
    return {
      symbol: i % 4 === 0 ? 'MSFT' : 'AAPL',
      ts: T0 + i * 450_017,
      price: Math.round((100 + Math.sin(i / 5) * 4) * 100) / 100,
      size: 1 + ((i * 37) % 400),
      id: `t${i}`,
      seq: i + 1,
      exchange: '4',
      ...(i % 5 === 0 ? {} : { conditions }),
    };
  });
}

describe('trade conditions in the lake', () => {
  let dir = '';
  let store: ObjectStore;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'alphalake-conditions-'));
    store = localObjectStore(dir);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('keeps them in bronze.trades (added to an older table) and builds silver bars by their rules', async () => {
    // A bronze.trades of an earlier release, with a row, and no `conditions` column.
    const old = await DeltaTable.create(store, TRADES_TABLE.path, {
      schema: TRADES_TABLE.schema.filter((c) => c.name !== 'conditions'),
      partitionColumns: [...TRADES_TABLE.partitionColumns],
    });
    const before: Trade = {
      symbol: 'AAPL',
      ts: T0 - MINUTE_US,
      seq: 1,
      price: 99,
      size: 5,
      id: 'old',
      exchange: '4',
    };
    await old.append(tradeColumns([before]));
    const tables = await openMedallion(store);
    expect((await tables.trades.snapshot()).schema.find((c) => c.name === 'conditions')).toEqual(
      expect.objectContaining({
        type: { type: 'array', elementType: 'integer', containsNull: false },
        nullable: true,
      }),
    );
    const sink = await LakeSink.open(tables, new ManualClock(T0 + 10 * MINUTE_US), {
      intervalMs: 15_000,
      allowedLatenessUs: 2_000_000,
    });
    const trades = tape();
    await sink.writeHistory({ from: T0, to: T0 + 5 * MINUTE_US }, trades, []);

    const stored = await tables.trades.query({
      columns: ['id', 'conditions'],
      orderBy: [{ column: 'ts' }],
    });
    expect(stored.rows.map((r) => [r['id'], r['conditions']])).toEqual([
      ['old', null],
      ...trades.map((t) => [t.id, t.conditions ? [...t.conditions] : null]),
    ]);

    const duck = await DuckDBInstance.create(':memory:');
    const db = await duck.connect();
    try {
      const files = `read_parquet('${dir}/${TRADES_TABLE.path}/date=*/*.parquet', union_by_name = true)`;
      const expected = (
        await db.runAndReadAll(
          `WITH t AS (SELECT symbol, epoch_us(ts) AS us, seq, price, size, ` +
            `coalesce(conditions, []::INTEGER[]) AS c FROM ${files} WHERE id <> 'old'), ` +
            `e AS (SELECT *, NOT list_has_any(c, ${forbidding('updates_open_close')}) AS oc, ` +
            `NOT list_has_any(c, ${forbidding('updates_high_low')}) AS hl, ` +
            `NOT list_has_any(c, ${forbidding('updates_volume')}) AS vol FROM t) ` +
            `SELECT symbol, us - us % ${MINUTE_US} AS bucket, ` +
            `coalesce(arg_min(price, (us, seq)) FILTER (WHERE oc), arg_min(price, (us, seq))), ` +
            `coalesce(max(price) FILTER (WHERE hl), max(price)), ` +
            `coalesce(min(price) FILTER (WHERE hl), min(price)), ` +
            `coalesce(arg_max(price, (us, seq)) FILTER (WHERE oc), arg_max(price, (us, seq))), ` +
            `coalesce(sum(size) FILTER (WHERE vol), 0), ` +
            `coalesce(sum(price * size ORDER BY us, seq) FILTER (WHERE vol), 0), count(*) ` +
            `FROM e GROUP BY 1, 2 ORDER BY 1, 2`,
        )
      )
        .getRows()
        .map((r) => r.map((v) => (typeof v === 'string' ? v : Number(v))));
      const silver = await tables.bars1m.query({
        columns: [
          'symbol',
          'ts',
          'open',
          'high',
          'low',
          'close',
          'volume',
          'notional',
          'trade_count',
        ],
        orderBy: [{ column: 'symbol' }, { column: 'ts' }],
      });
      expect(
        silver.rows.map((r) => [
          r['symbol'],
          (r['ts'] as { epochMicros: number }).epochMicros,
          r['open'],
          r['high'],
          r['low'],
          r['close'],
          Number(r['volume']),
          r['notional'],
          Number(r['trade_count']),
        ]),
      ).toEqual(expected);
      expect(expected.length).toBeGreaterThan(8);

      // 1-second bars read from bronze.trades in DuckDB follow the same rules as the
      // speed layer's 1-second fold of the same trades, to the bit.
      const seconds = await tables.trades.query({
        columns: ['ts', 'price', 'size', 'seq', 'conditions'],
        filters: [{ column: 'symbol', op: '=', value: 'AAPL' }],
        aggregate: secondBarsSql('seq', undefined, true),
      });
      const live = new BarBuilder('1s');
      for (const t of trades) if (t.symbol === 'AAPL') live.add(t);
      const lakeSeconds = seconds.rows
        .map((r) => ({
          ts: (r['ts'] as { epochMicros: number }).epochMicros,
          open: r['open'],
          high: r['high'],
          low: r['low'],
          close: r['close'],
          volume: Number(r['volume']),
          vwap: r['vwap'],
          tradeCount: Number(r['trade_count']),
        }))
        // The older table's one row is not the tape's.
        .filter((bar) => bar.ts >= T0)
        .sort((a, b) => a.ts - b.ts);
      expect(lakeSeconds).toEqual(live.bars().map(({ symbol: _s, interval: _i, ...bar }) => bar));
    } finally {
      db.closeSync();
      duck.closeSync();
    }
  });
});
