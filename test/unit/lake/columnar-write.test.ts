import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { isAlphalakeError } from '../../../src/domain/index.js';
import { DeltaTable, LakeTimestamp } from '../../../src/lake/index.js';
import { TRADE_SCHEMA, useTempStore } from './helpers.js';

/** Rows of one data file in file order, as DuckDB reads them (numbers, ISO timestamps). */
async function fileRows(file: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT symbol, epoch_us(ts) AS ts, price, size, id FROM read_parquet('${file}', file_row_number = true) ORDER BY file_row_number`,
    );
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

const DAY = Date.parse('2024-01-02T14:30:00Z');
/** The same instant in epoch µs: a Float64Array timestamp column is epoch µs. */
const DAY_US = DAY * 1000;

describe('columnar appends: clustering order, typed conversions, statistics', () => {
  const temp = useTempStore();

  const create = () =>
    DeltaTable.create(temp.store, 't', {
      schema: TRADE_SCHEMA,
      partitionColumns: ['date'],
      clusterBy: ['symbol', 'ts'],
    });

  /** n trades cycling over an unsorted dictionary (with a duplicate), time-ordered or not. */
  const batch = (n: number, timeOrdered: boolean) => {
    const ts = Float64Array.from({ length: n }, (_, i) =>
      timeOrdered ? DAY_US + i * 1500 : DAY_US + ((i * 7919) % n) * 1500,
    );
    return {
      length: n,
      columns: {
        symbol: {
          dictionary: ['MSFT', 'AAPL', 'IBM', 'AAPL', 'Äpfel', 'Zeta'],
          codes: Int32Array.from({ length: n }, (_, i) => (i * 5) % 6),
        },
        ts,
        price: Float64Array.from({ length: n }, (_, i) => 100 + (i % 97) / 4),
        size: Float64Array.from({ length: n }, (_, i) => (i % 2 ? -1 : 1) * (2 ** 40 + i)),
        id: Float64Array.from({ length: n }, (_, i) => (i === 0 ? 2 ** 53 - 1 : -i)),
        date: { dictionary: ['2024-01-02'], codes: new Int32Array(n) },
      },
    };
  };

  for (const timeOrdered of [true, false]) {
    it(`sorts files by (symbol, ts) with exact values and statistics (${timeOrdered ? 'time-ordered' : 'shuffled'} input)`, async () => {
      const n = 10_000;
      const input = batch(n, timeOrdered);
      const table = await create();
      await table.append(input);
      const [file] = (await table.snapshot()).files;
      if (!file) throw new Error('no file written');
      const rows = await fileRows(path.join(temp.dir, 't', decodeURIComponent(file.path)));
      expect(rows).toHaveLength(n);

      // The expected rows, sorted as DuckDB sorts VARCHAR (UTF-8 bytes), then by ts.
      const expected = Array.from({ length: n }, (_, i) => ({
        symbol: input.columns.symbol.dictionary[input.columns.symbol.codes[i] as number],
        ts: BigInt(input.columns.ts[i] as number),
        price: input.columns.price[i],
        size: BigInt(input.columns.size[i] as number),
        id: BigInt(input.columns.id[i] as number),
      })).sort(
        (a, b) =>
          Buffer.compare(Buffer.from(a.symbol ?? ''), Buffer.from(b.symbol ?? '')) ||
          (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0),
      );
      expect(rows.map((r) => [r['symbol'], r['ts']])).toEqual(
        expected.map((r) => [r.symbol, r.ts]),
      );
      expect(
        new Set(
          rows.map(
            (r) =>
              `${String(r['symbol'])}|${String(r['ts'])}|${String(r['price'])}|${String(r['size'])}|${String(r['id'])}`,
          ),
        ),
      ).toEqual(new Set(expected.map((r) => `${r.symbol}|${r.ts}|${r.price}|${r.size}|${r.id}`)));

      const stats = JSON.parse(file.stats ?? '{}') as Record<string, Record<string, unknown>>;
      expect(stats['numRecords']).toBe(n);
      expect(stats['minValues']).toMatchObject({
        symbol: 'AAPL',
        ts: '2024-01-02T14:30:00.000Z',
        price: 100,
        size: -(2 ** 40 + n - 1),
        id: -(n - 1),
      });
      expect(stats['maxValues']).toMatchObject({
        symbol: 'Äpfel',
        ts: new Date(DAY + Math.ceil((n - 1) * 1.5)).toISOString(),
        price: 124,
        size: 2 ** 40 + n - 2,
        id: 2 ** 53 - 1,
      });
      expect(stats['nullCount']).toEqual({ symbol: 0, ts: 0, price: 0, size: 0, id: 0 });

      // And through the table: a pruned symbol read returns exact values.
      const { rows: ibm } = await table.query({
        filters: [{ column: 'symbol', op: '=', value: 'IBM' }],
        orderBy: [{ column: 'ts' }],
        limit: 1,
      });
      expect(ibm[0]).toMatchObject({ symbol: 'IBM', date: '2024-01-02' });
    });
  }

  it('timestamps given as text or bigint keep every microsecond, also beyond 2^53 µs', async () => {
    const table = await DeltaTable.create(temp.store, 'far', {
      schema: [
        { name: 'i', type: 'long', nullable: false },
        { name: 'ts', type: 'timestamp', nullable: false },
      ],
    });
    await table.append([
      { i: 1, ts: '9999-12-31T23:59:59.999999Z' },
      { i: 2, ts: -62_135_596_799_999_999n },
    ]);
    const { rows } = await table.query({
      orderBy: [{ column: 'i' }],
      filters: [{ column: 'ts', op: '>=', value: '9999-12-31T23:59:59.999999Z' }],
    });
    expect(rows).toEqual([{ i: 1, ts: new LakeTimestamp(253_402_300_799_999_999n) }]);
    const early = await table.query({
      filters: [{ column: 'ts', op: '<', value: -62_135_596_799_999_998n }],
    });
    expect(early.rows).toEqual([{ i: 2, ts: new LakeTimestamp(-62_135_596_799_999_999n) }]);
  });

  it('dictionary codes outside the dictionary are NULL, sorted or not', async () => {
    const table = await DeltaTable.create(temp.store, 'codes', {
      schema: [
        { name: 'i', type: 'long', nullable: false },
        { name: 'venue', type: 'string', nullable: true },
      ],
      clusterBy: ['venue'],
    });
    for (const dictionary of [
      ['ARCX', 'XNYS'],
      ['XNYS', 'ARCX'],
    ]) {
      await table.append({
        length: 3,
        columns: {
          i: new Float64Array([1, 2, 3]),
          venue: { dictionary, codes: new Int32Array([0, 7, 1]) },
        },
      });
    }
    const { rows } = await table.query({ orderBy: [{ column: 'venue' }, { column: 'i' }] });
    expect(rows.map((r) => r['venue'])).toEqual(['ARCX', 'ARCX', 'XNYS', 'XNYS', null, null]);
  });

  it('pre-1970 and sub-millisecond epoch-µs timestamps, nullable dictionary codes', async () => {
    const table = await DeltaTable.create(temp.store, 'n', {
      schema: [
        { name: 'venue', type: 'string', nullable: true },
        { name: 'ts', type: 'timestamp', nullable: false },
      ],
      clusterBy: ['venue', 'ts'],
    });
    await table.append({
      length: 4,
      columns: {
        venue: { dictionary: ['XNYS', 'ARCX'], codes: new Int32Array([0, -1, 1, 0]) },
        ts: new Float64Array([-1500, 250, Date.UTC(1900, 0, 1) * 1000, 1002]),
      },
    });
    const { rows } = await table.query();
    expect(rows).toEqual([
      { venue: 'ARCX', ts: new LakeTimestamp(BigInt(Date.UTC(1900, 0, 1)) * 1000n) },
      { venue: 'XNYS', ts: new LakeTimestamp(-1500n) },
      { venue: 'XNYS', ts: new LakeTimestamp(1002n) },
      { venue: null, ts: new LakeTimestamp(250n) },
    ]);
    expect(rows.map((r) => String(r['ts']))).toEqual([
      '1900-01-01T00:00:00.000Z',
      '1969-12-31T23:59:59.998500Z',
      '1970-01-01T00:00:00.001002Z',
      '1970-01-01T00:00:00.000250Z',
    ]);
    const [file] = (await table.snapshot()).files;
    const stats = JSON.parse(file?.stats ?? '{}') as Record<string, Record<string, unknown>>;
    expect(stats['nullCount']).toEqual({ venue: 1, ts: 0 });
    expect(stats['minValues']).toEqual({ venue: 'ARCX', ts: '1900-01-01T00:00:00.000Z' });
    expect(stats['maxValues']).toEqual({ venue: 'XNYS', ts: '1970-01-01T00:00:00.002Z' });
  });

  it('refuses a fraction of a microsecond (or NaN) in a Float64Array timestamp or long column', async () => {
    const table = await DeltaTable.create(temp.store, 'frac', {
      schema: [
        { name: 'n', type: 'long', nullable: false },
        { name: 'ts', type: 'timestamp', nullable: false },
      ],
    });
    for (const columns of [
      { n: new Float64Array([1, 2]), ts: new Float64Array([0, 1.5]) },
      { n: new Float64Array([1, NaN]), ts: new Float64Array([0, 1]) },
    ]) {
      await expect(table.append({ length: 2, columns })).rejects.toSatisfy((e) =>
        isAlphalakeError(e, 'BAD_USER_INPUT'),
      );
    }
    expect((await table.snapshot()).version).toBe(0);
  });
});
