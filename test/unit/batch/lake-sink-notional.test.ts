import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BARS_1M_TABLE, LakeSink, openMedallion } from '../../../src/batch/index.js';
import { aggregateBars, ManualClock, MINUTE_US, type Trade } from '../../../src/domain/index.js';
import {
  DeltaTable,
  localObjectStore,
  type LakeTimestamp,
  type ObjectStore,
} from '../../../src/lake/index.js';

/**
 * `silver.bars_1m` stores each minute's notional (Σ price·size, summed as the bar builder
 * sums it), and a table written before that column existed gains it on the next commit.
 */
const T0 = Date.parse('2026-11-20T15:00:00Z') * 1000; // µs

function trades(): Trade[] {
  return Array.from({ length: 240 }, (_, i) => ({
    symbol: i % 3 === 0 ? 'MSFT' : 'AAPL',
    ts: T0 + i * 700_123,
    price: Math.round((100 + Math.sin(i) * 3) * 100) / 100,
    size: 1 + ((i * 37) % 400),
    id: `t${i}`,
    seq: i + 1,
    exchange: 'XNAS',
  }));
}

describe('bars_1m notional', () => {
  let dir = '';
  let store: ObjectStore;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'alphalake-notional-'));
    store = localObjectStore(dir);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('is written by the sink, into a table created before the column existed', async () => {
    const old = BARS_1M_TABLE.schema.filter((c) => c.name !== 'notional');
    await DeltaTable.create(store, BARS_1M_TABLE.path, {
      schema: old,
      partitionColumns: [...BARS_1M_TABLE.partitionColumns],
    });
    const tables = await openMedallion(store);
    const sink = await LakeSink.open(tables, new ManualClock(T0 + 10 * MINUTE_US), {
      intervalMs: 15_000,
      allowedLatenessUs: 2_000_000,
    });
    const tape = trades();
    await sink.writeHistory({ from: T0, to: T0 + 5 * MINUTE_US }, tape, []);
    const snapshot = await tables.bars1m.snapshot();
    expect(snapshot.schema.find((c) => c.name === 'notional')).toMatchObject({
      type: 'double',
      nullable: true,
    });
    const result = await tables.bars1m.query({
      columns: ['symbol', 'ts', 'vwap', 'volume', 'notional'],
      orderBy: [{ column: 'symbol' }, { column: 'ts' }],
    });
    const expected = aggregateBars(tape).sort((a, b) =>
      a.symbol === b.symbol ? a.ts - b.ts : a.symbol < b.symbol ? -1 : 1,
    );
    expect(result.rows).toHaveLength(expected.length);
    result.rows.forEach((row, i) => {
      const bar = expected[i]!;
      let notional = 0;
      for (const t of tape) {
        if (t.symbol === bar.symbol && t.ts >= bar.ts && t.ts < bar.ts + MINUTE_US)
          notional += t.price * t.size;
      }
      expect({ ...row, ts: (row['ts'] as LakeTimestamp).epochMicros }).toEqual({
        symbol: bar.symbol,
        ts: bar.ts,
        vwap: bar.vwap,
        volume: bar.volume,
        notional,
      });
      // The stored vwap is the quotient of exactly this notional.
      expect(row['vwap']).toBe(notional / bar.volume);
    });
  });
});
