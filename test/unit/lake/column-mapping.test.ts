import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { DeltaTable, type ColumnSpec, type ColumnType } from '../../../src/lake/index.js';
import { useTempStore } from './helpers.js';

/** PROTOCOL.md "Column Mapping" (name mode): logical names outside, physical names in files. */
const SCHEMA: ColumnSpec[] = [
  { name: 'id', type: 'long', nullable: false },
  { name: 'day', type: 'date', nullable: false },
  {
    name: 'quote info',
    type: {
      type: 'struct',
      fields: [
        { name: 'bid price', type: 'double', nullable: true },
        {
          name: 'venue',
          type: { type: 'struct', fields: [{ name: 'mic', type: 'string', nullable: true }] },
          nullable: true,
        },
      ],
    },
    nullable: true,
  },
  {
    name: 'fills',
    type: {
      type: 'array',
      elementType: {
        type: 'struct',
        fields: [
          { name: 'qty', type: 'long', nullable: true },
          { name: 'px', type: 'double', nullable: true },
        ],
      },
      containsNull: true,
    },
    nullable: true,
  },
  {
    name: 'by_venue',
    type: {
      type: 'map',
      keyType: 'string',
      valueType: { type: 'struct', fields: [{ name: 'volume', type: 'long', nullable: true }] },
      valueContainsNull: true,
    },
    nullable: true,
  },
];

const ROWS = [
  {
    id: 1,
    day: '2024-01-02',
    'quote info': { 'bid price': 101.5, venue: { mic: 'XNAS' } },
    fills: [
      { qty: 10, px: 101.4 },
      { qty: 5, px: 101.6 },
    ],
    by_venue: { XNAS: { volume: 15 } },
  },
  { id: 2, day: '2024-01-03', 'quote info': null, fills: [], by_venue: null },
  {
    id: 3,
    day: '2024-01-03',
    'quote info': { 'bid price': null, venue: null },
    fills: null,
    by_venue: { ARCX: { volume: 7 }, XNYS: { volume: null } },
  },
];

/** Struct field names at every depth of a DuckDB type string, e.g. STRUCT("a" BIGINT). */
function fieldNames(type: ColumnType): string[] {
  if (typeof type === 'string') return [];
  switch (type.type) {
    case 'struct':
      return type.fields.flatMap((f) => [
        String(f.metadata?.['delta.columnMapping.physicalName']),
        ...fieldNames(f.type),
      ]);
    case 'array':
      return fieldNames(type.elementType);
    case 'map':
      return [...fieldNames(type.keyType), ...fieldNames(type.valueType)];
  }
}

/** `by_venue` comes back as DuckDB map entries; rows are compared in that form. */
function expected(row: (typeof ROWS)[number]): Record<string, unknown> {
  return {
    ...row,
    by_venue:
      row.by_venue === null
        ? null
        : Object.entries(row.by_venue).map(([key, value]) => ({ key, value })),
  };
}

describe('column mapping (name mode) with nested fields', () => {
  const temp = useTempStore();

  const create = () =>
    DeltaTable.create(temp.store, 't', {
      schema: SCHEMA,
      partitionColumns: ['day'],
      properties: { 'delta.columnMapping.mode': 'name' },
    });

  it('creates the table with ids and physical names at every depth', async () => {
    const table = await create();
    const snapshot = await table.snapshot();
    expect(snapshot.protocol).toMatchObject({ minReaderVersion: 2, minWriterVersion: 5 });
    const physical = [
      ...snapshot.schema.map((c) => String(c.metadata?.['delta.columnMapping.physicalName'])),
      ...snapshot.schema.flatMap((c) => fieldNames(c.type)),
    ];
    expect(physical).toHaveLength(11);
    for (const name of physical) expect(name).toMatch(/^col-[0-9a-f-]{36}$/);
    expect(snapshot.properties['delta.columnMapping.maxColumnId']).toBe('11');
  });

  it('writes physical names at every depth and reads logical names back', async () => {
    const table = await create();
    await table.append(ROWS);
    const { rows } = await table.query({ orderBy: [{ column: 'id' }] });
    expect(rows).toEqual(ROWS.map(expected));

    const snapshot = await table.snapshot();
    const physicalOf = (name: string) =>
      String(
        snapshot.schema.find((c) => c.name === name)?.metadata?.[
          'delta.columnMapping.physicalName'
        ],
      );
    // Partition values are keyed by the physical name.
    for (const file of snapshot.files)
      expect(Object.keys(file.partitionValues)).toEqual([physicalOf('day')]);

    // The data files hold only physical names, at every depth.
    const files = snapshot.files.map((f) => path.join(temp.dir, 't', decodeURIComponent(f.path)));
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const reader = await connection.runAndReadAll(
        `SELECT DISTINCT name FROM parquet_schema([${files.map((f) => `'${f}'`).join(', ')}])`,
      );
      const names = new Set(reader.getRowsJson().map((r) => String(r[0])));
      const logical = ['id', 'quote info', 'bid price', 'venue', 'mic', 'fills', 'qty', 'px'];
      for (const name of logical) expect(names.has(name), name).toBe(false);
      for (const column of snapshot.schema.filter((c) => c.name !== 'day')) {
        expect(names.has(physicalOf(column.name)), column.name).toBe(true);
        for (const field of fieldNames(column.type)) expect(names.has(field), field).toBe(true);
      }
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });

  it('gives columns added by schema evolution their own ids and physical names', async () => {
    const table = await create();
    await table.append([{ id: 1, day: '2024-01-02' }]);
    await table.append([{ id: 2, day: '2024-01-02', venue: 'XNAS' }], { schemaMode: 'merge' });
    const snapshot = await table.snapshot();
    const added = snapshot.schema.find((c) => c.name === 'venue');
    expect(added?.metadata).toMatchObject({
      'delta.columnMapping.id': 12,
      'delta.columnMapping.physicalName': expect.stringMatching(/^col-/) as unknown,
    });
    expect(snapshot.properties['delta.columnMapping.maxColumnId']).toBe('12');
    const { rows } = await table.query({ columns: ['id', 'venue'], orderBy: [{ column: 'id' }] });
    expect(rows).toEqual([
      { id: 1, venue: null },
      { id: 2, venue: 'XNAS' },
    ]);
  });

  it('OPTIMIZE keeps the partitions of a column-mapped table apart', async () => {
    const table = await create();
    for (const row of [...ROWS, ...ROWS.map((r) => ({ ...r, id: r.id + 10 }))])
      await table.append([row]);
    const result = await table.optimize();
    expect(result.partitionsOptimized).toBe(2);
    const { rows } = await table.query({ orderBy: [{ column: 'id' }] });
    expect(rows.map((r) => [r['id'], r['day']])).toEqual([
      [1, '2024-01-02'],
      [2, '2024-01-03'],
      [3, '2024-01-03'],
      [11, '2024-01-02'],
      [12, '2024-01-03'],
      [13, '2024-01-03'],
    ]);
    expect(rows).toEqual(
      [...ROWS, ...ROWS.map((r) => ({ ...r, id: r.id + 10 }))]
        .map(expected)
        .sort((a, b) => Number(a['id']) - Number(b['id'])),
    );
  });
});
