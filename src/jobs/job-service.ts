import type { JobLogEntry, JobParameters } from 'agenda';
import { setTimeout as sleep } from 'node:timers/promises';
import { AlphalakeError, invariant, MINUTE_US } from '../domain/index.js';
import type { JobBackend } from './job-backend.js';
import {
  JOB_KINDS,
  kindOfName,
  type JobBookkeeping,
  type JobDataOf,
  type JobKind,
} from './job-kinds.js';

/**
 * Where a job is. Agenda's own states, with a failure that will be retried told apart
 * from a final one: `RETRYING` has a next attempt scheduled, `FAILED` does not.
 */
export const JOB_STATES = [
  'QUEUED',
  'SCHEDULED',
  'RUNNING',
  'RETRYING',
  'COMPLETED',
  'FAILED',
  'REPEATING',
  'PAUSED',
] as const;
export type JobState = (typeof JOB_STATES)[number];

/** A job as the API shows it. */
export interface JobStatus {
  readonly id: string;
  readonly kind: JobKind;
  readonly state: JobState;
  /** 0–100 as last reported by the running job; null before it reports. */
  readonly percent: number | null;
  /** Rows done so far; null for jobs that do not count rows. */
  readonly rows: number | null;
  /** The reason of the last failure (`NOT_IMPLEMENTED: …` for a job whose code is missing). */
  readonly lastError: string | null;
  readonly failCount: number;
  readonly requestedBy: string | null;
  /** The request, as enqueued (the job's data less bookkeeping). */
  readonly request: Readonly<Record<string, unknown>>;
  /** Cron expression of a scheduled job. */
  readonly schedule: string | null;
  readonly nextRunAt: Date | null;
  readonly lastRunAt: Date | null;
  readonly lastFinishedAt: Date | null;
}

/** One entry of a job's history: what happened to it, when, and on which worker. */
export interface JobEvent {
  readonly at: Date;
  readonly event: string;
  readonly message: string;
  readonly error: string | null;
  readonly worker: string | null;
}

export interface JobCatalog {
  /** The lake's tables by dotted name: maintenance requests must name one of them. */
  readonly tables: readonly string[];
  /** Backfill sources registered with the worker. */
  readonly backfillSources: readonly string[];
  /** Reference-data sources `mdm.refresh` may name (`polygon`, `yahoo`). @default none */
  readonly referenceSources?: readonly string[];
}

export interface JobQuery {
  readonly kind?: JobKind;
  readonly state?: JobState;
  /** @default 50 */
  readonly limit?: number;
  /** @default 0 */
  readonly offset?: number;
}

/** Most jobs a list returns at once. */
export const MAX_JOB_PAGE = 500;

/**
 * Jobs as the API sees them: enqueue (a job the next free worker runs), read status,
 * progress and history, follow one to its end, cancel. It talks to the job store only,
 * never to a worker, so the API and the workers may be different processes (they share
 * MongoDB) or one (the embedded store).
 */
export class JobService {
  readonly #backend: JobBackend;
  readonly #catalog: JobCatalog;
  readonly #pollMs: number;

  constructor(backend: JobBackend, catalog: JobCatalog, options: { readonly pollMs: number }) {
    this.#backend = backend;
    this.#catalog = catalog;
    this.#pollMs = options.pollMs;
  }

  /** Enqueues a job to run now; BAD_USER_INPUT for a request no worker could run. */
  async enqueue<K extends JobKind>(
    kind: K,
    request: JobDataOf[K],
    requestedBy: string,
  ): Promise<JobStatus> {
    this.#check(kind, request);
    const data: JobDataOf[K] & JobBookkeeping = { ...request, requestedBy };
    const saved = await this.#backend.repository.saveJob(
      { name: JOB_KINDS[kind], data, type: 'normal', priority: 0, nextRunAt: new Date() },
      { lastModifiedBy: requestedBy },
    );
    return statusOf(saved);
  }

  async get(id: string): Promise<JobStatus | undefined> {
    if (!this.#backend.isJobId(id)) return undefined;
    const job = await this.#backend.repository.getJobById(id);
    return job && kindOfName(job.name) ? statusOf(job) : undefined;
  }

  /** Newest first (by next, then last run), with the total before paging. */
  async list(query: JobQuery = {}): Promise<{ jobs: JobStatus[]; total: number }> {
    const limit = query.limit ?? 50;
    const offset = query.offset ?? 0;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_JOB_PAGE) {
      throw new AlphalakeError('BAD_USER_INPUT', `limit must be 1…${MAX_JOB_PAGE}`, { limit });
    }
    if (!Number.isInteger(offset) || offset < 0) {
      throw new AlphalakeError('BAD_USER_INPUT', 'offset must be 0 or more', { offset });
    }
    const names = query.kind ? [JOB_KINDS[query.kind]] : Object.values(JOB_KINDS);
    const sort = { nextRunAt: 'desc', lastRunAt: 'desc' } as const;
    if (query.state === undefined) {
      const { jobs, total } = await this.#backend.repository.queryJobs({
        names,
        sort,
        skip: offset,
        limit,
      });
      return { jobs: jobs.map(statusOf), total };
    }
    // RETRYING and FAILED are both Agenda's `failed`: filter on our own states.
    const { jobs } = await this.#backend.repository.queryJobs({ names, sort });
    const matching = jobs.map(statusOf).filter((job) => job.state === query.state);
    return { jobs: matching.slice(offset, offset + limit), total: matching.length };
  }

  /** What happened to a job, oldest first (from the store's job log). */
  async history(id: string, limit = 200): Promise<JobEvent[]> {
    const logger = this.#backend.logger;
    if (!logger) return [];
    const { entries } = await logger.getLogs({ jobId: id, sort: 'asc', limit });
    // The store sorts by timestamp alone (MongoDB's logger too), and Agenda often logs
    // `success` and `complete` in one millisecond: within a millisecond, the job's
    // lifecycle decides. Array.prototype.sort is stable, so distinct times keep their order.
    return entries
      .sort(
        (a, b) =>
          new Date(a.timestamp).getTime() - new Date(b.timestamp).getTime() ||
          LIFECYCLE_RANK[a.event] - LIFECYCLE_RANK[b.event],
      )
      .map(eventOf);
  }

  /**
   * The job's status now, then each change of its state, progress, rows or error, until
   * it completes or finally fails (the last status says which). NOT_FOUND for an unknown
   * id; ends early when the signal aborts or the consumer returns (a closed
   * subscription stops polling at once). The store is polled (every JOBS_POLL_MS), so a
   * worker in another process is followed as well as one in this process.
   */
  watch(id: string, signal?: AbortSignal): AsyncIterableIterator<JobStatus> {
    const stop = new AbortController();
    signal?.addEventListener('abort', () => stop.abort(), { once: true });
    const statuses = this.#follow(id, stop.signal);
    return {
      next: () => statuses.next(),
      async return() {
        stop.abort();
        await statuses.return(undefined);
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  async *#follow(id: string, signal: AbortSignal): AsyncGenerator<JobStatus, void> {
    let last: string | undefined;
    while (!signal.aborted) {
      const status = await this.get(id);
      if (!status) {
        if (last === undefined) throw new AlphalakeError('NOT_FOUND', `no job ${id}`, { id });
        return;
      }
      const fingerprint = JSON.stringify([
        status.state,
        status.percent,
        status.rows,
        status.lastError,
        status.failCount,
      ]);
      if (fingerprint !== last) {
        last = fingerprint;
        yield status;
      }
      if (status.state === 'COMPLETED' || status.state === 'FAILED') return;
      try {
        await sleep(this.#pollMs, undefined, { signal });
      } catch {
        return;
      }
    }
  }

  /** Removes a job that has not finished; a running one stops at its next progress report. */
  async cancel(id: string): Promise<boolean> {
    const status = await this.get(id);
    if (!status) throw new AlphalakeError('NOT_FOUND', `no job ${id}`, { id });
    return (await this.#backend.repository.removeJobs({ id })) > 0;
  }

  #check(kind: JobKind, request: unknown): void {
    const data = request as Record<string, unknown>;
    const table = data.table;
    if (typeof table === 'string' && !this.#catalog.tables.includes(table)) {
      throw new AlphalakeError(
        'BAD_USER_INPUT',
        `no lake table "${table}"; tables: ${this.#catalog.tables.join(', ')}`,
        { table },
      );
    }
    if (kind === 'vacuum' && data.retentionHours !== undefined) {
      const hours = data.retentionHours;
      if (typeof hours !== 'number' || !Number.isFinite(hours) || hours < 0) {
        throw new AlphalakeError('BAD_USER_INPUT', 'retentionHours must be 0 or more', {
          retentionHours: String(hours),
        });
      }
    }
    if (kind === 'backfill') {
      const { source, from, to } = data as { source: string; from: number; to: number };
      if (!this.#catalog.backfillSources.includes(source)) {
        throw new AlphalakeError(
          'BAD_USER_INPUT',
          `no backfill source "${source}"; sources: ${this.#catalog.backfillSources.join(', ')}`,
          { source },
        );
      }
      if (!(from < to)) {
        throw new AlphalakeError('BAD_USER_INPUT', 'a backfill needs from < to', { from, to });
      }
      if (from % MINUTE_US !== 0 || to % MINUTE_US !== 0) {
        throw new AlphalakeError(
          'BAD_USER_INPUT',
          'a backfill range starts and ends on whole minutes (the lake commits history by the minute)',
          { from, to },
        );
      }
    }
    if (kind === 'refreshMasterData') {
      const { source, symbols } = data as { source?: unknown; symbols?: unknown };
      const sources = this.#catalog.referenceSources ?? [];
      if (source !== undefined && !sources.includes(source as string)) {
        throw new AlphalakeError(
          'BAD_USER_INPUT',
          `no reference source "${String(source)}"; sources: ${sources.join(', ') || 'none'}`,
          { source: String(source) },
        );
      }
      if (
        symbols !== undefined &&
        !(Array.isArray(symbols) && symbols.every((s) => typeof s === 'string'))
      ) {
        throw new AlphalakeError('BAD_USER_INPUT', 'symbols must be a list of tickers');
      }
    }
    if (kind === 'retrain' && !(typeof data.model === 'string' && data.model.length > 0)) {
      throw new AlphalakeError('BAD_USER_INPUT', 'retrain needs a model name');
    }
  }
}

function stateOf(job: JobParameters): JobState {
  if (job.disabled) return 'PAUSED';
  if (job.lockedAt) return 'RUNNING';
  const failed = job.failedAt && (!job.lastFinishedAt || job.failedAt >= job.lastFinishedAt);
  // A schedule runs again at its next tick whatever the last run did (see lastError).
  if (job.repeatInterval) return 'REPEATING';
  if (failed) return job.nextRunAt ? 'RETRYING' : 'FAILED';
  if (job.nextRunAt) return job.nextRunAt.getTime() > Date.now() ? 'SCHEDULED' : 'QUEUED';
  return 'COMPLETED';
}

function kindOf(name: string): JobKind {
  const kind = kindOfName(name);
  invariant(kind, `job ${name} is not one of alphalake's kinds`);
  return kind;
}

function statusOf(job: JobParameters): JobStatus {
  const { rows, requestedBy, ...request } = (job.data ?? {}) as Record<string, unknown> &
    JobBookkeeping;
  return {
    id: String(job._id),
    kind: kindOf(job.name),
    state: stateOf(job),
    percent: job.progress ?? null,
    rows: typeof rows === 'number' ? rows : null,
    lastError: job.failReason ?? null,
    failCount: job.failCount ?? 0,
    requestedBy: requestedBy ?? null,
    request,
    schedule: typeof job.repeatInterval === 'string' ? job.repeatInterval : null,
    nextRunAt: job.nextRunAt ?? null,
    lastRunAt: job.lastRunAt ?? null,
    lastFinishedAt: job.lastFinishedAt ?? null,
  };
}

/** Where each event falls in one run of a job (Agenda's Job.run and JobProcessor). */
const LIFECYCLE_RANK: Record<JobLogEntry['event'], number> = {
  expired: 0,
  locked: 1,
  start: 2,
  success: 3,
  fail: 3,
  retry: 4,
  'retry:exhausted': 4,
  complete: 5,
};

function eventOf(entry: JobLogEntry): JobEvent {
  return {
    at: entry.timestamp,
    event: entry.event,
    message: entry.message,
    error: entry.error ?? null,
    worker: entry.agendaName ?? null,
  };
}
