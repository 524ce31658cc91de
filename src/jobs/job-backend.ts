import type { AgendaBackend } from 'agenda';

/**
 * The job store port: an Agenda backend (its `JobRepository` for jobs and locks, its
 * `JobLogger` for history) and the one thing Agenda does not keep, the rows a running
 * job has done. Agenda's `progress` is a percentage; the rows go into the job's data
 * (`data.rows`), written beside it by the job while it holds the lock.
 *
 * Adapters: `EmbeddedJobBackend` (nedb under ALPHALAKE_HOME, one process) and
 * `MongoJobBackend` (@agendajs/mongo-backend over MONGODB_URI, any number of workers).
 * test/contracts/job-backend.ts holds both to the same behaviour.
 */
export interface JobBackend extends AgendaBackend {
  /** Records the rows a job has done so far; a job removed meanwhile is ignored. */
  recordRows(jobId: string, rows: number): Promise<void>;
  /** Whether `id` has the form of this store's job ids (a lookup of any other finds nothing). */
  isJobId(id: string): boolean;
  /** Jobs whose data still holds an enqueue's audit record (`data.pendingAudit`): the outbox. */
  jobsWithPendingAudit(): Promise<JobWithPendingAudit[]>;
  /**
   * Takes the audit record `auditId` off job `jobId`'s data, once it is in the audit log;
   * nothing when the job is gone or holds another record.
   */
  settleAudit(jobId: string, auditId: string): Promise<void>;
}

export interface JobWithPendingAudit {
  readonly jobId: string;
  /** Agenda's name of the job (`backfill`, `lake.compact`, …). */
  readonly name: string;
  readonly data: Readonly<Record<string, unknown>>;
}
