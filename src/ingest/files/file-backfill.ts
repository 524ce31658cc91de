import { createHash } from 'node:crypto';
import path from 'node:path';
import { AlphalakeError, type Trade, type ValidationContext } from '../../domain/index.js';
import { FileSource, type FileSourceOptions } from './file-source.js';
import type { Ingestor, Reject } from '../ingestor.js';
import type { SourceRecord } from '../source.js';
import { IngestTally } from '../tally.js';

/**
 * Where a resumable backfill commits: the batch layer implements it over bronze.trades and
 * bronze.rejects. Each table records how many source rows of a job it holds in a Delta
 * `txn` action (appId = the job, version = rows done; PROTOCOL.md "Transaction
 * Identifiers"), in the same atomic commit as the rows, like the stream sink's offsets.
 */
export interface CheckpointSink {
  /** Rows of `job` each table holds (0 when none). */
  progress(job: string, signal?: AbortSignal): Promise<{ trades: number; rejects: number }>;
  /**
   * Commits one chunk of `job` ending at source row `rowsEnd`: the rejects to bronze.rejects
   * unless it holds `rowsEnd` rows of the job already, then the trades likewise.
   */
  commitChunk(
    job: string,
    rowsEnd: number,
    trades: readonly Trade[],
    rejects: readonly Reject[],
    signal?: AbortSignal,
  ): Promise<void>;
}

/** Source rows per commit. Fixed: a resumed run must cut its chunks where the first did. */
export const BACKFILL_CHUNK_ROWS = 50_000;

/** Rows before the resume point re-read to teach the duplicate check (TradeDeduper). */
const DEDUPE_WARMUP_ROWS = 200_000;

export interface FileBackfillProgress {
  readonly rows: number;
  readonly bytes: number;
  readonly totalBytes: number;
  readonly tally: IngestTally;
}

/**
 * Writes a recorded file of trades into the lake, resumably: it reads where the tables'
 * checkpoints say, commits a chunk of `BACKFILL_CHUNK_ROWS` source rows at a time (its valid
 * trades and its rejects, each table with its txn), and a run killed at any moment
 * — SIGKILL included — resumes without duplicating or losing a row. The job is named by
 * the files' names and sizes, so the same file resumes and a changed one starts afresh.
 */
export async function backfillFile(options: {
  file: FileSourceOptions;
  ingestor: Ingestor;
  sink: CheckpointSink;
  signal: AbortSignal;
  range?: ValidationContext['range'];
  onProgress?: (progress: FileBackfillProgress) => void;
}): Promise<{ job: string; tally: IngestTally }> {
  const { ingestor, sink, signal } = options;
  const probe = await FileSource.open(options.file);
  const job = await jobOf(probe.files);
  const done = await sink.progress(job, signal);
  const resumeAt = Math.min(done.trades, done.rejects);
  const warmFrom = Math.max(0, resumeAt - DEDUPE_WARMUP_ROWS);
  const source = await FileSource.open({ ...options.file, skipRows: warmFrom, speed: 0 });
  const tally = new IngestTally();
  tally.rowsSkipped = resumeAt;
  let row = warmFrom;
  let chunk: SourceRecord[] = [];
  let chunkStart = resumeAt;
  const report = () => {
    const p = source.progress();
    options.onProgress?.({ rows: p.rows, bytes: p.bytes, totalBytes: p.totalBytes, tally });
  };
  const commit = async (rowsEnd: number) => {
    const checked = ingestor.checkRecords(chunk, source.name, {
      ...(options.range ? { range: options.range } : {}),
    });
    if (checked.quotes.length + checked.bars.length + checked.news.length > 0) {
      throw new AlphalakeError(
        'BAD_USER_INPUT',
        `${source.name}: backfill writes trades; this file holds quotes, bars or news (use \`alphalake ingest\`)`,
      );
    }
    await sink.commitChunk(
      job,
      rowsEnd,
      rowsEnd > done.trades ? checked.trades : [],
      rowsEnd > done.rejects ? checked.rejects : [],
      signal,
    );
    tally.rowsRead = rowsEnd;
    tally.add(checked);
    chunk = [];
    chunkStart = rowsEnd;
    report();
  };
  for await (const batch of source.records(signal)) {
    for (const record of batch) {
      if (row < resumeAt) {
        row++;
        // Committed already: only the duplicate check learns it.
        ingestor.remember([record], source.name);
        continue;
      }
      chunk.push(record);
      row++;
      // Chunks end on multiples of BACKFILL_CHUNK_ROWS, whatever the resume point.
      if (row % BACKFILL_CHUNK_ROWS === 0) await commit(row);
    }
    signal.throwIfAborted();
  }
  if (row > chunkStart || chunk.length > 0) await commit(row);
  tally.rowsRead = row;
  report();
  return { job, tally };
}

/** The job's name: `backfill:<base name>:<sha-256 of names and sizes>`. */
async function jobOf(files: readonly string[]): Promise<string> {
  const { stat } = await import('node:fs/promises');
  const hash = createHash('sha256');
  for (const file of files) hash.update(`${path.basename(file)}\u0000${(await stat(file)).size}\n`);
  return `backfill:${path.basename(files[0] ?? '')}:${hash.digest('hex').slice(0, 16)}`;
}
