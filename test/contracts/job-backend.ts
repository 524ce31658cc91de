/**
 * The job store contract (src/jobs/job-backend.ts): Agenda's `JobRepository` and
 * `JobLogger`, and `recordRows`, held to one behaviour on every adapter.
 * `jobBackendContract(BACKENDS)` describes it once per backend; the unit tier runs it on
 * the embedded store (test/unit/jobs/), the services tier on the real MongoDB-wire
 * server (test/services/mongo-job-backend.test.ts). @agendajs/mongo-backend is the
 * reference: each expectation here is what it does on MongoDB.
 */
import { Agenda, toJobId, type JobParameters } from 'agenda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobBackend } from '../../src/jobs/index.js';

export interface JobBackendLocation {
  /** A new, unconnected backend over this location's storage. */
  open(): JobBackend;
  /** Removes the storage (a folder, a database); every backend on it is closed by then. */
  dispose(): Promise<void>;
}

export interface JobBackendFactory {
  readonly name: string;
  /**
   * Whether several backends (processes) may share one location at once: MongoDB yes;
   * the embedded store refuses a second one with HOME_LOCKED.
   */
  readonly shared: boolean;
  /** A fresh, empty location. */
  location(): Promise<JobBackendLocation>;
}

/** 2026-01-02T14:30:00.123Z: not on a second, so a lost millisecond would show. */
const T0 = new Date(Date.UTC(2026, 0, 2, 14, 30, 0, 123));
const at = (ms: number) => new Date(T0.getTime() + ms);

function job(name: string, fields: Partial<JobParameters> = {}): JobParameters {
  return { name, priority: 0, nextRunAt: T0, type: 'normal', data: {}, ...fields };
}

export function jobBackendContract(factories: readonly JobBackendFactory[]): void {
  for (const factory of factories) {
    describe(`job backend contract: ${factory.name}`, () => {
      let location: JobBackendLocation;
      let backend: JobBackend;
      const open: JobBackend[] = [];
      const connect = async () => {
        const opened = location.open();
        await opened.connect();
        open.push(opened);
        return opened;
      };

      beforeEach(async () => {
        location = await factory.location();
        backend = await connect();
      });

      afterEach(async () => {
        for (const b of open.splice(0)) await b.disconnect();
        await location.dispose();
      });

      it('saves a new job and reads it back field for field', async () => {
        const saved = await backend.repository.saveJob(
          job('lake.compact', {
            priority: 10,
            data: { table: 'silver.bars_1m', symbols: ['AAPL', 'MSFT'], big: 2 ** 53 - 1 },
            repeatInterval: '0 3 * * *',
            repeatTimezone: 'UTC',
          }),
          { lastModifiedBy: 'worker-a' },
        );
        expect(typeof saved._id).toBe('string');
        expect(backend.isJobId(saved._id!)).toBe(true);
        expect(backend.isJobId('no-such-job')).toBe(false);
        const read = await backend.repository.getJobById(saved._id!);
        expect(read).toMatchObject({
          _id: saved._id,
          name: 'lake.compact',
          priority: 10,
          nextRunAt: T0,
          type: 'normal',
          data: { table: 'silver.bars_1m', symbols: ['AAPL', 'MSFT'], big: 2 ** 53 - 1 },
          repeatInterval: '0 3 * * *',
          repeatTimezone: 'UTC',
          lastModifiedBy: 'worker-a',
        });
        expect(read?.nextRunAt?.getTime()).toBe(T0.getTime());
        expect(read?.lockedAt).toBeUndefined();
        expect(read?.failReason).toBeUndefined();
        expect(await backend.repository.getJobById(saved._id!.replace(/./g, '0'))).toBeNull();
      });

      it('updates a job by id and leaves a removed job as it was given', async () => {
        const saved = await backend.repository.saveJob(job('backfill', { data: { n: 1 } }), {});
        const updated = await backend.repository.saveJob({ ...saved, data: { n: 2 } }, {});
        expect(updated._id).toBe(saved._id);
        expect((await backend.repository.getJobById(saved._id!))?.data).toEqual({ n: 2 });
        expect(await backend.repository.removeJobs({ id: saved._id! })).toBe(1);
        const orphan = { ...saved, data: { n: 3 } };
        expect(await backend.repository.saveJob(orphan, {})).toBe(orphan);
        expect(await backend.repository.getJobById(saved._id!)).toBeNull();
      });

      it('keeps one job per name for type single, and a due schedule is not moved', async () => {
        const first = await backend.repository.saveJob(
          job('lake.vacuum', { type: 'single', nextRunAt: at(-60_000), priority: 1 }),
          {},
        );
        const second = await backend.repository.saveJob(
          job('lake.vacuum', { type: 'single', nextRunAt: at(-1_000), priority: 2 }),
          {},
        );
        expect(second._id).toBe(first._id);
        expect(second.priority).toBe(2);
        expect(second.nextRunAt).toEqual(at(-60_000));
        const future = new Date(Date.now() + 3_600_000);
        const third = await backend.repository.saveJob(
          job('lake.vacuum', { type: 'single', nextRunAt: future }),
          {},
        );
        expect(third.nextRunAt).toEqual(future);
        expect((await backend.repository.queryJobs({ name: 'lake.vacuum' })).total).toBe(1);
      });

      it('upserts on a unique key, and insertOnly leaves the existing job alone', async () => {
        const unique = { 'data.table': 'bronze.trades' };
        const a = await backend.repository.saveJob(
          { ...job('lake.compact', { data: { table: 'bronze.trades', run: 1 } }), unique },
          {},
        );
        const b = await backend.repository.saveJob(
          { ...job('lake.compact', { data: { table: 'bronze.trades', run: 2 } }), unique },
          {},
        );
        expect(b._id).toBe(a._id);
        expect(b.data).toEqual({ table: 'bronze.trades', run: 2 });
        const c = await backend.repository.saveJob(
          {
            ...job('lake.compact', { data: { table: 'bronze.trades', run: 3 } }),
            unique,
            uniqueOpts: { insertOnly: true },
          },
          {},
        );
        expect(c._id).toBe(a._id);
        expect(c.data).toEqual({ table: 'bronze.trades', run: 2 });
        const other = await backend.repository.saveJob(
          {
            ...job('lake.compact', { data: { table: 'silver.bars_1m' } }),
            unique: { 'data.table': 'silver.bars_1m' },
          },
          {},
        );
        expect(other._id).not.toBe(a._id);
        expect((await backend.repository.queryJobs({ name: 'lake.compact' })).total).toBe(2);
      });

      it('hands out due jobs soonest first, then by priority, each locked once', async () => {
        const r = backend.repository;
        const late = await r.saveJob(job('sync', { nextRunAt: at(-1_000), priority: 0 }), {});
        const urgent = await r.saveJob(job('sync', { nextRunAt: at(-1_000), priority: 10 }), {});
        const early = await r.saveJob(job('sync', { nextRunAt: at(-5_000), priority: 0 }), {});
        await r.saveJob(job('sync', { nextRunAt: at(60_000) }), {});
        await r.saveJob(job('compact', { nextRunAt: at(-9_000), priority: 20 }), {});
        await r.saveJob(job('sync', { nextRunAt: at(-9_000), disabled: true }), {});
        await r.saveJob(job('sync', { nextRunAt: new Date(Date.now() + 3_600_000) }), {});
        const lockAt = at(1);
        const next = () => r.getNextJobToRun('sync', T0, at(-600_000), lockAt, {});
        const order = [await next(), await next(), await next()];
        expect(order.map((j) => j?._id)).toEqual([early._id, urgent._id, late._id]);
        expect(order.map((j) => j?.lockedAt)).toEqual([lockAt, lockAt, lockAt]);
        expect(await next()).toBeUndefined();
        // Every job due before the real now (T0 is in the past), locked, disabled or not.
        expect(await r.getQueueSize()).toBe(6);
      });

      it('takes over a lock older than the lock deadline, never a fresh one', async () => {
        const r = backend.repository;
        const saved = await r.saveJob(job('backfill', { nextRunAt: null }), {});
        await r.saveJobState({ ...saved, lockedAt: at(-10_000) }, {});
        expect(await r.getNextJobToRun('backfill', T0, at(-20_000), T0, {})).toBeUndefined();
        const taken = await r.getNextJobToRun('backfill', T0, at(-5_000), T0, {});
        expect(taken?._id).toBe(saved._id);
        expect(taken?.lockedAt).toEqual(T0);
      });

      it('locks a job only while it is unlocked, enabled and still at the same nextRunAt', async () => {
        const r = backend.repository;
        const saved = await r.saveJob(job('compact', { nextRunAt: at(5) }), {});
        expect(await r.lockJob({ ...saved, nextRunAt: at(6) }, {})).toBeUndefined();
        const locked = await r.lockJob(saved, { lastModifiedBy: 'w1' });
        expect(locked?.lockedAt).toBeInstanceOf(Date);
        expect(locked?.lastModifiedBy).toBe('w1');
        expect(await r.lockJob(saved, {})).toBeUndefined();
        await r.unlockJob(saved);
        expect((await r.getJobById(saved._id!))?.lockedAt).toBeUndefined();
        await r.disableJobs({ id: saved._id! });
        expect(await r.lockJob(saved, {})).toBeUndefined();
      });

      it('unlockJob keeps the lock of a running one-time job; unlockJobs frees it', async () => {
        const r = backend.repository;
        const saved = await r.saveJob(job('backfill', { nextRunAt: null }), {});
        await r.saveJobState({ ...saved, lockedAt: T0 }, {});
        await r.unlockJob(saved);
        expect((await r.getJobById(saved._id!))?.lockedAt).toEqual(T0);
        await r.unlockJobs([saved._id!]);
        expect((await r.getJobById(saved._id!))?.lockedAt).toBeUndefined();
        await r.unlockJobs([]);
      });

      it('saves the processor state fields and refuses a job that is gone', async () => {
        const r = backend.repository;
        const saved = await r.saveJob(job('retrain'), {});
        await r.saveJobState(
          {
            ...saved,
            lockedAt: at(1),
            lastRunAt: at(2),
            lastFinishedAt: at(3),
            failedAt: at(3),
            failCount: 2,
            failReason: 'NOT_IMPLEMENTED: no model trainer is installed',
            progress: 37.5,
            nextRunAt: null,
          },
          { lastModifiedBy: 'w2' },
        );
        expect(await r.getJobById(saved._id!)).toMatchObject({
          lockedAt: at(1),
          lastRunAt: at(2),
          lastFinishedAt: at(3),
          failedAt: at(3),
          failCount: 2,
          failReason: 'NOT_IMPLEMENTED: no model trainer is installed',
          progress: 37.5,
          nextRunAt: null,
          lastModifiedBy: 'w2',
        });
        await r.removeJobs({ id: saved._id! });
        await expect(r.saveJobState(saved, {})).rejects.toThrow(/cannot be updated/);
      });

      it('queries by name, data, state and id with totals before pagination', async () => {
        const r = backend.repository;
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) {
          const saved = await r.saveJob(
            job('backfill', {
              nextRunAt: at(i * 1_000),
              data: { source: 'simulator', range: { index: i } },
            }),
            {},
          );
          ids.push(saved._id!);
        }
        await r.saveJob(job('compact', { data: { table: 'bronze.trades' } }), {});
        const done = await r.saveJob(job('vacuum', { nextRunAt: null }), {});
        await r.saveJobState({ ...done, lastRunAt: at(1), lastFinishedAt: at(2) }, {});
        const failed = await r.saveJob(job('retrain', { nextRunAt: null }), {});
        await r.saveJobState(
          { ...failed, lastRunAt: at(1), lastFinishedAt: at(2), failedAt: at(2), failCount: 1 },
          {},
        );

        const page = await r.queryJobs({
          name: 'backfill',
          sort: { nextRunAt: 'asc' },
          skip: 1,
          limit: 2,
        });
        expect(page.total).toBe(5);
        expect(page.jobs.map((j) => j._id)).toEqual(ids.slice(1, 3));
        const desc = await r.queryJobs({ name: 'backfill', sort: { nextRunAt: 'desc' } });
        expect(desc.jobs.map((j) => j._id)).toEqual([...ids].reverse());
        const byData = await r.queryJobs({ data: { range: { index: 3 } } });
        expect(byData.jobs.map((j) => j._id)).toEqual([ids[3]]);
        expect((await r.queryJobs({ names: ['compact', 'vacuum'] })).total).toBe(2);
        expect((await r.queryJobs({ search: 'BACK' })).total).toBe(5);
        expect((await r.queryJobs({ ids: [ids[0]!, done._id!] })).total).toBe(2);
        expect((await r.queryJobs({ id: failed._id! })).jobs[0]?.state).toBe('failed');
        expect((await r.queryJobs({ state: 'completed' })).jobs.map((j) => j._id)).toEqual([
          done._id,
        ]);
        expect((await r.queryJobs({ state: 'failed' })).jobs.map((j) => j._id)).toEqual([
          failed._id,
        ]);
        expect((await r.queryJobs({})).total).toBe(8);
        expect((await r.getDistinctJobNames()).sort()).toEqual([
          'backfill',
          'compact',
          'retrain',
          'vacuum',
        ]);
        const overview = (await r.getJobsOverview()).find((o) => o.name === 'retrain');
        expect(overview).toMatchObject({ total: 1, failed: 1, completed: 0 });
      });

      it('removes, disables and enables only what the options name, and counts it', async () => {
        const r = backend.repository;
        await r.saveJob(job('a', { data: { k: 1 } }), {});
        await r.saveJob(job('a', { data: { k: 2 } }), {});
        await r.saveJob(job('b'), {});
        await r.saveJob(job('c'), {});
        expect(await r.removeJobs({})).toBe(0);
        expect(await r.disableJobs({ name: 'a' })).toBe(2);
        expect(await r.disableJobs({ name: 'a' })).toBe(0);
        expect((await r.queryJobs({ includeDisabled: false })).total).toBe(2);
        expect((await r.queryJobs({ state: 'paused' })).total).toBe(2);
        expect(await r.enableJobs({ data: { k: 2 } })).toBe(1);
        expect(await r.removeJobs({ notNames: ['a'] })).toBe(2);
        expect(await r.removeJobs({ name: 'a', data: { k: 1 } })).toBe(1);
        expect(await r.purgeAllJobs()).toBe(1);
        expect((await r.queryJobs({})).total).toBe(0);
      });

      it('records rows done in the job data', async () => {
        const saved = await backend.repository.saveJob(
          job('backfill', { data: { source: 'simulator' } }),
          {},
        );
        await backend.recordRows(saved._id!, 12_345);
        expect((await backend.repository.getJobById(saved._id!))?.data).toEqual({
          source: 'simulator',
          rows: 12_345,
        });
        await backend.recordRows(toJobId(saved._id!.replace(/./g, 'f')), 1);
      });

      it('hands each due job to exactly one of many concurrent lockers', async () => {
        const r = backend.repository;
        for (let i = 0; i < 20; i++) await r.saveJob(job('sync', { nextRunAt: at(-i) }), {});
        const other = factory.shared ? await connect() : backend;
        const lockers = Array.from({ length: 30 }, (_, i) =>
          (i % 2 === 0 ? r : other.repository).getNextJobToRun('sync', T0, at(-60_000), T0, {}),
        );
        const got = (await Promise.all(lockers)).flatMap((j) => (j ? [j._id] : []));
        expect(got).toHaveLength(20);
        expect(new Set(got).size).toBe(20);
      });

      it(`${factory.shared ? 'lets' : 'refuses'} a second backend on the same location`, async () => {
        const second = location.open();
        if (factory.shared) {
          await second.connect();
          open.push(second);
          const saved = await backend.repository.saveJob(job('compact'), {});
          expect((await second.repository.getJobById(saved._id!))?.name).toBe('compact');
        } else {
          await expect(second.connect()).rejects.toMatchObject({ code: 'HOME_LOCKED' });
        }
      });

      it('keeps jobs, locks and history across a reconnect', async () => {
        const saved = await backend.repository.saveJob(job('backfill', { data: { n: 1 } }), {});
        await backend.repository.saveJobState({ ...saved, lockedAt: at(7), progress: 40 }, {});
        await backend.logger!.log({
          timestamp: at(8),
          level: 'info',
          event: 'start',
          jobId: saved._id!,
          jobName: 'backfill',
          message: 'job started',
        });
        await backend.disconnect();
        open.splice(open.indexOf(backend), 1);
        const again = await connect();
        expect(await again.repository.getJobById(saved._id!)).toMatchObject({
          data: { n: 1 },
          lockedAt: at(7),
          progress: 40,
        });
        const logs = await again.logger!.getLogs({ jobId: saved._id! });
        expect(logs.entries.map((e) => [e.event, e.timestamp])).toEqual([['start', at(8)]]);
      });

      it('logs history, filtered, newest first, paged and cleared', async () => {
        const logger = backend.logger!;
        const events = ['locked', 'start', 'fail', 'retry', 'start', 'success'] as const;
        for (const [i, event] of events.entries()) {
          await logger.log({
            timestamp: at(i),
            level: event === 'fail' ? 'error' : 'info',
            event,
            jobId: 'j1',
            jobName: 'backfill',
            message: event,
            ...(event === 'fail' ? { error: 'boom', failCount: 1 } : {}),
          });
        }
        await logger.log({
          timestamp: at(100),
          level: 'info',
          event: 'start',
          jobId: 'j2',
          jobName: 'compact',
          message: 'start',
        });
        const all = await logger.getLogs({ jobId: 'j1', limit: 3 });
        expect(all.total).toBe(6);
        expect(all.entries.map((e) => e.event)).toEqual(['success', 'start', 'retry']);
        const asc = await logger.getLogs({ jobName: 'backfill', sort: 'asc', offset: 1, limit: 2 });
        expect(asc.entries.map((e) => e.timestamp)).toEqual([at(1), at(2)]);
        const failures = await logger.getLogs({ level: 'error' });
        expect(failures.entries).toMatchObject([{ event: 'fail', error: 'boom', failCount: 1 }]);
        const window = await logger.getLogs({ event: ['start'], from: at(1), to: at(4) });
        expect(window.entries.map((e) => e.timestamp)).toEqual([at(4), at(1)]);
        expect(await logger.clearLogs({ jobId: 'j2' })).toBe(1);
        expect(await logger.clearLogs()).toBe(6);
      });

      it('runs jobs through Agenda: progress, retries with backoff, the final failure', async () => {
        const agenda = new Agenda({ backend, processEvery: 50, logging: true });
        const seen: number[] = [];
        let attempts = 0;
        agenda.define(
          'flaky',
          async (j) => {
            attempts++;
            await j.touch(50);
            seen.push((await backend.repository.getJobById(j.attrs._id!))?.progress ?? -1);
            if (attempts < 3) throw new Error(`attempt ${attempts} failed`);
          },
          { backoff: () => 10 },
        );
        agenda.define(
          'doomed',
          async () => {
            throw new Error('NOT_IMPLEMENTED: no trainer');
          },
          { backoff: (ctx) => (ctx.attempt <= 1 ? 10 : null) },
        );
        const finished = new Promise<void>((resolve) => {
          let count = 0;
          const done = () => ++count === 2 && resolve();
          agenda.on('success:flaky', done);
          agenda.on('retry exhausted:doomed', done);
        });
        await agenda.start();
        const flaky = await agenda.now('flaky', {});
        const doomed = await agenda.now('doomed', {});
        await finished;
        await agenda.stop(false);
        expect(attempts).toBe(3);
        expect(seen).toEqual([50, 50, 50]);
        const flakyState = await backend.repository.getJobById(flaky.attrs._id!);
        expect(flakyState?.lastFinishedAt).toBeInstanceOf(Date);
        const doomedState = await backend.repository.getJobById(doomed.attrs._id!);
        expect(doomedState).toMatchObject({
          failCount: 2,
          failReason: 'NOT_IMPLEMENTED: no trainer',
        });
        const history = await backend.logger!.getLogs({
          jobId: flaky.attrs._id!,
          sort: 'asc',
          limit: 100,
        });
        expect(history.entries.filter((e) => e.event === 'fail')).toHaveLength(2);
        expect(history.entries.filter((e) => e.event === 'success')).toHaveLength(1);
      });
    });
  }
}
