import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MINUTE_US } from '../../../src/domain/index.js';
import { EmbeddedJobBackend, JobService } from '../../../src/jobs/index.js';

/** The job service over the embedded store, with no worker: jobs stay queued. */
describe('job service', () => {
  let folder: string;
  let backend: EmbeddedJobBackend;
  let service: JobService;

  beforeEach(async () => {
    folder = mkdtempSync(path.join(os.tmpdir(), 'alphalake-job-service-'));
    backend = new EmbeddedJobBackend(path.join(folder, 'jobs'));
    await backend.connect();
    service = new JobService(
      backend,
      { tables: ['bronze.trades', 'silver.bars_1m'], backfillSources: ['simulator'] },
      { pollMs: 10 },
    );
  });

  afterEach(async () => {
    await backend.disconnect();
    rmSync(folder, { recursive: true, force: true });
  });

  it('enqueues a job to run now, with its request and who asked', async () => {
    const job = await service.enqueue(
      'vacuum',
      { table: 'bronze.trades', retentionHours: 200 },
      'ada',
    );
    expect(job).toMatchObject({
      kind: 'vacuum',
      state: 'QUEUED',
      percent: null,
      rows: null,
      lastError: null,
      failCount: 0,
      requestedBy: 'ada',
      request: { table: 'bronze.trades', retentionHours: 200 },
      schedule: null,
    });
    expect(await service.get(job.id)).toEqual(job);
  });

  it.each([
    ['compact', { table: 'gold.nothing' }, /no lake table "gold.nothing"/],
    ['vacuum', { table: 'bronze.trades', retentionHours: -1 }, /retentionHours/],
    [
      'backfill',
      { source: 'ftp', symbols: [], from: 0, to: MINUTE_US },
      /no backfill source "ftp"/,
    ],
    ['backfill', { source: 'simulator', symbols: [], from: MINUTE_US, to: MINUTE_US }, /from < to/],
    ['backfill', { source: 'simulator', symbols: [], from: 1, to: MINUTE_US }, /whole minutes/],
    ['retrain', { model: '' }, /model name/],
  ] as const)(
    'refuses %s %j with BAD_USER_INPUT before enqueueing',
    async (kind, request, message) => {
      await expect(service.enqueue(kind, request as never, 'ada')).rejects.toMatchObject({
        code: 'BAD_USER_INPUT',
        message: expect.stringMatching(message),
      });
      expect((await service.list()).total).toBe(0);
    },
  );

  it('pages jobs and filters them by kind and state', async () => {
    for (let i = 0; i < 3; i++) await service.enqueue('compact', { table: 'bronze.trades' }, 'ada');
    await service.enqueue('retrain', { model: 'lstm' }, 'ada');
    expect((await service.list({ kind: 'compact' })).total).toBe(3);
    const page = await service.list({ limit: 2, offset: 1 });
    expect(page.total).toBe(4);
    expect(page.jobs).toHaveLength(2);
    expect((await service.list({ state: 'QUEUED', limit: 1 })).total).toBe(4);
    expect((await service.list({ state: 'COMPLETED' })).total).toBe(0);
    await expect(service.list({ limit: 0 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('follows a job until the consumer closes, and stops polling then', async () => {
    const { id } = await service.enqueue('retrain', { model: 'lstm' }, 'ada');
    const statuses = service.watch(id);
    const first = await statuses.next();
    expect(first.value).toMatchObject({ id, state: 'QUEUED' });
    // No worker runs it: the next change never comes; closing must end the poll now.
    const pending = statuses.next();
    await statuses.return!();
    expect(await pending).toEqual({ value: undefined, done: true });
  });

  it('answers NOT_FOUND for an unknown job, and cancels a queued one', async () => {
    await expect(service.watch('AAAAAAAAAAAAAAAA').next()).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(await service.get('not an id')).toBeUndefined();
    const { id } = await service.enqueue('compact', { table: 'silver.bars_1m' }, 'ada');
    expect(await service.cancel(id)).toBe(true);
    expect(await service.get(id)).toBeUndefined();
    await expect(service.cancel(id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
