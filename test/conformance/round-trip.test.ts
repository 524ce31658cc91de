import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DeltaTable,
  localObjectStore,
  typeName,
  type ColumnSpec,
  type ObjectStore,
} from '../../src/lake/index.js';
import {
  canonicalRows,
  INTEROP_SCHEMA,
  interopRows,
  oracle,
  oracleRows,
  runWorker,
  expectConcurrentAppendsExactlyOnce,
  WORKER_SCHEMA,
  type OracleRead,
} from './harness.js';
import { tempDir } from '../unit/lake/helpers.js';

async function compareWithDeltaRs(
  table: DeltaTable,
  dir: string,
  versions: readonly number[],
): Promise<void> {
  const answers = await oracle<OracleRead>(
    versions.map((version) => ({ op: 'read', path: dir, version })),
  );
  for (let i = 0; i < versions.length; i++) {
    const version = versions[i] as number;
    const theirs = answers[i] as OracleRead;
    expect(theirs.error, `delta-rs reading v${version}`).toBeUndefined();
    expect(theirs.rows_error, `delta-rs reading rows of v${version}`).toBeUndefined();
    const snapshot = await table.snapshot({ version });
    const { rows } = await table.query({ snapshot });
    expect(theirs.version).toBe(version);
    expect(snapshot.schema.map((c) => ({ name: c.name, type: typeName(c.type) }))).toEqual(
      theirs.schema,
    );
    expect(canonicalRows(rows, snapshot.schema), `rows of v${version}`).toEqual(
      oracleRows(theirs.rows ?? []),
    );
  }
}

describe('Delta interoperability with delta-rs', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let store: ObjectStore;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir('alphalake-roundtrip-'));
    store = localObjectStore(dir);
  });
  afterEach(() => cleanup());

  it('delta-rs reads what alphalake writes: partitions, nulls, edge timestamps, checkpoints, evolution, optimize, vacuum', async () => {
    const table = await DeltaTable.create(store, '', {
      schema: INTEROP_SCHEMA,
      partitionColumns: ['date'],
      clusterBy: ['symbol', 'ts'],
      properties: { 'delta.checkpointInterval': '3' },
    });
    const rows = interopRows;
    for (let commit = 0; commit < 5; commit++)
      await table.append(rows(commit % 2 ? '2024-01-02' : '2024-01-03', 7, commit));
    await table.overwrite(
      rows('2024-01-02', 5, 100).map((r) => ({ ...r, date: '2024-01-02' })),
      { partitionFilter: [{ column: 'date', op: '=', value: '2024-01-02' }] },
    );
    await table.append(
      rows('2024-01-04', 3, 200).map((r) => ({ ...r, venue: 'XNAS' })),
      { schemaMode: 'merge' },
    );
    const beforeMaintenance = (await table.snapshot()).version;
    expect(await readdir(path.join(dir, '_delta_log'))).toContain(
      '00000000000000000006.checkpoint.parquet',
    );
    await compareWithDeltaRs(
      table,
      dir,
      Array.from({ length: beforeMaintenance + 1 }, (_, v) => v),
    );

    const optimized = await table.optimize();
    expect(optimized.filesRemoved).toBeGreaterThan(1);
    const vacuumed = await table.vacuum({ retentionHours: 0, enforceRetention: false });
    expect(vacuumed.filesDeleted.length).toBeGreaterThan(0);
    await expect(table.vacuum({ retentionHours: 1 })).rejects.toThrow(/retention/);
    const latest = (await table.snapshot()).version;
    await compareWithDeltaRs(table, dir, [latest]);
    const history = await table.history();
    expect(history[0]?.operation).toBe('OPTIMIZE');
  });

  it('alphalake reads what delta-rs writes: append, overwrite, partitions, checkpoints', async () => {
    const schema = [
      { name: 'id', type: 'long' },
      { name: 'name', type: 'string' },
      { name: 'ts', type: 'timestamp' },
      { name: 'day', type: 'date' },
      { name: 'score', type: 'double' },
    ];
    const batch = (from: number, n: number, day: string) =>
      Array.from({ length: n }, (_, i) => ({
        id: from + i,
        name: i % 2 ? `n${from + i}` : null,
        ts: String(1_700_000_000_000_000 + (from + i) * 1_000_123),
        day,
        score: (from + i) / 3,
      }));
    const write = (mode: string, rows: unknown[]) => ({
      op: 'write',
      path: dir,
      mode,
      schema,
      rows,
      partition_by: ['day'],
    });
    const answers = await oracle([
      write('append', batch(0, 10, '2024-01-01')),
      write('append', batch(10, 10, '2024-01-02')),
      write('overwrite', batch(100, 5, '2024-01-03')),
      { op: 'checkpoint', path: dir },
      write('append', batch(200, 5, '2024-01-01')),
    ]);
    expect(
      answers.every((a) => a.error === undefined),
      JSON.stringify(answers),
    ).toBe(true);
    const table = await DeltaTable.open(store, '');
    await compareWithDeltaRs(table, dir, [0, 1, 2, 3]);
    expect((await table.snapshot()).partitionColumns).toEqual(['day']);
  });

  it('column mapping (name mode) with nested fields: we read delta-rs, our files hold physical names', async () => {
    // delta-rs 1.6.6 writes such tables correctly but reads them back as NULLs, so the
    // expected rows are the ones the oracle wrote (delta_oracle.py write_column_mapped).
    const [written] = await oracle<{ version?: number; error?: string }>([
      { op: 'write_column_mapped', path: dir },
    ]);
    expect(written?.error).toBeUndefined();
    const table = await DeltaTable.open(store, '');
    const theirs = {
      id: 1,
      'quote info': { 'bid price': 101.5, venue: { mic: 'XNAS' } },
      fills: [{ qty: 10, px: 101.4 }],
      by_venue: [{ key: 'XNAS', value: { volume: 15 } }],
    };
    const ours = {
      id: 3,
      'quote info': { 'bid price': 99.5, venue: { mic: 'ARCX' } },
      fills: [{ qty: 1, px: 99.5 }],
      by_venue: { ARCX: { volume: 1 } },
    };
    expect((await table.query({ orderBy: [{ column: 'id' }] })).rows).toEqual([
      theirs,
      { id: 2, 'quote info': null, fills: null, by_venue: null },
    ]);
    await table.append([ours]);
    const { rows } = await table.query({ filters: [{ column: 'id', op: '=', value: 3 }] });
    expect(rows).toEqual([{ ...ours, by_venue: [{ key: 'ARCX', value: { volume: 1 } }] }]);
    // Every field name in every data file (theirs and ours) is a physical name.
    const snapshot = await table.snapshot();
    const physical = new Set<string>();
    const collect = (type: ColumnSpec['type']): void => {
      if (typeof type === 'string') return;
      if (type.type === 'struct') {
        for (const field of type.fields) {
          physical.add(String(field.metadata?.['delta.columnMapping.physicalName']));
          collect(field.type);
        }
      } else if (type.type === 'array') collect(type.elementType);
      else collect(type.valueType);
    };
    collect({ type: 'struct', fields: snapshot.schema });
    const [files] = await oracle<{ fields: string[] }>([{ op: 'file_fields', path: dir }]);
    const structural = new Set(['element', 'value', 'key', 'list', 'item', 'key_value']);
    expect(files?.fields.filter((name) => !structural.has(name)).sort()).toEqual(
      [...physical].sort(),
    );
  });

  it('8 processes × 25 appends: contiguous versions, every row exactly once', async () => {
    await expectConcurrentAppendsExactlyOnce(store, (w, appends) =>
      runWorker([dir, 't', String(w), String(appends)]),
    );
  });

  it('a writer killed before its commit leaves no trace; VACUUM removes its orphans', async () => {
    const table = await DeltaTable.create(store, 't', {
      schema: WORKER_SCHEMA,
      partitionColumns: ['date'],
    });
    await table.append([{ id: 1, worker: 0, date: '2024-01-02' }]);
    const outcome = await runWorker([dir, 't', '7', '1', 'crash']);
    expect(outcome).toBe('SIGKILL');
    const files = await readdir(path.join(dir, 't', 'date=2024-01-02'));
    expect(files.filter((f) => f.endsWith('.parquet'))).toHaveLength(2);
    const reopened = await DeltaTable.open(store, 't');
    expect((await reopened.snapshot()).version).toBe(1);
    expect((await reopened.query({})).rows).toEqual([{ id: 1, worker: 0, date: '2024-01-02' }]);
    const dry = await reopened.vacuum({ retentionHours: 0, enforceRetention: false, dryRun: true });
    expect(dry.filesDeleted).toHaveLength(1);
    await reopened.vacuum({ retentionHours: 0, enforceRetention: false });
    expect(
      (await readdir(path.join(dir, 't', 'date=2024-01-02'))).filter((f) => f.endsWith('.parquet')),
    ).toHaveLength(1);
    expect((await reopened.query({})).rows).toHaveLength(1);
  });
});
