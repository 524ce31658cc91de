import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isAlphalakeError } from '../../src/domain/index.js';
import { DeltaTable, localObjectStore, typeName } from '../../src/lake/index.js';
import {
  canonicalRows,
  conformanceDir,
  copyToTemp,
  findTables,
  oracle,
  oracleRows,
} from './harness.js';

/**
 * Every table of the delta-rs test data: alphalake must return the rows, schema and
 * version delta-rs returns, for the latest and every earlier version, or refuse with
 * UNSUPPORTED_TABLE_FEATURE. It must never return different rows.
 */
/**
 * Where delta-rs' reader itself is wrong, the rows are compared (all columns, every
 * version) against the table's data files read with pyarrow instead (delta_oracle.py
 * `raw_files_table`: physical names mapped to logical ones, partition values from the add
 * actions), with the evidence. No column is left out.
 */
const RAW_FILES_ORACLE: Record<string, string> = {
  // delta-rs 1.6.6 returns NULL for "Super Name" of this column-mapped (name mode)
  // Databricks table; the log's own stats say nullCount 0 with min "Anthony Johnson".
  table_with_column_mapping: 'delta-rs returns NULL for a column-mapped column',
};

const root = path.join(conformanceDir(), 'delta-rs-tables');
const tables = await findTables(root);
const outcomes = new Map<
  string,
  {
    read: number;
    logOnly: number;
    refused: number;
    notReconstructable: number;
    oracleOnlyFailed: number;
  }
>();

afterAll(() => {
  let read = 0;
  let refusedTables = 0;
  for (const [, o] of outcomes) {
    if (o.read + o.logOnly > 0) read++;
    else if (o.refused > 0) refusedTables++;
  }
  console.log(
    `delta-rs conformance: ${outcomes.size} tables, ${read} read, ${refusedTables} refused`,
  );
  for (const [name, o] of outcomes) console.log(`  ${name}: ${JSON.stringify(o)}`);
});

describe('conformance with delta-rs test tables', () => {
  it('finds the tables', () => {
    expect(tables.length).toBeGreaterThanOrEqual(50);
  });

  it.each(tables)('%s', async (name) => {
    const { dir, cleanup } = await copyToTemp(path.join(root, name));
    const outcome = { read: 0, logOnly: 0, refused: 0, notReconstructable: 0, oracleOnlyFailed: 0 };
    outcomes.set(name, outcome);
    try {
      const logFiles = await readdir(path.join(dir, '_delta_log'));
      const versions = [
        ...new Set(
          logFiles
            .map((f) => /^(\d{20})\.(json|checkpoint)/.exec(f)?.[1])
            .filter((v): v is string => v !== undefined)
            .map(Number),
        ),
      ].sort((a, b) => a - b);
      const rawFiles = RAW_FILES_ORACLE[name] !== undefined;
      const answers = await oracle([
        { op: 'read', path: dir, raw_files: rawFiles },
        ...versions.map((version) => ({ op: 'read', path: dir, version, raw_files: rawFiles })),
      ]);
      const targets: (number | undefined)[] = [undefined, ...versions];
      const store = localObjectStore(dir);
      for (let i = 0; i < targets.length; i++) {
        const version = targets[i];
        const expected = answers[i] ?? {};
        let ours: {
          version: number;
          schema: { name: string; type: string }[];
          files: string[];
          rows?: string[];
        };
        try {
          const table = await DeltaTable.open(store, '');
          const snapshot = await table.snapshot(version === undefined ? undefined : { version });
          ours = {
            version: snapshot.version,
            schema: snapshot.schema.map((c) => ({ name: c.name, type: typeName(c.type) })),
            files: snapshot.files.map((f) => decodeURIComponent(f.path)).sort(),
          };
          try {
            const { rows } = await table.query({ snapshot });
            ours.rows = canonicalRows(rows, snapshot.schema);
          } catch (error) {
            // Fixtures that keep only the log: the log replay is still compared below.
            if (!(isAlphalakeError(error, 'NOT_FOUND') && expected.rows_error !== undefined))
              throw error;
          }
        } catch (error) {
          if (isAlphalakeError(error, 'UNSUPPORTED_TABLE_FEATURE')) {
            expect(error.message).toMatch(/"[^"]+"|type|feature|schemaString/);
            outcome.refused++;
            continue;
          }
          if (isAlphalakeError(error, 'NOT_FOUND') && expected.error !== undefined) {
            outcome.notReconstructable++;
            continue;
          }
          throw new Error(
            `${name}@${version ?? 'latest'}: ${String(error)} (delta-rs: ${expected.error ?? 'ok'})`,
            {
              cause: error,
            },
          );
        }
        if (expected.error !== undefined) {
          outcome.oracleOnlyFailed++;
          continue;
        }
        if (ours.rows !== undefined && expected.rows_error !== undefined) {
          // delta-rs reads the log but not the data (e.g. timestamps beyond its nanosecond range).
          outcome.oracleOnlyFailed++;
          continue;
        }
        const label = `${name}@${version ?? 'latest'}`;
        expect(ours.version, label).toBe(expected.version);
        expect(ours.schema, label).toEqual(expected.schema);
        const theirFiles = (expected.files ?? [])
          .map((f) => f.replace(/^file:\/\//, ''))
          .map((f) => path.relative(dir, f))
          .sort();
        expect(ours.files, label).toEqual(theirFiles);
        if (ours.rows === undefined) {
          outcome.logOnly++;
          continue;
        }
        expect(ours.rows, label).toEqual(oracleRows(expected.rows ?? []));
        outcome.read++;
      }
    } finally {
      await cleanup();
    }
  });
});
