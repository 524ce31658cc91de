import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedJobBackend, JobService, JobWorker } from '../../../src/jobs/index.js';

/** The job worker over the embedded store: its lock stays held while a job runs. */
describe('job worker', () => {
  let folder: string;
  let backend: EmbeddedJobBackend;
  let worker: JobWorker | undefined;

  beforeEach(async () => {
    folder = mkdtempSync(path.join(os.tmpdir(), 'alphalake-job-worker-'));
    backend = new EmbeddedJobBackend(path.join(folder, 'jobs'));
    await backend.connect();
  });

  afterEach(async () => {
    await worker?.stop();
    await backend.disconnect();
    rmSync(folder, { recursive: true, force: true });
  });

  it('keeps the lock of a job that reports no progress for longer than the lock lifetime', async () => {
    const lockLifetimeMs = 1_000;
    let runs = 0;
    worker = new JobWorker(
      backend,
      {
        tables: {},
        backfillSources: {},
        // Three lock lifetimes without a progress report (a slow lake commit, say): Agenda
        // fails a running job whose lock has expired (`expired`), and it would run again.
        refreshMasterData: async () => {
          runs++;
          await sleep(3 * lockLifetimeMs);
        },
      },
      {
        name: 'worker-a',
        pollMs: 20,
        lockLifetimeMs,
        maxRetries: 3,
        retryDelayMs: 0,
        schedules: {},
      },
    );
    const service = new JobService(backend, { tables: [], backfillSources: [] }, { pollMs: 20 });
    const { id } = await service.enqueue('refreshMasterData', {}, 'ada');
    await worker.start();
    let state: string | undefined;
    do {
      await sleep(20);
      state = (await service.get(id))?.state;
    } while (state !== 'COMPLETED' && state !== 'FAILED');
    expect(state).toBe('COMPLETED');
    expect(runs).toBe(1);
    const events = (await service.history(id)).map((e) => e.event);
    expect(events.filter((e) => e === 'start')).toHaveLength(1);
    expect(events.filter((e) => e === 'expired')).toHaveLength(0);
    expect(events.filter((e) => e === 'success')).toHaveLength(1);
  });
});
