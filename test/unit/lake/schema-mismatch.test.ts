import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAlphalakeError, type AlphalakeError } from '../../../src/domain/index.js';
import { DeltaTable, localObjectStore, type ObjectStore } from '../../../src/lake/index.js';
import { TRADE_SCHEMA, tempDir, trades } from './helpers.js';

async function mismatch(write: Promise<unknown>): Promise<AlphalakeError> {
  const error = await write.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isAlphalakeError(error, 'SCHEMA_MISMATCH'))
    throw new Error(`expected SCHEMA_MISMATCH, got ${String(error)}`);
  return error;
}

describe('SCHEMA_MISMATCH lists every difference', () => {
  let cleanup: () => Promise<void>;
  let store: ObjectStore;
  let table: DeltaTable;

  beforeEach(async () => {
    let dir: string;
    ({ dir, cleanup } = await tempDir());
    store = localObjectStore(dir);
    table = await DeltaTable.create(store, 'trades', {
      schema: TRADE_SCHEMA,
      partitionColumns: ['date'],
    });
  });
  afterEach(() => cleanup());

  it('unknown columns, missing non-nullable columns, type differences and nulls at once', async () => {
    const rows = trades('AAPL', '2024-01-02', 3).map((row, i) => {
      const { size: _size, ...rest } = row;
      return {
        ...rest,
        price: String(row['price']),
        symbol: i === 1 ? null : row['symbol'],
        venue: 'XNAS',
        side: 'B',
      };
    });
    const error = await mismatch(table.append(rows));
    expect(error.message).toBe(
      'the batch does not match the table schema: ' +
        "unknown columns: venue, side (append with schemaMode 'merge' to add them); " +
        'missing non-nullable columns: size; ' +
        'type differences: price: table double, batch string; ' +
        'nulls in non-nullable columns: symbol (1 null)',
    );
    expect(error.details).toEqual({
      unknown: ['venue', 'side'],
      missing: ['size'],
      types: [{ column: 'price', table: 'double', batch: 'string' }],
      nulls: [{ column: 'symbol', nulls: 1 }],
    });
    // Nothing was written.
    expect((await table.snapshot()).files).toHaveLength(0);
  });

  it('columnar input: typed arrays and dictionaries are checked without a value scan', async () => {
    const error = await mismatch(
      table.append({
        length: 2,
        columns: {
          symbol: new Float64Array([1, 2]),
          ts: new Float64Array([Date.UTC(2024, 0, 2), Date.UTC(2024, 0, 2, 0, 0, 1)]),
          price: { dictionary: ['1.5'], codes: new Int32Array([0, 0]) },
          size: new Float64Array([1, 2]),
          date: { dictionary: ['2024-01-02'], codes: new Int32Array([0, -1]) },
        },
      }),
    );
    expect(error.details).toMatchObject({
      types: [
        { column: 'symbol', table: 'string', batch: 'double' },
        { column: 'price', table: 'double', batch: 'string' },
      ],
      nulls: [{ column: 'date', nulls: 1 }],
    });
  });

  it('mixed kinds in one column are named; merge mode still refuses type differences', async () => {
    const rows = trades('AAPL', '2024-01-02', 2).map((row, i) => ({
      ...row,
      size: i === 0 ? 100 : '100',
      venue: 'XNAS',
    }));
    const error = await mismatch(table.append(rows, { schemaMode: 'merge' }));
    expect(error.message).toBe(
      'the batch does not match the table schema: ' +
        'type differences: size: table long, batch number | string',
    );
    expect((await table.snapshot()).schema.map((c) => c.name)).not.toContain('venue');
  });

  it('accepts every documented input form of a column', async () => {
    await table.append([
      { symbol: 'A', ts: new Date(0), price: 1, size: 1n, id: null, date: '2024-01-02' },
      { symbol: 'A', ts: '2024-01-02T00:00:00.000001Z', price: 2, size: 2, date: new Date(0) },
      { symbol: 'A', ts: 5, price: 3n, size: 3, id: 7, date: '2024-01-02' },
      { symbol: 'A', ts: 5_000n, price: 4, size: 4, id: undefined, date: 19_724 },
    ]);
    const { rows } = await table.query({ orderBy: [{ column: 'price' }] });
    expect(rows.map((r) => r['date'])).toEqual([
      '2024-01-02',
      '1970-01-01',
      '2024-01-02',
      '2024-01-02',
    ]);
  });
});
