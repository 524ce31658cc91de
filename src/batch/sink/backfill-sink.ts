import type { CheckpointChunk, CheckpointSink, JobProgress } from '../../ingest/index.js';
import type { DeltaTable } from '../../lake/index.js';
import { jobProgress, jobTxns } from './job-checkpoint.js';
import type { Counter } from '../../metrics/index.js';
import { appendable, rejectRow, tradeColumns } from './lake-sink.js';
import { latestVendorBars, VENDOR_BAR_KEY, vendorBarColumns } from './vendor-bars-writer.js';
import type { Medallion } from '../medallion.js';

/**
 * The lake side of a resumable backfill (src/ingest/files/file-backfill.ts): a chunk's
 * rejects, trades and vendor bars, each table in one Delta commit whose `txn` (appId = the
 * job, version = the source rows done) says how far the table holds the job. A commit that
 * lost a race to the same job (two runs at once) conflicts instead of writing twice
 * (`expected`).
 */
export class LakeCheckpointSink implements CheckpointSink {
  constructor(
    private readonly tables: Medallion,
    private readonly rowsWritten?: Counter,
  ) {}

  /** The tables a backfill writes, in commit order. */
  private get written(): DeltaTable[] {
    return [this.tables.rejects, this.tables.trades, this.tables.vendorBars];
  }

  async progress(job: string, signal?: AbortSignal): Promise<JobProgress> {
    return jobProgress(this.written, job, signal);
  }

  async commitChunk(job: string, chunk: CheckpointChunk, signal?: AbortSignal): Promise<void> {
    // Rejects first, then trades, then bars: a kill between them leaves the later tables'
    // checkpoints behind, and the resumed run writes this chunk to those only (each table
    // checks its own).
    const { checked } = chunk;
    await this.commit(
      this.tables.rejects,
      job,
      chunk,
      () => checked.rejects.map(rejectRow),
      signal,
    );
    await this.commit(this.tables.trades, job, chunk, () => tradeColumns(checked.trades), signal);
    await this.commit(
      this.tables.vendorBars,
      job,
      chunk,
      () =>
        vendorBarColumns(
          latestVendorBars(checked.bars.map((bar) => ({ ...bar, source: chunk.source }))),
        ),
      signal,
      // A bar the table holds already (the range was ingested before) is replaced, not
      // added again (vendor-bars-writer.ts).
      VENDOR_BAR_KEY,
    );
  }

  private async commit(
    table: DeltaTable,
    job: string,
    chunk: CheckpointChunk,
    rows: (held: boolean) => Parameters<DeltaTable['append']>[0],
    signal?: AbortSignal,
    key?: readonly string[],
  ): Promise<void> {
    const snapshot = await table.snapshot(undefined, signal);
    const txns = jobTxns(snapshot, job, chunk);
    if (txns === undefined) return;
    const batch = await appendable(table, rows((snapshot.txnVersion(job) ?? 0) >= chunk.rowsEnd));
    const write = {
      txns,
      commitInfo: { alphalake: { backfill: job, rows: chunk.rowsEnd } },
      ...(signal ? { signal } : {}),
    };
    const result = await (key
      ? table.upsert(batch, { ...write, key })
      : table.append(batch, write));
    if (result.rows > 0) this.rowsWritten?.inc({ table: table.tablePath }, result.rows);
  }
}
