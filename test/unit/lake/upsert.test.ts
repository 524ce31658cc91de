import { describe, expect, it } from 'vitest';
import { isAlphalakeError } from '../../../src/domain/index.js';
import { DeltaTable, LakeTimestamp, type ColumnSpec } from '../../../src/lake/index.js';
import { useTempStore } from './helpers.js';

/**
 * DeltaTable.upsert: a MERGE on a key in one commit (copy-on-write). The oracle is the
 * table's whole content, ordered by its key, compared row for row at full precision.
 */
const SCHEMA: ColumnSpec[] = [
  { name: 'source', type: 'string', nullable: false },
  { name: 'symbol', type: 'string', nullable: false },
  { name: 'ts', type: 'timestamp', nullable: false },
  { name: 'close', type: 'double', nullable: false },
  { name: 'volume', type: 'double', nullable: false },
  { name: 'date', type: 'date', nullable: false },
];
const KEY = ['source', 'symbol', 'ts'];
const T0 = Date.parse('2024-03-28T13:30:00Z') * 1000;

interface Bar {
  source: string;
  symbol: string;
  minute: number;
  close: number;
  volume: number;
}

const bar = (symbol: string, minute: number, close: number, source = 'polygon-rest'): Bar => ({
  source,
  symbol,
  minute,
  close,
  volume: 1000 + minute,
});

const rowsOf = (bars: readonly Bar[]) =>
  bars.map((b) => ({
    source: b.source,
    symbol: b.symbol,
    ts: new LakeTimestamp(BigInt(T0 + b.minute * 60_000_000)),
    close: b.close,
    volume: b.volume,
    date: '2024-03-28',
  }));

/** What the table must hold: each key once, the last value written for it. */
function expected(...writes: readonly (readonly Bar[])[]) {
  const latest = new Map<string, Bar>();
  for (const write of writes)
    for (const b of write) latest.set(`${b.source}|${b.symbol}|${b.minute}`, b);
  return rowsOf(
    [...latest.values()].sort(
      (a, b) =>
        a.source.localeCompare(b.source) || a.symbol.localeCompare(b.symbol) || a.minute - b.minute,
    ),
  );
}

describe('DeltaTable.upsert', () => {
  const temp = useTempStore();
  const create = () =>
    DeltaTable.create(temp.store, 'bronze/vendor_bars', {
      schema: SCHEMA,
      partitionColumns: ['date'],
      clusterBy: ['symbol', 'ts'],
    });
  const contents = async (table: DeltaTable) =>
    (
      await table.query({
        orderBy: [{ column: 'source' }, { column: 'symbol' }, { column: 'ts' }],
      })
    ).rows;

  const day = (symbol: string, close: number) =>
    Array.from({ length: 30 }, (_, i) => bar(symbol, i, close + i / 64));

  it('writes the same rows twice as once, and reports the second as a MERGE of replaced rows', async () => {
    const table = await create();
    const first = [...day('AAPL', 170), ...day('MSFT', 410)];
    expect(await table.upsert(rowsOf(first), { key: KEY })).toMatchObject({
      version: 1,
      rows: 60,
      rowsReplaced: 0,
      removedFiles: 0,
    });
    const again = await table.upsert(rowsOf(first), { key: KEY });
    expect(again).toMatchObject({ version: 2, rows: 60, rowsReplaced: 60, removedFiles: 1 });
    expect(await contents(table)).toEqual(expected(first));
    expect(await table.commitInfo(2)).toMatchObject({
      operation: 'MERGE',
      operationMetrics: { numTargetRowsUpdated: '60', numTargetRowsInserted: '0' },
    });
  });

  it('lets the last write of a key win (a vendor correction) and keeps every other row', async () => {
    const table = await create();
    const first = [...day('AAPL', 170), ...day('MSFT', 410)];
    await table.upsert(rowsOf(first), { key: KEY });
    // Three corrected AAPL bars, two new ones, and the same minute from another source.
    const second = [
      bar('AAPL', 3, 171.015625),
      bar('AAPL', 4, 171.03125),
      bar('AAPL', 29, 0.1 + 0.2),
      bar('AAPL', 30, 175),
      bar('AAPL', 31, 175.5),
      bar('AAPL', 3, 170.046875, 'polygon-ws'),
    ];
    const result = await table.upsert(rowsOf(second), { key: KEY });
    expect(result).toMatchObject({ rows: 6, rowsReplaced: 3 });
    expect(await contents(table)).toEqual(expected(first, second));
  });

  it('rewrites no file when the incoming keys lie outside every file (the next minutes of a feed)', async () => {
    const table = await create();
    await table.upsert(rowsOf(day('AAPL', 170)), { key: KEY });
    const later = Array.from({ length: 5 }, (_, i) => bar('AAPL', 100 + i, 180));
    expect(await table.upsert(rowsOf(later), { key: KEY })).toMatchObject({
      rowsReplaced: 0,
      removedFiles: 0,
      addedFiles: 1,
    });
    expect(await contents(table)).toEqual(expected(day('AAPL', 170), later));
  });

  it('refuses a batch that holds a key twice, and writes nothing', async () => {
    const table = await create();
    await table.upsert(rowsOf(day('AAPL', 170)), { key: KEY });
    const twice = [bar('AAPL', 1, 1), bar('AAPL', 2, 2), bar('AAPL', 1, 3)];
    await expect(table.upsert(rowsOf(twice), { key: KEY })).rejects.toSatisfy(
      (e) => isAlphalakeError(e, 'BAD_USER_INPUT') && /more than once/.test(e.message),
    );
    expect((await table.snapshot()).version).toBe(1);
    expect(await contents(table)).toEqual(expected(day('AAPL', 170)));
  });

  it('refuses a nullable or partition key column', async () => {
    const table = await DeltaTable.create(temp.store, 'nullable', {
      schema: SCHEMA.map((c) => (c.name === 'source' ? { ...c, nullable: true } : c)),
      partitionColumns: ['date'],
    });
    for (const key of [KEY, ['symbol', 'date']]) {
      await expect(table.upsert(rowsOf([bar('AAPL', 1, 1)]), { key })).rejects.toSatisfy((e) =>
        isAlphalakeError(e, 'BAD_USER_INPUT'),
      );
    }
  });

  it('carries txns like append: the same batch version twice is a CONFLICT', async () => {
    const table = await create();
    const txn = { appId: 'lake-sink:bars:0', version: 30, expected: 0 };
    await table.upsert(rowsOf(day('AAPL', 170)), { key: KEY, txns: [txn] });
    await expect(
      table.upsert(rowsOf(day('AAPL', 170)), { key: KEY, txns: [txn] }),
    ).rejects.toSatisfy((e) => isAlphalakeError(e, 'CONFLICT'));
    expect((await table.snapshot()).txnVersion('lake-sink:bars:0')).toBe(30);
    expect(await contents(table)).toEqual(expected(day('AAPL', 170)));
  });

  it('holds each key once after concurrent upserts of overlapping rows by separate writers', async () => {
    const table = await create();
    await table.upsert(rowsOf(day('AAPL', 170)), { key: KEY });
    const writers = await Promise.all(
      [0, 1, 2].map(() => DeltaTable.open(temp.store, 'bronze/vendor_bars')),
    );
    const writes = [0, 1, 2].map((w) =>
      Array.from({ length: 20 }, (_, i) => bar('AAPL', 10 + i, 200 + w)),
    );
    await Promise.all(writers.map((writer, w) => writer.upsert(rowsOf(writes[w]!), { key: KEY })));
    const rows = await contents(await DeltaTable.open(temp.store, 'bronze/vendor_bars'));
    // Which writer won each minute depends on the race; each key is there once, from one
    // of the writes, and the untouched minutes are the first day's.
    expect(rows.map((r) => r['ts'])).toEqual(expected(day('AAPL', 170)).map((r) => r.ts));
    for (const row of rows) {
      const minute = ((row['ts'] as LakeTimestamp).epochMicros! - T0) / 60_000_000;
      if (minute < 10) expect(row['close']).toBe(170 + minute / 64);
      else expect([200, 201, 202]).toContain(row['close']);
    }
  });
});
