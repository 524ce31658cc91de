import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMedallion } from '../../src/batch/index.js';
import { loadConfig } from '../../src/config/index.js';
import { DAY_US, MILLISECOND_US } from '../../src/domain/index.js';
import { JobService, JobWorker, MongoJobBackend, type JobStatus } from '../../src/jobs/index.js';
import { localObjectStore } from '../../src/lake/index.js';
import { stopChildren } from '../support/processes.js';
import { simulatorOf } from '../support/simulator.js';
import { repoRoot, requireService } from './endpoints.js';
import { mongoDatabase } from './mongo-database.js';

/**
 * Workers sharing one MongoDB (the real MongoDB-wire server): a cron schedule run by two
 * workers executes each of its runs exactly once, and a job whose worker process is
 * killed (SIGKILL) mid-run is run again by another and completes, with every trade in
 * the lake exactly once.
 */
const CLI = path.join(repoRoot, 'dist', 'src', 'cli', 'main.js');

beforeAll(() => requireService('mongo'));

describe('two workers on one MongoDB', () => {
  const database = mongoDatabase('alphalake_workers');
  const backends: MongoJobBackend[] = [];
  const workers: JobWorker[] = [];

  afterAll(async () => {
    for (const worker of workers) await worker.stop();
    for (const backend of backends) await backend.disconnect();
    await database.drop();
  });

  it('runs each scheduled run exactly once (100 runs, counted)', async () => {
    const runs: { worker: string; dueAt: Date }[] = [];
    for (const name of ['worker-a', 'worker-b']) {
      // A client of its own per worker, as two processes would have.
      const backend = MongoJobBackend.create(database.uri);
      await backend.connect();
      backends.push(backend);
      const worker = new JobWorker(
        backend,
        {
          tables: {},
          backfillSources: {},
          refreshMasterData: async (_data, context) => {
            runs.push({ worker: name, dueAt: context.dueAt });
          },
        },
        {
          name,
          pollMs: 50,
          lockLifetimeMs: 60_000,
          maxRetries: 0,
          retryDelayMs: 0,
          // Every second (cron-parser's six-field form): one run per slot.
          schedules: { refreshMasterData: '* * * * * *' },
        },
      );
      workers.push(worker);
    }
    await Promise.all(workers.map((w) => w.start()));
    while (runs.length < 100) await sleep(200);
    for (const worker of workers.splice(0)) await worker.stop();

    const slots = runs.map((r) => r.dueAt.getTime());
    // Each run is a cron slot (a whole second), and no slot ran twice.
    expect(slots.every((ms) => ms % 1_000 === 0)).toBe(true);
    expect(new Set(slots).size).toBe(runs.length);
    // Agenda's own count agrees: one `start` per run, in the shared job log.
    const service = new JobService(
      backends[0]!,
      { tables: [], backfillSources: [] },
      { pollMs: 50 },
    );
    const [schedule] = (await service.list({ kind: 'refreshMasterData' })).jobs;
    expect(schedule).toMatchObject({ state: 'REPEATING', schedule: '* * * * * *' });
    const history = await service.history(schedule!.id, 10_000);
    expect(history.filter((e) => e.event === 'start')).toHaveLength(runs.length);
    const ranOn = (name: string) => runs.filter((r) => r.worker === name).length;
    console.log(
      `scheduled runs: ${runs.length} (worker-a ${ranOn('worker-a')}, worker-b ${ranOn('worker-b')})`,
    );
  });
});

describe('a worker killed mid-run', () => {
  const database = mongoDatabase('alphalake_kill');
  const home = mkdtempSync(path.join(tmpdir(), 'alphalake-kill-'));
  const children: ChildProcess[] = [];
  let backend: MongoJobBackend;

  const startWorker = (): ChildProcess => {
    const child = spawn(process.execPath, [CLI, 'worker', '--home', home], {
      env: {
        ...process.env,
        MONGODB_URI: database.uri,
        SIM_TRADES_PER_SECOND: '0.5',
        SIM_CALENDAR: '24x7',
        JOBS_POLL_MS: '100',
        JOBS_LOCK_LIFETIME_MS: '3000',
        JOBS_RETRY_DELAY_MS: '100',
        JOBS_COMPACT_CRON: '',
        JOBS_VACUUM_CRON: '',
        JOBS_CHECKPOINT_CRON: '',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    children.push(child);
    return child;
  };

  beforeAll(async () => {
    backend = MongoJobBackend.create(database.uri);
    await backend.connect();
  });

  afterAll(async () => {
    await stopChildren(children);
    await backend.disconnect();
    await database.drop();
    rmSync(home, { recursive: true, force: true });
  });

  it('runs the job again on another worker, and it completes with every trade once', async () => {
    const service = new JobService(
      backend,
      { tables: [], backfillSources: ['simulator'] },
      { pollMs: 100 },
    );
    // Two whole days of the simulator, well in the past: eight commits of six hours.
    const today = Math.floor((Date.now() * MILLISECOND_US) / DAY_US) * DAY_US;
    const to = today - 2 * DAY_US;
    const from = to - 2 * DAY_US;
    const { id } = await service.enqueue(
      'backfill',
      { source: 'simulator', symbols: [], from, to },
      'test',
    );
    const first = startWorker();
    let status: JobStatus | undefined;
    // Wait until the first worker is part-way: it has reported progress below 100%.
    do {
      await sleep(50);
      status = await service.get(id);
    } while (!(status?.state === 'RUNNING' && status.percent !== null && status.percent > 0));
    expect(status.percent).toBeLessThan(100);
    const killedAt = status.percent;
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    expect(first.signalCode).toBe('SIGKILL');
    expect((await service.get(id))?.state).toBe('RUNNING');

    startWorker();
    do {
      await sleep(100);
      status = await service.get(id);
    } while (status?.state !== 'COMPLETED' && status?.state !== 'FAILED');
    expect(status.state).toBe('COMPLETED');
    expect(status.percent).toBe(100);

    // The workers' simulator: default settings but for those their environment sets.
    const simulator = simulatorOf(
      loadConfig({ SIM_TRADES_PER_SECOND: '0.5', SIM_CALENDAR: '24x7' }),
    );
    let expected = 0;
    for (const second of simulator.tape(from, to, { quotes: false })) {
      expected += second.trades.length;
    }
    expect(status.rows).toBe(expected);
    const tables = await openMedallion(localObjectStore(path.join(home, 'lake')));
    const counted = await tables.trades.query({
      aggregate: {
        sql: () => 'SELECT count(*) AS n, count(DISTINCT (symbol, ts, seq)) AS ids FROM scan',
        output: [
          { name: 'n', type: 'long', nullable: false },
          { name: 'ids', type: 'long', nullable: false },
        ],
      },
    });
    // Counts below 2^53 as numbers or bigints alike: compared as exact integers.
    expect(counted.rows.map((r) => [BigInt(r.n as number), BigInt(r.ids as number)])).toEqual([
      [BigInt(expected), BigInt(expected)],
    ]);
    // The job log shows the takeover: a second start after the kill, and one success. The
    // lock is short (3 s, so the takeover is quick), and the worker renews it every second
    // while the job runs, not only on progress: a lake commit slower than 3 s on a loaded
    // machine no longer lets it lapse and the job run a third time.
    const events = (await service.history(id)).map((e) => e.event);
    expect(events.filter((e) => e === 'start')).toHaveLength(2);
    expect(events.filter((e) => e === 'success')).toHaveLength(1);
    console.log(`killed at ${killedAt}%: ${expected} trades in the lake once each`);
  });
});
