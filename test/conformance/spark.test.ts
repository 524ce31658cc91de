import { cp, rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeltaTable, localObjectStore } from '../../src/lake/index.js';
import { tempDir } from '../unit/lake/helpers.js';
import { canonicalRows, INTEROP_SCHEMA, interopRows, oracleRows, sparkOracle } from './harness.js';

/**
 * Spark with delta-spark (started offline from the jars scripts/services fetched) reads
 * the tables alphalake writes — partitions, nulls, edge timestamps, checkpoints, schema
 * evolution, OPTIMIZE and VACUUM — row for row, at every version; and alphalake reads
 * what Spark appends. One Spark session answers all requests (it takes ~15 s to start).
 */
interface SparkRead {
  readonly version?: number;
  readonly columns?: string[];
  readonly rows?: string[];
  readonly error?: string;
}

describe('Delta interoperability with Spark (delta-spark)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let table: DeltaTable;
  let before: DeltaTable;
  let versions: number[];
  let answers: SparkRead[];

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('alphalake-spark-'));
    table = await DeltaTable.create(localObjectStore(dir), '', {
      schema: INTEROP_SCHEMA,
      partitionColumns: ['date'],
      clusterBy: ['symbol', 'ts'],
      properties: { 'delta.checkpointInterval': '3' },
    });
    for (let commit = 0; commit < 4; commit++) {
      await table.append(interopRows(commit % 2 ? '2024-01-02' : '2024-01-03', 7, commit));
    }
    await table.overwrite(
      interopRows('2024-01-02', 5, 100).map((r) => ({ ...r, date: '2024-01-02' })),
      { partitionFilter: [{ column: 'date', op: '=', value: '2024-01-02' }] },
    );
    await table.append(
      interopRows('2024-01-04', 3, 200).map((r) => ({ ...r, venue: 'XNAS' })),
      { schemaMode: 'merge' },
    );
    // VACUUM will delete the files of the versions before OPTIMIZE, so Spark reads every
    // one of those versions from a copy taken now, and the maintained table at its latest.
    const beforeMaintenance = (await table.snapshot()).version;
    await cp(dir, `${dir}-before`, { recursive: true });
    before = await DeltaTable.open(localObjectStore(`${dir}-before`), '');
    await table.optimize();
    await table.vacuum({ retentionHours: 0, enforceRetention: false });
    const latest = (await table.snapshot()).version;
    versions = [...Array.from({ length: beforeMaintenance + 1 }, (_, v) => v), latest];
    answers = await sparkOracle<SparkRead>([
      ...versions.map((version) => ({
        op: 'read',
        path: version === latest ? dir : `${dir}-before`,
        version,
      })),
      {
        op: 'append_sql',
        path: dir,
        sql: "SELECT 'IBM' AS symbol, TIMESTAMP'2024-01-05 15:00:00.250001' AS ts, TIMESTAMP_NTZ'2024-01-05 10:00:00.000007' AS wall, 250.5D AS price, 9223372036854775807L AS size, CAST('-12345678901234567890.123456789012345678' AS DECIMAL(38,18)) AS amount, true AS flag, DATE'2024-01-05' AS date, 'XNYS' AS venue",
      },
      { op: 'read', path: dir },
    ]);
  });

  afterAll(async () => {
    await cleanup?.();
    await rm(`${dir}-before`, { recursive: true, force: true });
  });

  it('Spark reads the rows alphalake wrote, version by version, after evolution, OPTIMIZE and VACUUM', async () => {
    for (const [i, version] of versions.entries()) {
      const theirs = answers[i]!;
      expect(theirs.error, `Spark reading v${version}`).toBeUndefined();
      const reader = version === versions.at(-1) ? table : before;
      const snapshot = await reader.snapshot({ version });
      const ours = await reader.query({ snapshot });
      expect(theirs.version).toBe(version);
      expect(theirs.columns?.sort()).toEqual(snapshot.schema.map((c) => c.name).sort());
      if (version > 0) expect(ours.rows.length).toBeGreaterThan(0);
      expect(canonicalRows(ours.rows, snapshot.schema), `rows of v${version}`).toEqual(
        oracleRows(theirs.rows ?? []),
      );
    }
  });

  it('alphalake reads what Spark appended to the same table', async () => {
    const appended = answers[versions.length]!;
    const reread = answers[versions.length + 1]!;
    expect(appended.error).toBeUndefined();
    expect(reread.error).toBeUndefined();
    const snapshot = await table.snapshot();
    expect(snapshot.version).toBe(appended.version);
    const ours = await table.query({ snapshot });
    expect(canonicalRows(ours.rows, snapshot.schema)).toEqual(oracleRows(reread.rows ?? []));
    const ibm = ours.rows.find((r) => r.symbol === 'IBM');
    expect(ibm).toMatchObject({
      price: 250.5,
      size: 2n ** 63n - 1n,
      amount: '-12345678901234567890.123456789012345678',
      venue: 'XNYS',
      date: '2024-01-05',
    });
    expect(String(ibm?.ts)).toBe('2024-01-05T15:00:00.250001Z');
    expect(String(ibm?.wall)).toBe('2024-01-05T10:00:00.000007');
  });
});
