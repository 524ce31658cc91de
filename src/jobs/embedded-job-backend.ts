import nedb from '@seald-io/nedb';
import { computeJobState, toJobId } from 'agenda';
import type {
  JobId,
  JobLogEntry,
  JobLogger,
  JobLogQuery,
  JobLogQueryResult,
  JobParameters,
  JobRepository,
  JobRepositoryOptions,
  JobsOverview,
  JobsQueryOptions,
  JobsResult,
  JobsSort,
  RemoveJobsOptions,
} from 'agenda';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { AlphalakeError } from '../domain/index.js';
import { takeHomeLock, type HomeLock } from '../platform/index.js';
import type { JobBackend, JobWithPendingAudit } from './job-backend.js';

// The package is CommonJS (`module.exports = Datastore`) typed as an ES module with a
// default export: at run time the default import is the class itself.
const Datastore = nedb as unknown as typeof nedb.default;
type Datastore<T> = nedb.default<T>;

/**
 * The embedded job store: Agenda's `JobRepository` and `JobLogger` over two
 * @seald-io/nedb datastores in `<ALPHALAKE_HOME>/jobs/`, so jobs, their locks, progress
 * and history survive a restart of the process.
 *
 * Why nedb rather than a log of our own: it is a maintained embedded store whose
 * on-disk format is already an append-only log of JSON documents (one line per write,
 * the last line for an `_id` wins), compacted by writing a new file, fsyncing it and
 * renaming it over the old one; Dates round-trip; a torn last line from a crash is
 * skipped on load. That is the write-ahead log we would otherwise write and test.
 *
 * Semantics follow `@agendajs/mongo-backend`'s MongoJobRepository operation by
 * operation (the reference the contract suite holds both to): a missing field and
 * `null` are the same for queries, `nextRunAt` sorts nulls first ascending, and the
 * find-and-lock of `getNextJobToRun` is one atomic step. Atomicity here comes from
 * running every operation through one queue in one process; a lock file in the
 * folder refuses a second process (`HOME_LOCKED`, naming the holder's pid), since two processes appending to one
 * nedb file would lose each other's writes. Several workers need MongoDB.
 */
export class EmbeddedJobBackend implements JobBackend {
  readonly name = 'embedded';
  readonly notificationChannel = undefined;
  readonly ownsConnection = true;
  readonly repository: EmbeddedJobRepository;
  readonly logger: EmbeddedJobLogger;
  readonly #folder: string;
  #lock: HomeLock | undefined;

  /** `folder`: where the datastores live (`<ALPHALAKE_HOME>/jobs`). */
  constructor(folder: string) {
    this.#folder = folder;
    const queue = new OperationQueue();
    this.repository = new EmbeddedJobRepository(path.join(folder, 'jobs.db'), queue);
    this.logger = new EmbeddedJobLogger(path.join(folder, 'job-log.db'), queue);
  }

  async connect(): Promise<void> {
    if (this.#lock) return;
    mkdirSync(this.#folder, { recursive: true });
    // One process per folder, held while connected (src/platform/home-lock.ts); no wait:
    // another process's job store is refused at once with HOME_LOCKED naming its pid.
    const lock = await takeHomeLock(path.join(this.#folder, 'LOCK'), {
      guards: `the embedded job store in ${this.#folder}`,
      advice: 'one process at a time runs embedded jobs (set MONGODB_URI for several workers)',
    });
    this.#lock = lock;
    try {
      await this.repository.connect();
      await this.logger.connect();
    } catch (error) {
      this.#lock = undefined;
      await lock.release();
      throw error;
    }
  }

  async disconnect(): Promise<void> {
    const lock = this.#lock;
    if (!lock) return;
    await this.repository.close();
    await this.logger.close();
    this.#lock = undefined;
    await lock.release();
  }

  async recordRows(jobId: string, rows: number): Promise<void> {
    await this.repository.recordRows(jobId, rows);
  }

  jobsWithPendingAudit(): Promise<JobWithPendingAudit[]> {
    return this.repository.jobsWithPendingAudit();
  }

  settleAudit(jobId: string, auditId: string): Promise<void> {
    return this.repository.settleAudit(jobId, auditId);
  }

  /** nedb's ids: 16 letters and digits. */
  isJobId(id: string): boolean {
    return /^[A-Za-z0-9]{16}$/.test(id);
  }
}

/** Runs operations one at a time, in order: each read-modify-write is then atomic. */
class OperationQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(operation);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

/** A job as stored: Agenda's fields, absent ones as null (as the Mongo backend stores them). */
type StoredJob = Record<string, unknown> & { _id: string; name: string };

const NULLABLE_FIELDS = [
  'lockedAt',
  'lastFinishedAt',
  'failedAt',
  'failCount',
  'failReason',
  'repeatTimezone',
  'lastRunAt',
  'repeatInterval',
  'repeatAt',
  'disabled',
  'progress',
  'debounceStartedAt',
  'fork',
  'startDate',
  'endDate',
  'skipDays',
  'lastModifiedBy',
] as const;

const OUTPUT_FIELDS = [
  'priority',
  'nextRunAt',
  'type',
  'data',
  ...NULLABLE_FIELDS,
  'unique',
  'uniqueOpts',
] as const;

/** A copy: nedb hands out its own documents, which must never be mutated by a caller. */
function toJob(stored: StoredJob): JobParameters {
  const doc = structuredClone(stored);
  const job: Record<string, unknown> = { _id: toJobId(doc._id), name: doc.name };
  for (const field of OUTPUT_FIELDS) {
    const value = doc[field];
    job[field] = value === null ? undefined : value;
  }
  job.nextRunAt = doc.nextRunAt ?? null;
  return job as unknown as JobParameters;
}

function isNil(value: unknown): value is null | undefined {
  return value === null || value === undefined;
}

function timeOf(value: unknown): number | undefined {
  return value instanceof Date ? value.getTime() : undefined;
}

/** Mongo's equality on a stored value: Dates by instant, null matching a missing field. */
function sameValue(a: unknown, b: unknown): boolean {
  if (isNil(a) || isNil(b)) return isNil(a) && isNil(b);
  if (a instanceof Date || b instanceof Date) return timeOf(a) === timeOf(b);
  if (typeof a === 'object' || typeof b === 'object') return deepEqual(a, b);
  return a === b;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((key) =>
    deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  );
}

function valueAt(doc: Record<string, unknown>, dotted: string): unknown {
  let value: unknown = doc;
  for (const part of dotted.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/** `{ a: { b: 1 } }` → `{ 'data.a.b': 1 }`: a partial match on the data subdocument. */
function flattenDataFilter(data: Record<string, unknown>, prefix = 'data'): [string, unknown][] {
  return Object.entries(data).flatMap(([key, value]) =>
    isPlainObject(value)
      ? flattenDataFilter(value, `${prefix}.${key}`)
      : [[`${prefix}.${key}`, value] as [string, unknown]],
  );
}

type Predicate = (doc: StoredJob) => boolean;

function dataPredicate(data: unknown): Predicate {
  if (isPlainObject(data)) {
    const pairs = flattenDataFilter(data);
    return (doc) => pairs.every(([key, value]) => sameValue(valueAt(doc, key), value));
  }
  return (doc) => sameValue(doc.data, data);
}

/** The filter of removeJobs/disableJobs/enableJobs; undefined when it names nothing. */
function filterOf(options: RemoveJobsOptions): Predicate | undefined {
  const parts: Predicate[] = [];
  if (options.id) {
    const id = String(options.id);
    parts.push((doc) => doc._id === id);
  } else if (Array.isArray(options.ids) && options.ids.length > 0) {
    const ids = new Set(options.ids.map(String));
    parts.push((doc) => ids.has(doc._id));
  }
  if (typeof options.name === 'string' && options.name) {
    const name = options.name;
    parts.push((doc) => doc.name === name);
  } else if (Array.isArray(options.names) && options.names.length > 0) {
    const names = new Set(options.names.filter((n) => typeof n === 'string'));
    if (names.size > 0) parts.push((doc) => names.has(doc.name));
  } else if (Array.isArray(options.notNames) && options.notNames.length > 0) {
    const names = new Set(options.notNames.filter((n) => typeof n === 'string'));
    if (names.size > 0) parts.push((doc) => !names.has(doc.name));
  }
  if (options.data !== undefined) parts.push(dataPredicate(options.data));
  if (parts.length === 0) return undefined;
  return (doc) => parts.every((part) => part(doc));
}

/** Mongo's BSON order for the values a job holds: null first, then numbers, strings, dates. */
function compareValues(a: unknown, b: unknown): number {
  const rank = (v: unknown) =>
    isNil(v)
      ? 0
      : typeof v === 'number'
        ? 1
        : typeof v === 'string'
          ? 2
          : typeof v === 'object' && !(v instanceof Date)
            ? 3
            : typeof v === 'boolean'
              ? 5
              : v instanceof Date
                ? 6
                : 7;
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (ra === 3) return JSON.stringify(a) < JSON.stringify(b) ? -1 : 1;
  return 0;
}

type SortSpec = readonly (readonly [string, 1 | -1])[];

function sorter(spec: SortSpec): (a: StoredJob, b: StoredJob) => number {
  return (a, b) => {
    for (const [field, direction] of spec) {
      const order = compareValues(a[field], b[field]);
      if (order !== 0) return order * direction;
    }
    return 0;
  };
}

/** The Mongo backend's default listing order, and its field-by-field mapping. */
function sortSpecOf(sort: JobsSort | undefined): SortSpec {
  const spec: [string, 1 | -1][] = [];
  for (const field of [
    'nextRunAt',
    'lastRunAt',
    'lastFinishedAt',
    'priority',
    'name',
    'data',
  ] as const) {
    const direction = sort?.[field];
    if (direction !== undefined) spec.push([field, direction === 'asc' ? 1 : -1]);
  }
  return spec.length > 0
    ? spec
    : [
        ['nextRunAt', -1],
        ['lastRunAt', -1],
      ];
}

/** The order in which due jobs are picked: soonest first, then highest priority. */
const PROCESS_ORDER: SortSpec = [
  ['nextRunAt', 1],
  ['priority', -1],
];

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Operators of a `unique()` key the embedded store does not evaluate: equality only. */
function uniquePredicate(unique: Record<string, unknown>, name: string): Predicate {
  for (const [key, value] of Object.entries(unique)) {
    if (
      key.startsWith('$') ||
      (isPlainObject(value) && Object.keys(value).some((k) => k[0] === '$'))
    )
      throw new AlphalakeError(
        'BAD_USER_INPUT',
        `the embedded job store matches unique() keys by equality only; "${key}" uses an operator`,
        { key },
      );
  }
  const pairs = Object.entries(unique);
  return (doc) =>
    doc.name === name && pairs.every(([key, value]) => sameValue(valueAt(doc, key), value));
}

/** Agenda's storage port over nedb (see EmbeddedJobBackend). */
export class EmbeddedJobRepository implements JobRepository {
  readonly #store: Datastore<StoredJob>;
  readonly #queue: OperationQueue;
  #loaded = false;

  constructor(filename: string, queue: OperationQueue) {
    this.#store = new Datastore<StoredJob>({ filename });
    this.#queue = queue;
  }

  async connect(): Promise<void> {
    if (this.#loaded) return;
    await this.#store.loadDatabaseAsync();
    this.#loaded = true;
  }

  /** Compacts the datastore file (an fsynced rewrite) so the next start loads it quickly. */
  async close(): Promise<void> {
    if (!this.#loaded) return;
    await this.#queue.run(() => this.#store.compactDatafileAsync());
    this.#loaded = false;
  }

  #all(): StoredJob[] {
    this.#checkLoaded();
    return this.#store.getAllData<StoredJob>();
  }

  #checkLoaded(): void {
    if (!this.#loaded)
      throw new AlphalakeError('UNAVAILABLE', 'the embedded job store is not connected');
  }

  async #set(id: string, fields: Record<string, unknown>): Promise<StoredJob | undefined> {
    const result = await this.#store.updateAsync(
      { _id: id },
      { $set: fields },
      { returnUpdatedDocs: true, multi: false },
    );
    return (result.affectedDocuments as StoredJob | null) ?? undefined;
  }

  async #unset(ids: readonly string[], field: string): Promise<void> {
    if (ids.length === 0) return;
    await this.#store.updateAsync(
      { _id: { $in: [...ids] } },
      { $unset: { [field]: true } },
      {
        multi: true,
      },
    );
  }

  queryJobs(options: JobsQueryOptions = {}): Promise<JobsResult> {
    return this.#queue.run(async () => {
      const { name, names, state, id, ids, search, data } = options;
      const { includeDisabled = true, sort, skip = 0, limit = 0 } = options;
      const now = new Date();
      const parts: Predicate[] = [];
      if (typeof search === 'string' && search.length > 0) {
        const pattern = new RegExp(escapeRegex(search), 'i');
        parts.push((doc) => pattern.test(doc.name));
      } else if (typeof name === 'string' && name) {
        parts.push((doc) => doc.name === name);
      } else if (Array.isArray(names) && names.length > 0) {
        const set = new Set(names.filter((n) => typeof n === 'string'));
        if (set.size > 0) parts.push((doc) => set.has(doc.name));
      }
      if (typeof id === 'string' && id) parts.push((doc) => doc._id === id);
      else if (Array.isArray(ids) && ids.length > 0) {
        const set = new Set(ids.filter((i) => typeof i === 'string'));
        if (set.size > 0) parts.push((doc) => set.has(doc._id));
      }
      if (data !== undefined) parts.push(dataPredicate(data));
      if (!includeDisabled) parts.push((doc) => doc.disabled !== true);
      const matching = this.#all()
        .filter((doc) => parts.every((part) => part(doc)))
        .sort(sorter(sortSpecOf(sort)))
        .map((doc) => {
          const job = toJob(doc);
          return { ...job, _id: job._id as JobId, state: computeJobState(job, now) };
        })
        .filter((job) =>
          state === undefined
            ? true
            : state === 'paused'
              ? job.disabled === true
              : job.state === state,
        );
      const page = limit > 0 ? matching.slice(skip, skip + limit) : matching.slice(skip);
      return { jobs: page, total: matching.length };
    });
  }

  getJobsOverview(): Promise<JobsOverview[]> {
    return this.#queue.run(async () => {
      const now = new Date();
      const overviews = new Map<string, JobsOverview>();
      for (const doc of this.#all()) {
        let overview = overviews.get(doc.name);
        if (!overview) {
          overview = {
            name: doc.name,
            total: 0,
            running: 0,
            scheduled: 0,
            queued: 0,
            completed: 0,
            failed: 0,
            repeating: 0,
            paused: 0,
          };
          overviews.set(doc.name, overview);
        }
        overview.total++;
        overview[computeJobState(toJob(doc), now)]++;
        if (doc.disabled === true) overview.paused++;
      }
      return [...overviews.values()];
    });
  }

  getDistinctJobNames(): Promise<string[]> {
    return this.#queue.run(async () => [...new Set(this.#all().map((doc) => doc.name))]);
  }

  getJobById(id: string): Promise<JobParameters | null> {
    return this.#queue.run(async () => {
      const doc = this.#all().find((d) => d._id === id);
      return doc ? toJob(doc) : null;
    });
  }

  getQueueSize(): Promise<number> {
    return this.#queue.run(async () => {
      const now = Date.now();
      return this.#all().filter((doc) => (timeOf(doc.nextRunAt) ?? Infinity) < now).length;
    });
  }

  removeJobs(options: RemoveJobsOptions): Promise<number> {
    return this.#queue.run(async () => {
      const filter = filterOf(options);
      if (!filter) return 0;
      const ids = this.#all()
        .filter(filter)
        .map((doc) => doc._id);
      if (ids.length === 0) return 0;
      return this.#store.removeAsync({ _id: { $in: ids } }, { multi: true });
    });
  }

  saveJob<DATA = unknown>(
    job: JobParameters<DATA>,
    options: JobRepositoryOptions | undefined,
  ): Promise<JobParameters<DATA>> {
    return this.#queue.run(async () => {
      this.#checkLoaded();
      const { _id, unique, uniqueOpts, ...props } = job;
      const fields: Record<string, unknown> = { ...props };
      for (const field of NULLABLE_FIELDS) fields[field] = fields[field] ?? null;
      fields.lastModifiedBy = options?.lastModifiedBy ?? null;
      const now = new Date();
      if (_id) {
        const updated = this.#all().some((d) => d._id === String(_id) && d.name === props.name)
          ? await this.#set(String(_id), fields)
          : undefined;
        // As in Mongo: a job removed meanwhile is returned unchanged.
        return updated ? (toJob(updated) as JobParameters<DATA>) : job;
      }
      if (props.type === 'single') {
        const existing = this.#all().find((d) => d.name === props.name && d.type === 'single');
        if (existing) {
          // A due nextRunAt is only set on insert (Mongo's $setOnInsert): an `every()`
          // re-registered at start must not move a schedule that is already running.
          const update = { ...fields };
          if (props.nextRunAt && props.nextRunAt <= now) delete update.nextRunAt;
          return toJob((await this.#set(existing._id, update))!) as JobParameters<DATA>;
        }
        return toJob(await this.#insert(fields)) as JobParameters<DATA>;
      }
      if (unique) {
        const matches = uniquePredicate(unique, props.name);
        const existing = this.#all().find(matches);
        const debounce = uniqueOpts?.debounce;
        if (debounce) {
          if (existing) {
            const startedAt = (existing.debounceStartedAt as Date | null) ?? now;
            if (debounce.strategy === 'leading') {
              const update = {
                ...fields,
                nextRunAt: existing.nextRunAt,
                debounceStartedAt: startedAt,
              };
              return toJob((await this.#set(existing._id, update))!) as JobParameters<DATA>;
            }
            const waited = now.getTime() - startedAt.getTime();
            const forced = debounce.maxWait !== undefined && waited >= debounce.maxWait;
            const update = {
              ...fields,
              nextRunAt: forced ? now : new Date(now.getTime() + debounce.delay),
              debounceStartedAt: forced ? null : startedAt,
            };
            return toJob((await this.#set(existing._id, update))!) as JobParameters<DATA>;
          }
          fields.debounceStartedAt = now;
          if (debounce.strategy !== 'leading')
            fields.nextRunAt = new Date(now.getTime() + debounce.delay);
          return toJob(await this.#insert(withUniqueKeys(fields, unique))) as JobParameters<DATA>;
        }
        if (existing) {
          if (uniqueOpts?.insertOnly) return toJob(existing) as JobParameters<DATA>;
          return toJob((await this.#set(existing._id, fields))!) as JobParameters<DATA>;
        }
        return toJob(await this.#insert(withUniqueKeys(fields, unique))) as JobParameters<DATA>;
      }
      return toJob(await this.#insert(fields)) as JobParameters<DATA>;
    });
  }

  async #insert(fields: Record<string, unknown>): Promise<StoredJob> {
    return (await this.#store.insertAsync(fields as StoredJob)) as StoredJob;
  }

  saveJobState(job: JobParameters, options: JobRepositoryOptions | undefined): Promise<void> {
    return this.#queue.run(async () => {
      if (!job._id) throw new Error('Cannot save job state without job ID');
      const id = String(job._id);
      if (!this.#all().some((d) => d._id === id && d.name === job.name)) {
        throw new Error(
          `job ${id} (name: ${job.name}) cannot be updated in the database, maybe it does not exist anymore?`,
        );
      }
      await this.#set(id, {
        lockedAt: dateOrNull(job.lockedAt),
        nextRunAt: dateOrNull(job.nextRunAt),
        lastRunAt: dateOrNull(job.lastRunAt),
        progress: job.progress ?? null,
        failReason: job.failReason ?? null,
        failCount: job.failCount ?? null,
        failedAt: dateOrNull(job.failedAt),
        lastFinishedAt: dateOrNull(job.lastFinishedAt),
        lastModifiedBy: options?.lastModifiedBy ?? null,
      });
    });
  }

  lockJob(
    job: JobParameters,
    options: JobRepositoryOptions | undefined,
  ): Promise<JobParameters | undefined> {
    return this.#queue.run(async () => {
      if (!job._id) return undefined;
      const id = String(job._id);
      const doc = this.#all().find(
        (d) =>
          d._id === id &&
          d.name === job.name &&
          isNil(d.lockedAt) &&
          sameValue(d.nextRunAt, job.nextRunAt) &&
          d.disabled !== true,
      );
      if (!doc) return undefined;
      const locked = await this.#set(id, {
        lockedAt: new Date(),
        lastModifiedBy: options?.lastModifiedBy ?? null,
      });
      return locked ? toJob(locked) : undefined;
    });
  }

  unlockJob(job: JobParameters): Promise<void> {
    return this.#queue.run(async () => {
      if (!job._id) return;
      const id = String(job._id);
      // As in Mongo: a running one-time job (nextRunAt null) keeps its lock.
      const doc = this.#all().find((d) => d._id === id && !isNil(d.nextRunAt));
      if (doc) await this.#unset([id], 'lockedAt');
    });
  }

  unlockJobs(jobIds: (JobId | string)[]): Promise<void> {
    return this.#queue.run(() => this.#unset(jobIds.map(String), 'lockedAt'));
  }

  getNextJobToRun(
    jobName: string,
    nextScanAt: Date,
    lockDeadline: Date,
    now: Date | undefined,
    options: JobRepositoryOptions | undefined,
  ): Promise<JobParameters | undefined> {
    return this.#queue.run(async () => {
      const scan = nextScanAt.getTime();
      const deadline = lockDeadline.getTime();
      const due = this.#all()
        .filter(
          (d) =>
            d.name === jobName &&
            d.disabled !== true &&
            ((isNil(d.lockedAt) && (timeOf(d.nextRunAt) ?? Infinity) <= scan) ||
              (timeOf(d.lockedAt) ?? Infinity) <= deadline),
        )
        .sort(sorter(PROCESS_ORDER))[0];
      if (!due) return undefined;
      const locked = await this.#set(due._id, {
        lockedAt: now ?? new Date(),
        lastModifiedBy: options?.lastModifiedBy ?? null,
      });
      return locked ? toJob(locked) : undefined;
    });
  }

  disableJobs(options: RemoveJobsOptions): Promise<number> {
    return this.#setMatching(options, { disabled: true });
  }

  enableJobs(options: RemoveJobsOptions): Promise<number> {
    return this.#setMatching(options, { disabled: false });
  }

  /** Mongo's updateMany().modifiedCount: documents whose fields actually changed. */
  #setMatching(options: RemoveJobsOptions, fields: Record<string, unknown>): Promise<number> {
    return this.#queue.run(async () => {
      const filter = filterOf(options);
      if (!filter) return 0;
      const ids = this.#all()
        .filter(filter)
        .filter((doc) => Object.entries(fields).some(([k, v]) => !sameValue(doc[k], v)))
        .map((doc) => doc._id);
      if (ids.length === 0) return 0;
      await this.#store.updateAsync({ _id: { $in: ids } }, { $set: fields }, { multi: true });
      return ids.length;
    });
  }

  purgeAllJobs(): Promise<number> {
    return this.#queue.run(async () => {
      this.#checkLoaded();
      return this.#store.removeAsync({}, { multi: true });
    });
  }

  /** Jobs whose data holds an enqueue's audit record not yet in the log. */
  jobsWithPendingAudit(): Promise<JobWithPendingAudit[]> {
    return this.#queue.run(async () =>
      this.#all()
        .filter((d) => isPlainObject(d.data) && !isNil(d.data['pendingAudit']))
        .map((d) => ({
          jobId: d._id,
          name: d.name,
          data: structuredClone(d.data as Record<string, unknown>),
        })),
    );
  }

  /** Takes the record `auditId` (only that one) off the job's data. */
  settleAudit(jobId: string, auditId: string): Promise<void> {
    return this.#queue.run(async () => {
      const job = this.#all().find((d) => d._id === jobId);
      const pending = isPlainObject(job?.data) ? job.data['pendingAudit'] : undefined;
      if (isPlainObject(pending) && pending['id'] === auditId) {
        await this.#unset([jobId], 'data.pendingAudit');
      }
    });
  }

  /** Rows done so far, in the job's data (`data.rows`): Agenda's progress is a percentage only. */
  recordRows(jobId: string, rows: number): Promise<void> {
    return this.#queue.run(async () => {
      if (this.#all().some((d) => d._id === jobId)) await this.#set(jobId, { 'data.rows': rows });
    });
  }
}

/** A unique() upsert stores its key fields too (Mongo's upsert copies the query's equalities). */
function withUniqueKeys(
  fields: Record<string, unknown>,
  unique: Record<string, unknown>,
): Record<string, unknown> {
  const doc = structuredClone(fields);
  for (const [key, value] of Object.entries(unique)) {
    const parts = key.split('.');
    let target = doc;
    for (const part of parts.slice(0, -1)) {
      if (!isPlainObject(target[part])) target[part] = {};
      target = target[part] as Record<string, unknown>;
    }
    const last = parts.at(-1)!;
    if (target[last] === undefined) target[last] = value;
  }
  return doc;
}

function dateOrNull(value: Date | string | null | undefined): Date | null {
  return isNil(value) ? null : new Date(value);
}

/** `seq` numbers entries in the order they were logged: two events in one millisecond keep it. */
type StoredLogEntry = Omit<JobLogEntry, '_id'> & { _id: string; seq?: number };

/** Agenda's job history (start, success, fail, retry, …) in its own nedb file. */
export class EmbeddedJobLogger implements JobLogger {
  readonly #store: Datastore<StoredLogEntry>;
  readonly #queue: OperationQueue;
  #loaded = false;
  #seq = 0;

  constructor(filename: string, queue: OperationQueue) {
    this.#store = new Datastore<StoredLogEntry>({ filename });
    this.#queue = queue;
  }

  async connect(): Promise<void> {
    if (this.#loaded) return;
    await this.#store.loadDatabaseAsync();
    for (const entry of this.#store.getAllData<StoredLogEntry>())
      this.#seq = Math.max(this.#seq, entry.seq ?? 0);
    this.#loaded = true;
  }

  async close(): Promise<void> {
    if (!this.#loaded) return;
    await this.#queue.run(() => this.#store.compactDatafileAsync());
    this.#loaded = false;
  }

  log(entry: Omit<JobLogEntry, '_id'>): Promise<void> {
    return this.#queue.run(async () => {
      if (!this.#loaded) return;
      const stored = Object.fromEntries(
        Object.entries(entry).filter(([, value]) => value !== undefined),
      );
      await this.#store.insertAsync({ ...stored, seq: ++this.#seq } as StoredLogEntry);
    });
  }

  getLogs(query?: JobLogQuery): Promise<JobLogQueryResult> {
    return this.#queue.run(async () => {
      if (!this.#loaded) return { entries: [], total: 0 };
      const matching = this.#store
        .getAllData<StoredLogEntry>()
        .filter(logFilter(query))
        .sort((a, b) => {
          const order =
            a.timestamp.getTime() - b.timestamp.getTime() || (a.seq ?? 0) - (b.seq ?? 0);
          return query?.sort === 'asc' ? order : -order;
        });
      const offset = query?.offset ?? 0;
      const limit = query?.limit ?? 50;
      return {
        entries: matching.slice(offset, offset + limit).map(({ seq: _seq, ...entry }) => entry),
        total: matching.length,
      };
    });
  }

  clearLogs(query?: JobLogQuery): Promise<number> {
    return this.#queue.run(async () => {
      if (!this.#loaded) return 0;
      const ids = this.#store
        .getAllData<StoredLogEntry>()
        .filter(logFilter(query))
        .map((entry) => entry._id);
      if (ids.length === 0) return 0;
      return this.#store.removeAsync({ _id: { $in: ids } }, { multi: true });
    });
  }
}

function logFilter(query: JobLogQuery | undefined): (entry: StoredLogEntry) => boolean {
  if (!query) return () => true;
  const levels = query.level === undefined ? undefined : [query.level].flat();
  const events = query.event === undefined ? undefined : [query.event].flat();
  return (entry) =>
    (query.jobId === undefined || entry.jobId === query.jobId) &&
    (query.jobName === undefined || entry.jobName === query.jobName) &&
    (levels === undefined || levels.includes(entry.level)) &&
    (events === undefined || events.includes(entry.event)) &&
    (query.from === undefined || entry.timestamp.getTime() >= query.from.getTime()) &&
    (query.to === undefined || entry.timestamp.getTime() <= query.to.getTime());
}
