import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { AlphalakeError, type ValidationContext } from '../../domain/index.js';
import { FileSource, type FileSourceOptions } from './file-source.js';
import type { CheckedRecords, Ingestor } from '../ingestor.js';
import type { SourceRecord } from '../source.js';
import { IngestTally } from '../tally.js';

/**
 * Where a resumable file run commits: the lake directly (`alphalake backfill`,
 * src/batch/sink/backfill-sink.ts) or the bus and the lake sink in the same process
 * (`alphalake ingest --source file`, embedded: src/batch/sink/sink-checkpoint.ts). Each table
 * it writes records how many source rows of a job (one file) it holds in a Delta `txn`
 * action (appId = the job, version = rows done; PROTOCOL.md "Transaction Identifiers"),
 * in the same atomic commit as the rows, and the file's last commit adds
 * `completeAppId(job)`, so a finished file is passed over without being opened again.
 */
export interface CheckpointSink {
  /**
   * How far the lake holds `job`: the fewest rows any of its tables holds (0 when none),
   * and whether every table marks it complete.
   */
  progress(job: string, signal?: AbortSignal): Promise<JobProgress>;
  /**
   * Commits one chunk of `job` ending at source row `rowsEnd`: each table that holds fewer
   * rows of the job gets its records of the chunk with the job's txn (one that holds them
   * already is passed over); a `last` chunk also marks every table complete.
   */
  commitChunk(job: string, chunk: CheckpointChunk, signal?: AbortSignal): Promise<void>;
}

export interface JobProgress {
  readonly rows: number;
  readonly complete: boolean;
}

export interface CheckpointChunk {
  /** The source row the chunk ends at (exclusive), counted from the file's start. */
  readonly rowsEnd: number;
  /** The file's end: the commits mark the job complete. */
  readonly last: boolean;
  /** The chunk's records, checked (src/ingest/ingestor.ts). */
  readonly checked: CheckedRecords;
  /** The source's name (`file:…`): vendor bars keep it. */
  readonly source: string;
}

/** The txn appId that marks a job complete (its version: the file's rows). */
export function completeAppId(job: string): string {
  return `${job}:complete`;
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
 * Writes recorded files into the lake, resumably, one file at a time: a file the lake
 * marks complete is passed over unopened; otherwise it is read from where its tables'
 * checkpoints say, a chunk of `BACKFILL_CHUNK_ROWS` source rows at a time (its valid
 * records and its rejects, each table with its txn), so a run killed at any moment —
 * SIGKILL included — resumes without duplicating or losing a row. A file's job is named
 * by `kind`, its name and its size, so the same file resumes and a changed one starts
 * afresh. `accept` refuses record kinds the sink cannot write.
 */
export async function backfillFile(options: {
  file: FileSourceOptions;
  ingestor: Ingestor;
  sink: CheckpointSink;
  signal: AbortSignal;
  /** The jobs' prefix: `backfill` or `ingest` (the two write differently, so never share one). */
  kind?: string;
  range?: ValidationContext['range'];
  accept?: (checked: CheckedRecords, source: string) => void;
  onProgress?: (progress: FileBackfillProgress) => void;
}): Promise<{ jobs: string[]; tally: IngestTally }> {
  const { sink, signal } = options;
  const probe = await FileSource.open(options.file);
  const sizes = await Promise.all(probe.files.map(async (file) => (await stat(file)).size));
  const totalBytes = sizes.reduce((sum, size) => sum + size, 0);
  const accept = options.accept ?? onlyTrades;
  const tally = new IngestTally();
  const jobs: string[] = [];
  let bytesBefore = 0;
  let rowsBefore = 0;
  for (const [index, file] of probe.files.entries()) {
    const job = jobOf(options.kind ?? 'backfill', file, sizes[index]!);
    jobs.push(job);
    const done = await sink.progress(job, signal);
    if (done.complete) {
      // Committed whole by an earlier run: not read again.
      tally.rowsRead += done.rows;
      tally.rowsSkipped += done.rows;
    } else {
      await backfillOne({
        ...options,
        accept,
        file: { ...options.file, path: file },
        job,
        resumeAt: done.rows,
        tally,
        report: (source) =>
          options.onProgress?.({
            rows: rowsBefore + source.rows,
            bytes: bytesBefore + source.bytes,
            totalBytes,
            tally,
          }),
      });
    }
    rowsBefore = tally.rowsRead;
    bytesBefore += sizes[index]!;
    options.onProgress?.({ rows: tally.rowsRead, bytes: bytesBefore, totalBytes, tally });
    signal.throwIfAborted();
  }
  return { jobs, tally };
}

/** One file, from `resumeAt` to its end. */
async function backfillOne(options: {
  file: FileSourceOptions;
  ingestor: Ingestor;
  sink: CheckpointSink;
  signal: AbortSignal;
  job: string;
  resumeAt: number;
  tally: IngestTally;
  range?: ValidationContext['range'];
  accept: (checked: CheckedRecords, source: string) => void;
  report: (progress: { rows: number; bytes: number }) => void;
}): Promise<void> {
  const { ingestor, sink, signal, job, resumeAt, tally } = options;
  const warmFrom = Math.max(0, resumeAt - DEDUPE_WARMUP_ROWS);
  const source = await FileSource.open({ ...options.file, skipRows: warmFrom });
  tally.rowsSkipped += resumeAt;
  const rowsBefore = tally.rowsRead;
  let row = warmFrom;
  let chunk: SourceRecord[] = [];
  const commit = async (rowsEnd: number, last: boolean) => {
    const checked = ingestor.checkRecords(chunk, source.name, {
      ...(options.range ? { range: options.range } : {}),
    });
    options.accept(checked, source.name);
    await sink.commitChunk(job, { rowsEnd, last, checked, source: source.name }, signal);
    tally.rowsRead = rowsBefore + rowsEnd;
    tally.add(checked);
    chunk = [];
    options.report(source.progress());
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
      if (row % BACKFILL_CHUNK_ROWS === 0) await commit(row, false);
    }
    signal.throwIfAborted();
  }
  // The rest, and the mark that the file is complete (possibly an empty chunk).
  await commit(Math.max(row, resumeAt), true);
}

/** `alphalake backfill` writes trades and vendor bars (and rejects); quotes and news go through `ingest`. */
function onlyTrades(checked: CheckedRecords, source: string): void {
  if (checked.quotes.length + checked.news.length > 0) {
    throw new AlphalakeError(
      'BAD_USER_INPUT',
      `${source}: backfill writes trades and bars; this file holds quotes or news (use \`alphalake ingest\`)`,
    );
  }
}

/** A file's job: `<kind>:<base name>:<sha-256 of its name and size>`. */
function jobOf(kind: string, file: string, size: number): string {
  const name = path.basename(file);
  const hash = createHash('sha256').update(`${name}\u0000${size}\n`).digest('hex').slice(0, 16);
  return `${kind}:${name}:${hash}`;
}
