import { MongoBackend } from '@agendajs/mongo-backend';
import type { JobLogger, JobRepository } from 'agenda';
import { MongoClient, ObjectId, type Db } from 'mongodb';
import type { JobBackend, JobWithPendingAudit } from './job-backend.js';

/** Collection of the jobs (Agenda's default name, so agendash and other tools find them). */
export const JOBS_COLLECTION = 'agendaJobs';
/** Collection of the job history (Agenda's default name). */
export const JOB_LOG_COLLECTION = 'agenda_logs';

/**
 * Jobs on MongoDB: @agendajs/mongo-backend as it is (its find-and-lock is one
 * `findOneAndUpdate`, so any number of workers share the queue without running a job
 * twice), on a client this adapter opens and closes, plus `recordRows`.
 */
export class MongoJobBackend implements JobBackend {
  readonly name = 'MongoDB';
  readonly notificationChannel = undefined;
  readonly ownsConnection = true;
  readonly #client: MongoClient;
  readonly #db: Db;
  readonly #backend: MongoBackend;

  private constructor(client: MongoClient) {
    this.#client = client;
    this.#db = client.db();
    this.#backend = new MongoBackend({
      mongo: this.#db,
      collection: JOBS_COLLECTION,
      logCollection: JOB_LOG_COLLECTION,
    });
  }

  /** `uri`: MONGODB_URI; its path names the database (`mongodb://host/alphalake`). */
  static create(uri: string): MongoJobBackend {
    return new MongoJobBackend(new MongoClient(uri));
  }

  get repository(): JobRepository {
    return this.#backend.repository;
  }

  get logger(): JobLogger {
    return this.#backend.logger;
  }

  async connect(): Promise<void> {
    await this.#client.connect();
    await this.#backend.connect();
  }

  async disconnect(): Promise<void> {
    await this.#backend.disconnect();
    await this.#client.close();
  }

  /** An ObjectId in hex, as @agendajs/mongo-backend hands ids out. */
  isJobId(id: string): boolean {
    return /^[0-9a-f]{24}$/i.test(id);
  }

  async jobsWithPendingAudit(): Promise<JobWithPendingAudit[]> {
    const documents = await this.#db
      .collection(JOBS_COLLECTION)
      .find({ 'data.pendingAudit': { $exists: true } }, { projection: { name: 1, data: 1 } })
      .toArray();
    return documents.map((d) => ({
      jobId: String(d._id),
      name: String(d['name']),
      data: d['data'] as Record<string, unknown>,
    }));
  }

  async settleAudit(jobId: string, auditId: string): Promise<void> {
    if (!this.isJobId(jobId)) return;
    // Only that record: a job saved again by a worker that read it before the drain may
    // carry it back, and the next drain settles it again (its append is then a no-op).
    await this.#db
      .collection(JOBS_COLLECTION)
      .updateOne(
        { _id: new ObjectId(jobId), 'data.pendingAudit.id': auditId },
        { $unset: { 'data.pendingAudit': '' } },
      );
  }

  async recordRows(jobId: string, rows: number): Promise<void> {
    if (!this.isJobId(jobId)) return;
    await this.#db
      .collection(JOBS_COLLECTION)
      .updateOne({ _id: new ObjectId(jobId) }, { $set: { 'data.rows': rows } });
  }
}
