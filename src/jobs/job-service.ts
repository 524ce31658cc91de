import type { JobLogEntry, JobParameters } from 'agenda';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AlphalakeError, invariant, MINUTE_US } from '../domain/index.js';
import { processLogger } from '../logging/index.js';
import type { JobBackend, JobWithPendingAudit } from './job-backend.js';
import {
  JOB_KINDS,
  kindOfName,
  type JobBookkeeping,
  type JobDataOf,
  type JobKind,
  type PendingJobAudit,
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

/** The audit record of a job a mutation enqueued, as the audit log takes it. */
export interface JobEnqueueAudit {
  /** Fixed when the job is written: recording it twice leaves it once. */
  readonly id: string;
  /** Epoch µs. */
  readonly at: number;
  readonly actor: string;
  readonly jobId: string;
  /** What was asked: `{ kind, ...request }`. */
  readonly request: Readonly<Record<string, unknown>>;
}

/**
 * Where enqueue audit records go (master data's audit log; src/app.ts wires it). `record`
 * must be idempotent by `id`: a record already there is not added again.
 */
export interface JobAuditLog {
  record(audit: JobEnqueueAudit): Promise<void>;
}

export interface JobServiceOptions {
  /** How often `watch` polls the store, ms. */
  readonly pollMs: number;
  /** Where `enqueueAudited` records go. @default none (enqueueAudited refuses) */
  readonly audit?: JobAuditLog;
  /** Now, epoch µs, for audit records. @default the system clock */
  readonly now?: () => number;
}

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
  readonly #audit: JobAuditLog | undefined;
  readonly #now: () => number;

  constructor(backend: JobBackend, catalog: JobCatalog, options: JobServiceOptions) {
    this.#backend = backend;
    this.#catalog = catalog;
    this.#pollMs = options.pollMs;
    this.#audit = options.audit;
    this.#now = options.now ?? (() => Date.now() * 1_000);
  }

  /** Enqueues a job to run now; BAD_USER_INPUT for a request no worker could run. */
  async enqueue<K extends JobKind>(
    kind: K,
    request: JobDataOf[K],
    requestedBy: string,
  ): Promise<JobStatus> {
    return statusOf(await this.#save(kind, request, { requestedBy }));
  }

  /**
   * Enqueues a job a mutation asked for, audited (`job.enqueue`, by `actor`, with the
   * request) in the same write: the audit record is written into the job's data (the
   * outbox, `data.pendingAudit`), then moved into the audit log and taken off. A crash at
   * any moment leaves no job, or a job whose record the next drain (on start, before an
   * audit read, before a cancel) moves: exactly one record a job (docs/jobs.md "Audit").
   * A failure of the move itself is logged and left to the next drain: the job stands.
   */
  async enqueueAudited<K extends JobKind>(
    kind: K,
    request: JobDataOf[K],
    actor: string,
  ): Promise<JobStatus> {
    invariant(this.#audit, 'enqueueAudited needs the audit log (JobServiceOptions.audit)');
    const at = this.#now();
    const pendingAudit: PendingJobAudit = {
      id: `${String(at).padStart(17, '0')}-job-${randomUUID()}`,
      at,
      actor,
    };
    const saved = await this.#save(kind, request, { requestedBy: actor, pendingAudit });
    const jobId = String(saved._id);
    await this.#settle({
      jobId,
      name: saved.name,
      data: saved.data as Record<string, unknown>,
    }).catch((error: unknown) =>
      processLogger().warn(
        { err: error, jobId },
        'job.enqueue audit record left pending: the next drain records it',
      ),
    );
    return statusOf(saved);
  }

  /**
   * Moves every enqueue audit record still in a job's data into the audit log, then off
   * the job (idempotent; safe from several processes at once, as the log refuses an id
   * twice): how many jobs were settled.
   */
  async drainAudit(): Promise<number> {
    if (!this.#audit) return 0;
    let settled = 0;
    for (const job of await this.#backend.jobsWithPendingAudit()) {
      await this.#settle(job);
      settled++;
    }
    return settled;
  }

  async #save<K extends JobKind>(
    kind: K,
    request: JobDataOf[K],
    bookkeeping: JobBookkeeping & { readonly requestedBy: string },
  ): Promise<JobParameters> {
    this.#check(kind, request);
    const data: JobDataOf[K] & JobBookkeeping = { ...request, ...bookkeeping };
    return this.#backend.repository.saveJob(
      { name: JOB_KINDS[kind], data, type: 'normal', priority: 0, nextRunAt: new Date() },
      { lastModifiedBy: bookkeeping.requestedBy },
    );
  }

  /** Records a job's pending enqueue audit record, then takes it off the job. */
  async #settle(job: JobWithPendingAudit): Promise<void> {
    const audit = this.#audit;
    const {
      rows: _rows,
      requestedBy: _by,
      pendingAudit,
      ...request
    } = job.data as Record<string, unknown> & JobBookkeeping;
    if (!audit || !pendingAudit) return;
    await audit.record({
      id: pendingAudit.id,
      at: pendingAudit.at,
      actor: pendingAudit.actor,
      jobId: job.jobId,
      request: { kind: kindOfName(job.name) ?? job.name, ...request },
    });
    await this.#backend.settleAudit(job.jobId, pendingAudit.id);
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

  /**
   * Removes a job that has not finished; a running one stops at its next progress report.
   * Its enqueue audit record, if still pending, is recorded first (removing the job would
   * drop it); if that fails, the job stays and the cancel fails.
   */
  async cancel(id: string): Promise<boolean> {
    const status = await this.get(id);
    if (!status) throw new AlphalakeError('NOT_FOUND', `no job ${id}`, { id });
    const job = await this.#backend.repository.getJobById(id);
    if (job?.data && (job.data as JobBookkeeping).pendingAudit) {
      await this.#settle({ jobId: id, name: job.name, data: job.data as Record<string, unknown> });
    }
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
  const {
    rows,
    requestedBy,
    pendingAudit: _pendingAudit,
    ...request
  } = (job.data ?? {}) as Record<string, unknown> & JobBookkeeping;
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
