import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeltaTable, LakeTimestamp } from '../../../src/lake/index.js';
import { isAlphalakeError } from '../../../src/domain/index.js';
import { TRADE_SCHEMA, trades, useTempStore } from './helpers.js';

describe('DeltaTable on a local folder', () => {
  const temp = useTempStore();

  const create = () =>
    DeltaTable.create(temp.store, 'bronze/trades', {
      schema: TRADE_SCHEMA,
      partitionColumns: ['date'],
      clusterBy: ['symbol', 'ts'],
    });

  it('refuses to open a folder without a log', async () => {
    await expect(DeltaTable.open(temp.store, 'nothing')).rejects.toSatisfy((e) =>
      isAlphalakeError(e, 'NOT_FOUND'),
    );
  });

  it('creates, appends and reads back rows with their types', async () => {
    const table = await create();
    const result = await table.append(trades('AAPL', '2024-01-02', 10), {
      txn: { appId: 'sink', version: 1 },
      commitInfo: { offsets: { trades: 10 } },
    });
    expect(result).toMatchObject({ version: 1, addedFiles: 1, rows: 10 });
    const snapshot = await table.snapshot();
    expect(snapshot.version).toBe(1);
    expect(snapshot.txnVersion('sink')).toBe(1);
    expect(snapshot.partitionColumns).toEqual(['date']);
    const { rows } = await table.query({ orderBy: [{ column: 'id' }] });
    expect(rows).toHaveLength(10);
    expect(rows[0]).toEqual({
      symbol: 'AAPL',
      ts: new LakeTimestamp(BigInt(Date.parse('2024-01-02T14:30:00Z')) * 1000n),
      price: 100,
      size: 100,
      id: 0,
      date: '2024-01-02',
    });
    expect(await table.commitInfo(1)).toMatchObject({
      operation: 'WRITE',
      offsets: { trades: 10 },
    });
    // Partition folder and stats on the add action.
    const files = await readdir(path.join(temp.dir, 'bronze/trades/date=2024-01-02'));
    expect(files.some((f) => f.endsWith('.parquet'))).toBe(true);
    const commit = await readFile(
      path.join(temp.dir, 'bronze/trades/_delta_log/00000000000000000001.json'),
      'utf8',
    );
    const add = commit
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((a) => a['add']);
    const stats = JSON.parse((add?.['add'] as { stats: string }).stats) as Record<
      string,
      Record<string, unknown>
    >;
    expect(stats['numRecords']).toBe(10);
    expect(stats['minValues']).toMatchObject({
      symbol: 'AAPL',
      size: 100,
      ts: '2024-01-02T14:30:00.000Z',
    });
    expect(stats['maxValues']).toMatchObject({ size: 109, ts: '2024-01-02T14:30:09.000Z' });
    expect(stats['nullCount']).toMatchObject({ id: 0 });
  });

  it('refuses a txn version that is not newer than the last one', async () => {
    const table = await create();
    await table.append(trades('AAPL', '2024-01-02', 3), { txn: { appId: 'sink', version: 5 } });
    await expect(
      table.append(trades('AAPL', '2024-01-02', 3), { txn: { appId: 'sink', version: 5 } }),
    ).rejects.toSatisfy((e) => isAlphalakeError(e, 'CONFLICT'));
    const { rows } = await table.query({});
    expect(rows).toHaveLength(3);
  });

  it('commits several txns at once (one per source partition) and checks each', async () => {
    const table = await create();
    const p = (partition: number, version: number) => ({
      appId: `lake-sink:trades:${partition}`,
      version,
    });
    await table.append(trades('AAPL', '2024-01-02', 2), { txns: [p(0, 10), p(1, 7)] });
    const snapshot = await table.snapshot();
    expect([snapshot.txnVersion(p(0, 0).appId), snapshot.txnVersion(p(1, 0).appId)]).toEqual([
      10, 7,
    ]);
    // One partition not newer refuses the whole commit.
    await expect(
      table.append(trades('AAPL', '2024-01-02', 1), { txns: [p(0, 11), p(1, 7)] }),
    ).rejects.toSatisfy((e) => isAlphalakeError(e, 'CONFLICT'));
    // Concurrent commits from one snapshot: sharing any appId, one of them loses ...
    const shared = await Promise.allSettled([
      table.append(trades('AAPL', '2024-01-02', 1), { txns: [p(0, 20), p(1, 20)] }),
      table.append(trades('AAPL', '2024-01-02', 1), { txns: [p(1, 30), p(2, 5)] }),
    ]);
    expect(shared.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const lost = shared.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(isAlphalakeError(lost.reason, 'CONFLICT')).toBe(true);
    // ... sharing none, both commit.
    const apart = await Promise.allSettled([
      table.append(trades('AAPL', '2024-01-02', 1), { txns: [p(3, 1)] }),
      table.append(trades('AAPL', '2024-01-02', 1), { txns: [p(4, 1)] }),
    ]);
    expect(apart.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    const { rows } = await table.query({});
    expect(rows).toHaveLength(2 + 1 + 2);
  });

  it('commits a batch of offsets only right after the previous one (txn expected)', async () => {
    const table = await create();
    const appId = 'lake-sink:trades:0';
    await table.append(trades('AAPL', '2024-01-02', 1), {
      txns: [{ appId, version: 10, expected: 0 }],
    });
    // Another writer got to 10 first: a batch that starts at 12 (a gap) or at 5 (an overlap) is refused.
    for (const expected of [12, 5]) {
      await expect(
        table.append(trades('AAPL', '2024-01-02', 1), { txns: [{ appId, version: 15, expected }] }),
      ).rejects.toSatisfy((e) => isAlphalakeError(e, 'CONFLICT'));
    }
    await table.append(trades('AAPL', '2024-01-02', 1), {
      txns: [{ appId, version: 15, expected: 10 }],
    });
    expect((await table.snapshot()).txnVersion(appId)).toBe(15);
    expect((await table.query({})).rows).toHaveLength(2);
  });

  it('prunes by partition and stats and filters with parameters', async () => {
    const table = await create();
    await table.append([...trades('AAPL', '2024-01-02', 5), ...trades('MSFT', '2024-01-02', 5)]);
    await table.append(trades('AAPL', '2024-01-03', 5));
    await table.append(trades('MSFT', '2024-01-03', 5));
    const result = await table.query({
      filters: [
        { column: 'symbol', op: '=', value: 'MSFT' },
        { column: 'date', op: '=', value: '2024-01-03' },
        { column: 'ts', op: '>=', value: new Date('2024-01-03T14:30:02Z') },
      ],
      orderBy: [{ column: 'ts', desc: true }],
    });
    expect(result.filesTotal).toBe(3);
    expect(result.filesScanned).toBe(1);
    expect(result.rows.map((r) => r['size'])).toEqual([104, 103, 102]);
    const injection = await table.query({
      filters: [{ column: 'symbol', op: '=', value: "x' OR 1=1 --" }],
    });
    expect(injection.rows).toEqual([]);
    const inFilter = await table.query({
      filters: [{ column: 'symbol', op: 'in', value: ['MSFT', 'IBM'] }],
      columns: ['symbol'],
    });
    expect(inFilter.rows).toHaveLength(10);
  });

  it('time travels by version and timestamp, and lists history', async () => {
    const table = await create();
    await table.append(trades('AAPL', '2024-01-02', 2));
    const afterFirst = new Date();
    await new Promise((r) => setTimeout(r, 20));
    await table.append(trades('AAPL', '2024-01-03', 3));
    const v1 = await table.snapshot({ version: 1 });
    expect((await table.query({ snapshot: v1 })).rows).toHaveLength(2);
    const byTime = await table.snapshot({ timestamp: afterFirst });
    expect(byTime.version).toBe(1);
    const history = await table.history();
    expect(history.map((h) => h.version)).toEqual([2, 1, 0]);
    expect(history[0]?.operationMetrics).toMatchObject({ numOutputRows: '3' });
    await expect(table.snapshot({ version: 9 })).rejects.toSatisfy((e) =>
      isAlphalakeError(e, 'NOT_FOUND'),
    );
  });

  it('overwrites one partition only', async () => {
    const table = await create();
    await table.append([...trades('AAPL', '2024-01-02', 4), ...trades('AAPL', '2024-01-03', 4)]);
    const result = await table.overwrite(trades('AAPL', '2024-01-02', 1), {
      partitionFilter: [{ column: 'date', op: '=', value: '2024-01-02' }],
    });
    expect(result.removedFiles).toBe(1);
    const { rows } = await table.query({ columns: ['date'] });
    expect(rows.filter((r) => r['date'] === '2024-01-02')).toHaveLength(1);
    expect(rows.filter((r) => r['date'] === '2024-01-03')).toHaveLength(4);
    await expect(
      table.overwrite(trades('AAPL', '2024-01-05', 1), {
        partitionFilter: [{ column: 'date', op: '=', value: '2024-01-02' }],
      }),
    ).rejects.toSatisfy((e) => isAlphalakeError(e, 'BAD_USER_INPUT'));
  });

  it('accepts a columnar batch with dictionary-encoded strings', async () => {
    const table = await create();
    const n = 5000;
    // Epoch µs, one microsecond apart.
    const ts = new Float64Array(n).map((_, i) => Date.parse('2024-01-02T14:30:00Z') * 1000 + i);
    await table.append({
      length: n,
      columns: {
        symbol: {
          dictionary: ['AAPL', 'MSFT'],
          codes: Int32Array.from({ length: n }, (_, i) => i % 2),
        },
        ts,
        price: new Float64Array(n).fill(1.5),
        size: Float64Array.from({ length: n }, (_, i) => i),
        date: Array.from({ length: n }, () => '2024-01-02'),
      },
    });
    const result = await table.query({
      filters: [{ column: 'symbol', op: '=', value: 'MSFT' }],
      columns: ['size', 'id'],
    });
    expect(result.rows).toHaveLength(n / 2);
    expect(result.rows[0]).toEqual({ size: expect.any(Number) as number, id: null });
  });

  it('rejects unknown columns unless merging, then evolves the schema', async () => {
    const table = await create();
    await table.append(trades('AAPL', '2024-01-02', 2));
    const extra = trades('AAPL', '2024-01-02', 2).map((r) => ({ ...r, venue: 'XNAS' }));
    await expect(table.append(extra)).rejects.toSatisfy((e) =>
      isAlphalakeError(e, 'SCHEMA_MISMATCH'),
    );
    await table.append(extra, { schemaMode: 'merge' });
    const snapshot = await table.snapshot();
    expect(snapshot.schema.map((c) => c.name)).toContain('venue');
    const { rows } = await table.query({ columns: ['venue'] });
    expect(rows.map((r) => r['venue']).sort()).toEqual(['XNAS', 'XNAS', null, null]);
  });
});
