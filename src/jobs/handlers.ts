import { AlphalakeError } from '../domain/index.js';
import type {
  BackfillJobData,
  JobDataOf,
  JobKind,
  RefreshMasterDataJobData,
  RetrainJobData,
  TableJobData,
  VacuumJobData,
} from './job-kinds.js';

/** What a running job may do besides its work: report progress, and notice a stop. */
export interface JobContext {
  /** The job's id (what its mutation answered): changes it makes are audited as `job:<id>`. */
  readonly jobId: string;
  /** Aborted when the worker stops or the job is cancelled. */
  readonly signal: AbortSignal;
  /** When this run was due: its cron slot for a schedule, the enqueue time (or retry time) otherwise. */
  readonly dueAt: Date;
  /**
   * Reports progress (0–100) and the rows done so far. It also renews the job's lock:
   * a job that reports nothing for JOBS_LOCK_LIFETIME_MS is taken to be dead and run
   * again by another worker.
   */
  progress(update: { readonly percent: number; readonly rows?: number }): Promise<void>;
}

/** The body of one kind of job: it throws to fail (and be retried). */
export type JobHandler<DATA> = (data: DATA, context: JobContext) => Promise<void>;

/** The slice of a Delta table maintenance uses (src/lake DeltaTable). */
export interface MaintainedTable {
  optimize(options: { signal?: AbortSignal }): Promise<{
    readonly version: number | undefined;
    readonly filesRemoved: number;
    readonly filesAdded: number;
  }>;
  vacuum(options: {
    retentionHours?: number;
    signal?: AbortSignal;
  }): Promise<{ readonly filesDeleted: readonly string[] }>;
  checkpoint(signal?: AbortSignal): Promise<number>;
}

/** A backfill source: writes [from, to) of its symbols into the lake, reporting progress. */
export type BackfillSource = (request: BackfillJobData, context: JobContext) => Promise<void>;

/**
 * What the job handlers work on, wired by the composition root. Slots other work fills
 * later are optional: a job whose slot is empty fails with NOT_IMPLEMENTED.
 */
export interface JobResources {
  /** The lake's tables by dotted name (`bronze.trades`, `silver.bars_1m`, …). */
  readonly tables: Readonly<Record<string, MaintainedTable>>;
  /** Commits what the stream has delivered to the lake (absent where no sink runs here). */
  readonly syncLake?: (signal: AbortSignal) => Promise<void>;
  /** Backfill sources by name (`simulator`; file and Polygon sources plug in here). */
  readonly backfillSources: Readonly<Record<string, BackfillSource>>;
  /** Brings master data up to its reference sources (Polygon, Yahoo: src/mdm/reference-data.ts). */
  readonly refreshMasterData?: JobHandler<RefreshMasterDataJobData>;
  /** Trains a model (the ML work fills this slot). */
  readonly retrain?: JobHandler<RetrainJobData>;
}

/** Refuses a job whose code is not there yet, naming what is missing; never a fake success. */
function notImplemented(what: string): never {
  throw new AlphalakeError('NOT_IMPLEMENTED', what);
}

function tablesOf(resources: JobResources, data: TableJobData): [string, MaintainedTable][] {
  if (data.table === undefined) return Object.entries(resources.tables);
  const table = resources.tables[data.table];
  if (!table) {
    throw new AlphalakeError(
      'BAD_USER_INPUT',
      `no lake table "${data.table}"; tables: ${Object.keys(resources.tables).join(', ')}`,
      { table: data.table },
    );
  }
  return [[data.table, table]];
}

/** Runs `work` on each table in turn, reporting the share of tables done. */
async function eachTable(
  tables: [string, MaintainedTable][],
  context: JobContext,
  work: (table: MaintainedTable) => Promise<void>,
): Promise<void> {
  for (const [index, [, table]] of tables.entries()) {
    context.signal.throwIfAborted();
    await work(table);
    await context.progress({ percent: ((index + 1) / tables.length) * 100 });
  }
}

/** The handler of every kind of job, over the given resources. */
export function jobHandlers(resources: JobResources): {
  readonly [K in JobKind]: JobHandler<JobDataOf[K]>;
} {
  return {
    async sync(_data, context) {
      if (!resources.syncLake) {
        notImplemented('lake.sync runs where the lake sink runs (ALPHALAKE_ROLE with sink)');
      }
      await resources.syncLake(context.signal);
      await context.progress({ percent: 100 });
    },
    async compact(data, context) {
      await eachTable(tablesOf(resources, data), context, async (table) => {
        await table.optimize({ signal: context.signal });
      });
    },
    async vacuum(data: VacuumJobData, context) {
      await eachTable(tablesOf(resources, data), context, async (table) => {
        await table.vacuum({
          ...(data.retentionHours === undefined ? {} : { retentionHours: data.retentionHours }),
          signal: context.signal,
        });
      });
    },
    async checkpoint(data, context) {
      await eachTable(tablesOf(resources, data), context, async (table) => {
        await table.checkpoint(context.signal);
      });
    },
    async backfill(data, context) {
      const source = resources.backfillSources[data.source];
      if (!source) {
        throw new AlphalakeError(
          'BAD_USER_INPUT',
          `no backfill source "${data.source}"; sources: ${Object.keys(resources.backfillSources).join(', ')}`,
          { source: data.source },
        );
      }
      await source(data, context);
    },
    async refreshMasterData(data, context) {
      if (!resources.refreshMasterData) {
        notImplemented('refreshing master data needs the MDM store, which is not installed yet');
      }
      await resources.refreshMasterData(data, context);
    },
    async retrain(data, context) {
      if (!resources.retrain) {
        notImplemented(
          `retraining "${data.model}" needs a model trainer, and none is installed yet (the ML work)`,
        );
      }
      await resources.retrain(data, context);
    },
  };
}
