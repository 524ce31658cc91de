import {
  Agenda,
  backoffStrategies,
  type AgendaBackend,
  type Job,
  type JobParameters,
  type JobRepository,
} from 'agenda';
import { isAlphalakeError } from '../domain/index.js';
import type { JobBackend } from './job-backend.js';
import { JOB_KINDS, type JobKind } from './job-kinds.js';
import { jobHandlers, type JobContext, type JobResources } from './handlers.js';

export interface JobWorkerOptions {
  /** Shown as `lastModifiedBy` on the jobs this worker locks (host and pid by default). */
  readonly name: string;
  /** How often the worker looks for due jobs (ms). */
  readonly pollMs: number;
  /** A job whose lock is not renewed for this long is taken to be dead and run again (ms). */
  readonly lockLifetimeMs: number;
  /** Retries after a failure; then the job stays failed with its last error. */
  readonly maxRetries: number;
  /** Delay before the first retry (ms); each next one doubles, up to an hour. */
  readonly retryDelayMs: number;
  /** Cron expression (UTC) per kind of job run on a schedule; absent or empty: not scheduled. */
  readonly schedules: Readonly<Partial<Record<JobKind, string>>>;
  /** Jobs of one kind this worker runs at once. @default 1 */
  readonly concurrency?: number;
}

/** Marks the jobs a worker's schedules create, so a schedule turned off can be removed alone. */
export const SCHEDULED_BY = 'schedule';

const HOUR_MS = 3_600_000;

/**
 * Runs jobs: Agenda over a JobBackend, with a definition per kind of job (handlers.ts)
 * and the cron schedules from config. Agenda locks a job before running it
 * (`getNextJobToRun`, one atomic find-and-lock in the store) and retries a failed job with
 * exponential backoff; a job whose worker dies is run again once its lock is older than
 * `lockLifetimeMs`. The worker renews the lock on every progress report and also every
 * third of `lockLifetimeMs` while the handler runs: Agenda fails a running job whose lock
 * has expired (`checkIfJobIsStillAlive`), and a step slower than the lifetime between two
 * progress reports (a lake commit on a loaded machine) would otherwise run the job again.
 *
 * Errors that another attempt cannot fix (BAD_USER_INPUT, NOT_IMPLEMENTED) are not
 * retried. The worker does not own the backend: whoever opened it closes it.
 */
export class JobWorker {
  readonly #agenda: Agenda;
  readonly #options: JobWorkerOptions;
  readonly #backend: JobBackend;
  readonly #running = new Map<string, AbortController>();
  /** When each job this worker locked was due (its nextRunAt at the lock), by job id. */
  readonly #dueAt = new Map<string, Date>();

  constructor(backend: JobBackend, resources: JobResources, options: JobWorkerOptions) {
    this.#backend = backend;
    this.#options = options;
    this.#agenda = new Agenda({
      backend: recordingDueTimes(backend, this.#dueAt),
      name: options.name,
      processEvery: options.pollMs,
      defaultLockLifetime: options.lockLifetimeMs,
      defaultConcurrency: options.concurrency ?? 1,
      logging: true,
    });
    // Agenda reports a failing poll or store here; without a listener it would throw.
    this.#agenda.on('error', (error: Error) => console.error('alphalake jobs:', error.message));
    const handlers = jobHandlers(resources);
    const backoff = backoffStrategies.when(
      ({ error }) =>
        !isAlphalakeError(error, 'BAD_USER_INPUT') && !isAlphalakeError(error, 'NOT_IMPLEMENTED'),
      backoffStrategies.exponential({
        delay: options.retryDelayMs,
        factor: 2,
        maxDelay: HOUR_MS,
        maxRetries: options.maxRetries,
        jitter: 0,
      }),
    );
    for (const kind of Object.keys(JOB_KINDS) as JobKind[]) {
      const handler = handlers[kind] as (data: unknown, context: JobContext) => Promise<void>;
      this.#agenda.define(
        JOB_KINDS[kind],
        async (job: Job<Record<string, unknown>>) => {
          const id = String(job.attrs._id);
          const controller = new AbortController();
          this.#running.set(id, controller);
          const dueAt = this.#dueAt.get(id) ?? job.attrs.lastRunAt ?? new Date();
          this.#dueAt.delete(id);
          let percent: number | undefined;
          // A failed renewal is left to the next one, or to the next progress report, which
          // throws if the job was cancelled. One at a time, and none after the handler: a
          // late one would lock the finished job again.
          let renewing: Promise<void> | undefined;
          const renewal = setInterval(
            () =>
              (renewing ??= job
                .touch(percent)
                .catch(() => undefined)
                .finally(() => (renewing = undefined))),
            Math.max(1, Math.floor(options.lockLifetimeMs / 3)),
          );
          try {
            await handler(job.attrs.data, {
              jobId: id,
              signal: controller.signal,
              dueAt,
              progress: async ({ percent: reported, rows }) => {
                // touch() renews the lock and stores the percentage (and throws if the job
                // was cancelled meanwhile); the rows go beside it.
                percent = Math.max(0, Math.min(100, reported));
                await job.touch(percent);
                if (rows !== undefined) await this.#backend.recordRows(id, rows);
              },
            });
          } finally {
            clearInterval(renewal);
            await renewing;
            this.#running.delete(id);
          }
        },
        { backoff },
      );
    }
  }

  /** Registers the schedules (one job per kind, shared by every worker) and starts polling. */
  async start(): Promise<void> {
    await this.#agenda.start();
    for (const kind of Object.keys(JOB_KINDS) as JobKind[]) {
      const cron = this.#options.schedules[kind];
      const name = JOB_KINDS[kind];
      if (cron) {
        await this.#agenda.every(cron, name, { requestedBy: SCHEDULED_BY }, { timezone: 'UTC' });
      } else {
        await this.#agenda.cancel({ name, data: { requestedBy: SCHEDULED_BY } });
      }
    }
  }

  /** Stops polling; running jobs are aborted and unlocked, so another worker retries them. */
  async stop(): Promise<void> {
    for (const controller of this.#running.values()) controller.abort();
    await this.#agenda.stop(false);
  }
}

/**
 * The backend as Agenda sees it, noting when each job it locks was due: Agenda moves
 * `nextRunAt` on before the handler runs, and a scheduled run is known by the time it
 * was due (the cron slot), which the handler gets as `JobContext.dueAt`.
 */
function recordingDueTimes(backend: JobBackend, dueAt: Map<string, Date>): AgendaBackend {
  const note = (job: JobParameters | undefined) => {
    if (job?._id && job.nextRunAt) dueAt.set(String(job._id), new Date(job.nextRunAt));
    return job;
  };
  const repository = new Proxy(backend.repository, {
    get(target, property) {
      if (property === 'getNextJobToRun') {
        return (...args: Parameters<JobRepository['getNextJobToRun']>) =>
          target.getNextJobToRun(...args).then(note);
      }
      if (property === 'lockJob') {
        return (...args: Parameters<JobRepository['lockJob']>) =>
          target.lockJob(...args).then(note);
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
  return {
    name: backend.name,
    repository,
    logger: backend.logger,
    notificationChannel: undefined,
    ownsConnection: false,
    connect: () => backend.connect(),
    disconnect: () => backend.disconnect(),
  };
}
