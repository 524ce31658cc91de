import type { Trade } from '../domain/index.js';
import type { CheckpointSink, Reject } from '../ingest/index.js';
import type { DeltaTable } from '../lake/index.js';
import type { Counter } from '../metrics/index.js';
import { rejectRow, tradeColumns } from './lake-sink.js';
import type { Medallion } from './medallion.js';

/**
 * The lake side of a resumable backfill (src/ingest/files/file-backfill.ts): a chunk's rejects
 * and trades, each table in one Delta commit whose `txn` (appId = the job, version = the
 * source rows done) says how far the table holds the job. A commit that lost a race to
 * the same job (two runs at once) conflicts instead of writing twice (`expected`).
 */
export class LakeCheckpointSink implements CheckpointSink {
  constructor(
    private readonly tables: Medallion,
    private readonly rowsWritten?: Counter,
  ) {}

  async progress(job: string, signal?: AbortSignal): Promise<{ trades: number; rejects: number }> {
    const [trades, rejects] = await Promise.all([
      this.tables.trades.snapshot(undefined, signal),
      this.tables.rejects.snapshot(undefined, signal),
    ]);
    return { trades: trades.txnVersion(job) ?? 0, rejects: rejects.txnVersion(job) ?? 0 };
  }

  async commitChunk(
    job: string,
    rowsEnd: number,
    trades: readonly Trade[],
    rejects: readonly Reject[],
    signal?: AbortSignal,
  ): Promise<void> {
    // Rejects first, then trades: a kill between them leaves the trades' checkpoint behind,
    // and the resumed run writes this chunk's trades only (each table checks its own).
    await this.commit(this.tables.rejects, job, rowsEnd, () => rejects.map(rejectRow), signal);
    await this.commit(this.tables.trades, job, rowsEnd, () => tradeColumns(trades), signal);
  }

  private async commit(
    table: DeltaTable,
    job: string,
    rowsEnd: number,
    rows: () => Parameters<DeltaTable['append']>[0],
    signal?: AbortSignal,
  ): Promise<void> {
    const snapshot = await table.snapshot(undefined, signal);
    const held = snapshot.txnVersion(job) ?? 0;
    if (held >= rowsEnd) return;
    const batch = rows();
    const result = await table.append(batch, {
      txn: { appId: job, version: rowsEnd, expected: held },
      commitInfo: { alphalake: { backfill: job, rows: rowsEnd } },
      ...(signal ? { signal } : {}),
    });
    if (result.rows > 0) this.rowsWritten?.inc({ table: table.tablePath }, result.rows);
  }
}
