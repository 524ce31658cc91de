import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DeltaTable,
  LakeTimestamp,
  localObjectStore,
  type ObjectStore,
} from '../../../src/lake/index.js';
import { tempDir } from './helpers.js';

describe('queryColumns: the columnar result of a query', () => {
  let cleanup: () => Promise<void>;
  let store: ObjectStore;

  beforeEach(async () => {
    let dir: string;
    ({ dir, cleanup } = await tempDir());
    store = localObjectStore(dir);
  });
  afterEach(() => cleanup());

  const ROWS = [
    {
      id: 1,
      big: 2n ** 60n,
      price: 1.5,
      qty: 3,
      ts: new LakeTimestamp(-1n),
      day: '2024-01-02',
      name: 'a',
      amount: '12.30',
      tags: ['x'],
    },
    {
      id: 2,
      big: -5,
      price: null,
      qty: null,
      ts: null,
      day: null,
      name: null,
      amount: null,
      tags: null,
    },
    {
      id: 3,
      big: 7,
      price: -0.25,
      qty: -4,
      ts: new LakeTimestamp(1_704_205_800_123_456n),
      day: '1900-01-01',
      name: 'ü',
      amount: '-0.01',
      tags: [],
    },
  ];

  const create = async () => {
    const table = await DeltaTable.create(store, 't', {
      schema: [
        { name: 'id', type: 'long', nullable: false },
        { name: 'big', type: 'long', nullable: true },
        { name: 'price', type: 'double', nullable: true },
        { name: 'qty', type: 'integer', nullable: true },
        { name: 'ts', type: 'timestamp', nullable: true },
        { name: 'day', type: 'date', nullable: true },
        { name: 'name', type: 'string', nullable: true },
        { name: 'amount', type: 'decimal(10,2)', nullable: true },
        {
          name: 'tags',
          type: { type: 'array', elementType: 'string', containsNull: true },
          nullable: true,
        },
      ],
    });
    await table.append(ROWS);
    return table;
  };

  it('numbers and timestamps as Float64Arrays with null masks; other types as values', async () => {
    const table = await create();
    const result = await table.queryColumns({ orderBy: [{ column: 'id' }] });
    expect(result.length).toBe(3);
    const { id, big, price, qty, ts, day, name, amount, tags } = result.columns;
    expect(id).toEqual({ values: new Float64Array([1, 2, 3]) });
    // A long beyond ±(2^53−1) turns its column into exact values.
    expect(big?.values).toEqual([2n ** 60n, -5, 7]);
    expect(price?.values).toBeInstanceOf(Float64Array);
    expect(Array.from(price?.values ?? [])).toEqual([1.5, NaN, -0.25]);
    expect(Array.from(price?.nulls ?? [])).toEqual([0, 1, 0]);
    expect(Array.from(qty?.values ?? [])).toEqual([3, NaN, -4]);
    // Epoch microseconds, exact (also before 1970).
    expect(Array.from(ts?.values ?? [])).toEqual([-1, NaN, 1_704_205_800_123_456]);
    expect(Array.from(ts?.nulls ?? [])).toEqual([0, 1, 0]);
    expect(day?.values).toEqual(['2024-01-02', null, '1900-01-01']);
    expect(name?.values).toEqual(['a', null, 'ü']);
    expect(amount?.values).toEqual(['12.30', null, '-0.01']);
    expect(tags?.values).toEqual([['x'], null, []]);
  });

  it('query returns the same values as row objects', async () => {
    const table = await create();
    const { rows } = await table.query({ orderBy: [{ column: 'id' }] });
    expect(rows).toEqual(ROWS);
  });

  it('longs at ±(2^53−1) stay numbers, beyond them exact; timestamps beyond 2^53 µs stay exact', async () => {
    const table = await DeltaTable.create(store, 'edges', {
      schema: [
        { name: 'i', type: 'long', nullable: false },
        { name: 'n', type: 'long', nullable: false },
        { name: 'm', type: 'long', nullable: false },
        { name: 'ts', type: 'timestamp', nullable: false },
        { name: 'wall', type: 'timestamp_ntz', nullable: true },
      ],
    });
    const max = Number.MAX_SAFE_INTEGER;
    await table.append([
      {
        i: 1,
        n: max,
        m: -max,
        ts: '9999-12-31T23:59:59.999999Z',
        wall: '1969-12-31T23:59:59.999999',
      },
      { i: 2, n: -max, m: -(2n ** 53n), ts: '0001-01-01T00:00:00.000001Z', wall: null },
      {
        i: 3,
        n: 0,
        m: 2n ** 53n,
        ts: '1969-12-31T23:59:59.999001Z',
        wall: '2024-03-01T09:30:09.292971',
      },
    ]);
    const result = await table.queryColumns({ orderBy: [{ column: 'i' }] });
    expect(result.columns['n']).toEqual({ values: new Float64Array([max, -max, 0]) });
    expect(result.columns['m']?.values).toEqual([-max, -(2n ** 53n), 2n ** 53n]);
    // Beyond ±(2^53−1) µs a Float64Array could not hold them: exact LakeTimestamps instead.
    const ts = result.columns['ts']?.values as LakeTimestamp[];
    expect(ts).toEqual([
      new LakeTimestamp(253_402_300_799_999_999n),
      new LakeTimestamp(-62_135_596_799_999_999n),
      new LakeTimestamp(-999n),
    ]);
    expect(ts.map((t) => t.toISOString())).toEqual([
      '9999-12-31T23:59:59.999999Z',
      '0001-01-01T00:00:00.000001Z',
      '1969-12-31T23:59:59.999001Z',
    ]);
    // Wall-clock (ntz) values within range stay in the Float64Array, counted as if UTC.
    expect(Array.from(result.columns['wall']?.values ?? [])).toEqual([
      -1,
      NaN,
      1_709_285_409_292_971,
    ]);
    const { rows } = await table.query({ orderBy: [{ column: 'i' }], columns: ['ts', 'wall'] });
    expect(rows.map((r) => [String(r.ts), r.wall === null ? null : String(r.wall)])).toEqual([
      ['9999-12-31T23:59:59.999999Z', '1969-12-31T23:59:59.999999'],
      ['0001-01-01T00:00:00.000001Z', null],
      ['1969-12-31T23:59:59.999001Z', '2024-03-01T09:30:09.292971'],
    ]);
    expect(rows[2]?.wall).toEqual(new LakeTimestamp(1_709_285_409_292_971n, true));
  });

  it('an empty result has every requested column, empty', async () => {
    const table = await create();
    const result = await table.queryColumns({
      columns: ['id', 'ts'],
      filters: [{ column: 'id', op: '>', value: 10 }],
    });
    expect(result.length).toBe(0);
    expect(Object.keys(result.columns)).toEqual(['id', 'ts']);
  });

  it('spans many result chunks', async () => {
    const table = await DeltaTable.create(store, 'many', {
      schema: [
        { name: 'n', type: 'long', nullable: false },
        { name: 'ts', type: 'timestamp', nullable: false },
      ],
    });
    const n = 10_000;
    await table.append({
      length: n,
      columns: {
        n: Float64Array.from({ length: n }, (_, i) => i),
        ts: Float64Array.from({ length: n }, (_, i) => i * 1000),
      },
    });
    const result = await table.queryColumns({ orderBy: [{ column: 'n' }] });
    const values = result.columns['n']?.values as Float64Array;
    const ts = result.columns['ts']?.values as Float64Array;
    expect(values.length).toBe(n);
    expect(values.every((v, i) => v === i)).toBe(true);
    expect(ts.every((v, i) => v === i * 1000)).toBe(true);
  });
});
