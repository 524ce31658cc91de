/**
 * The kinds of job alphalake runs, by the name Agenda stores them under, and the data
 * each carries. A job's data is its request; `rows` is added by the job as it works.
 */
export const JOB_KINDS = {
  /** Moves completed minutes from the stream into the lake (a sink flush). */
  sync: 'lake.sync',
  /** OPTIMIZE: bin-packs small files per partition (PROTOCOL.md "Add File and Remove File", dataChange=false). */
  compact: 'lake.compact',
  /** VACUUM: deletes files no version within the retention references. */
  vacuum: 'lake.vacuum',
  /** Writes a checkpoint of the latest version (PROTOCOL.md "Checkpoints"). */
  checkpoint: 'lake.checkpoint',
  /** History from a named source into the lake (BackfillSources). */
  backfill: 'backfill',
  /** Brings master data up to a reference source: Polygon's or Yahoo's symbols, splits and dividends. */
  refreshMasterData: 'mdm.refresh',
  /** Trains a model (the ML handler). */
  retrain: 'ml.retrain',
} as const;

export type JobKind = keyof typeof JOB_KINDS;
export type JobName = (typeof JOB_KINDS)[JobKind];

export const JOB_NAMES: readonly JobName[] = Object.values(JOB_KINDS);

export function kindOfName(name: string): JobKind | undefined {
  return (Object.keys(JOB_KINDS) as JobKind[]).find((kind) => JOB_KINDS[kind] === name);
}

/** Lake maintenance of one table (its dotted name, `silver.bars_1m`), or of every table. */
export interface TableJobData {
  readonly table?: string;
}

export interface VacuumJobData extends TableJobData {
  /** Files replaced longer ago than this are deleted. @default 168 (7 days) */
  readonly retentionHours?: number;
}

export interface BackfillJobData {
  /** A name in the BackfillSources registry (`simulator`, …). */
  readonly source: string;
  /** Empty: every symbol the source has. */
  readonly symbols: readonly string[];
  /** Event time range [from, to), epoch µs. */
  readonly from: number;
  readonly to: number;
}

export interface RefreshMasterDataJobData {
  /** `polygon` or `yahoo`; absent: Polygon where POLYGON_API_KEY is set, else Yahoo. */
  readonly source?: string;
  /** Tickers to refresh; absent or empty: every symbol master data holds. */
  readonly symbols?: readonly string[];
}

export interface RetrainJobData {
  readonly model: string;
}

export interface JobDataOf {
  sync: Record<string, never>;
  compact: TableJobData;
  vacuum: VacuumJobData;
  checkpoint: TableJobData;
  backfill: BackfillJobData;
  refreshMasterData: RefreshMasterDataJobData;
  retrain: RetrainJobData;
}

/** What a job stores besides its request: who asked, the rows it has done, its audit outbox. */
export interface JobBookkeeping {
  /** Who enqueued it (a user, or `schedule` for cron runs). */
  readonly requestedBy?: string;
  /** Rows done so far (written by the job through JobBackend.recordRows). */
  readonly rows?: number;
  /**
   * The audit record of a mutation's enqueue, written with the job and taken off once it
   * is in the audit log (JobService.drainAudit): the outbox, as master data keeps one.
   */
  readonly pendingAudit?: PendingJobAudit;
}

/** An enqueue's audit record while it waits in the job's data: its id and time are fixed when it is written. */
export interface PendingJobAudit {
  readonly id: string;
  /** Epoch µs. */
  readonly at: number;
  readonly actor: string;
}
