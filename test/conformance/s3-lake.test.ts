import { randomUUID } from 'node:crypto';
import { beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import {
  DeltaTable,
  LakeTimestamp,
  s3ObjectStore,
  type ObjectStore,
} from '../../src/lake/index.js';
import { endpoints, requireService } from '../services/endpoints.js';
import { tempDir } from '../unit/lake/helpers.js';
import { expectConcurrentAppendsExactlyOnce, runWorker } from './harness.js';

/** The lake on the S3 server of the services tier (conditional PUT with If-None-Match). */
describe('the lake on S3', () => {
  let cacheDir: string;
  let cleanup: () => Promise<void>;
  let prefix: string;
  let store: ObjectStore;

  beforeAll(() => requireService('s3'));
  beforeEach(async () => {
    ({ dir: cacheDir, cleanup } = await tempDir('alphalake-s3-cache-'));
    prefix = `lake-test/${randomUUID()}`;
    store = s3ObjectStore({
      bucket: endpoints.s3.bucket,
      prefix,
      endpoint: endpoints.s3.endpoint,
      region: endpoints.s3.region,
      forcePathStyle: true,
      credentials: {
        accessKeyId: endpoints.s3.accessKeyId,
        secretAccessKey: endpoints.s3.secretAccessKey,
      },
      cacheDir,
    });
  });
  afterEach(() => cleanup());

  it('puts if absent, lists by prefix, reads ranges, deletes', async () => {
    const bytes = new TextEncoder().encode('0123456789');
    expect(await store.putIfAbsent('a/b.json', bytes)).toBe(true);
    expect(await store.putIfAbsent('a/b.json', bytes)).toBe(false);
    await store.put('a/c.bin', bytes);
    expect((await store.list('a/')).map((o) => o.key)).toEqual(['a/b.json', 'a/c.bin']);
    expect(new TextDecoder().decode(await store.get('a/c.bin', { start: 2, end: 5 }))).toBe('234');
    await store.delete(['a/b.json', 'a/c.bin']);
    expect(await store.list('a/')).toEqual([]);
  });

  it('creates, appends, queries with pruning, checkpoints', async () => {
    const table = await DeltaTable.create(store, 'bronze/trades', {
      schema: [
        { name: 'symbol', type: 'string', nullable: false },
        { name: 'ts', type: 'timestamp', nullable: false },
        { name: 'date', type: 'date', nullable: false },
      ],
      partitionColumns: ['date'],
      clusterBy: ['symbol', 'ts'],
      properties: { 'delta.checkpointInterval': '2' },
    });
    await table.append([
      { symbol: 'AAPL', ts: new Date('2024-01-02T15:00:00Z'), date: '2024-01-02' },
    ]);
    await table.append([{ symbol: 'MSFT', ts: '2024-01-03T15:00:00.000001Z', date: '2024-01-03' }]);
    const fresh = await DeltaTable.open(store, 'bronze/trades');
    const result = await fresh.query({
      filters: [{ column: 'date', op: '=', value: '2024-01-03' }],
    });
    expect(result.rows).toEqual([
      { symbol: 'MSFT', ts: new LakeTimestamp(1_704_294_000_000_001n), date: '2024-01-03' },
    ]);
    expect(String(result.rows[0]?.['ts'])).toBe('2024-01-03T15:00:00.000001Z');
    expect(result.filesScanned).toBe(1);
    expect((await store.list('bronze/trades/_delta_log/')).map((o) => o.key)).toContain(
      'bronze/trades/_delta_log/00000000000000000002.checkpoint.parquet',
    );
  });

  it('8 processes × 25 appends: contiguous versions, every row exactly once', async () => {
    const env = {
      LAKE_TEST_S3_BUCKET: endpoints.s3.bucket,
      LAKE_TEST_S3_PREFIX: prefix,
      LAKE_TEST_S3_ENDPOINT: endpoints.s3.endpoint,
      LAKE_TEST_S3_KEY: endpoints.s3.accessKeyId,
      LAKE_TEST_S3_SECRET: endpoints.s3.secretAccessKey,
    };
    await expectConcurrentAppendsExactlyOnce(store, (w, appends) =>
      runWorker([`${cacheDir}/w${w}`, 't', String(w), String(appends)], env),
    );
  });
});
