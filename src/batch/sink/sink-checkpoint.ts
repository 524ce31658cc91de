import type {
  CheckedRecords,
  CheckpointChunk,
  CheckpointSink,
  JobProgress,
} from '../../ingest/index.js';
import type { DeltaTable } from '../../lake/index.js';
import { jobProgress } from './job-checkpoint.js';
import type { LakeSink } from './lake-sink.js';
import type { Medallion } from '../medallion.js';

/**
 * The checkpoints of `alphalake ingest --source file` in the embedded profile, where the
 * lake sink runs in the same process as the producer: a chunk's records go onto the
 * in-process bus, and the sink's next flush commits them with the file job's txn in each
 * bronze table's commit (`LakeSink.flush`'s checkpoint), so a replay killed at any moment
 * resumes after the last chunk the lake holds, as `alphalake backfill` does
 * (src/ingest/files/file-backfill.ts drives both). A table that already holds a chunk
 * (a kill fell between two tables' commits) is not sent its records again.
 *
 * Needs the sink's flushes to be this one's alone (no timer: `platform.start({ live:
 * false })`), so nothing of a chunk is committed without its checkpoint.
 */
export class SinkCheckpoint implements CheckpointSink {
  constructor(
    private readonly tables: Medallion,
    private readonly sink: Pick<LakeSink, 'flush' | 'discardPending'>,
    /** Publishes checked records to their topics (the Ingestor's `publishChecked`). */
    private readonly publish: (
      checked: CheckedRecords,
      source: string,
      signal?: AbortSignal,
    ) => Promise<void>,
    /** Resolves once the bus has handed what was published to the sink. */
    private readonly delivered: () => Promise<void>,
  ) {}

  /** The bronze tables a replay writes (silver is derived from bronze.trades by the sink). */
  private get written(): DeltaTable[] {
    const { rejects, trades, quotes, vendorBars } = this.tables;
    return [rejects, trades, quotes, vendorBars];
  }

  progress(job: string, signal?: AbortSignal): Promise<JobProgress> {
    return jobProgress(this.written, job, signal);
  }

  async commitChunk(job: string, chunk: CheckpointChunk, signal?: AbortSignal): Promise<void> {
    const { rejects, trades, quotes, vendorBars } = this.tables;
    const [r, t, q, b] = await Promise.all(
      [rejects, trades, quotes, vendorBars].map(async (table) => {
        const held = (await table.snapshot(undefined, signal)).txnVersion(job) ?? 0;
        return held < chunk.rowsEnd;
      }),
    );
    const { checked } = chunk;
    // Once a chunk is published it is committed with its checkpoint or not at all: the
    // publish is not cut short by the signal (a chunk half on the bus would be committed
    // by the final flush without it), and a failed flush leaves nothing behind.
    try {
      await this.publish(
        {
          trades: t ? checked.trades : [],
          quotes: q ? checked.quotes : [],
          bars: b ? checked.bars : [],
          news: [],
          rejects: r ? checked.rejects : [],
        },
        chunk.source,
      );
      await this.delivered();
      await this.sink.flush(undefined, { job, rowsEnd: chunk.rowsEnd, last: chunk.last });
    } catch (error) {
      await this.sink.discardPending();
      throw error;
    }
  }
}
