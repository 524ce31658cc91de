import { createReadStream } from 'node:fs';
import { access, constants, open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse';
import { AlphalakeError } from '../../domain/index.js';
import { sqlString, withDuckDB } from '../../lake/index.js';
import {
  layoutOfHeader,
  POLYGON_MINUTE_AGGS,
  POLYGON_TRADES,
  type RowLayout,
} from './file-layouts.js';
import type { Source, SourceRecord } from '../source.js';

/**
 * How a recorded file is read: its container (CSV, optionally gzip; Parquet) and the row
 * layout. `csv` and `parquet` recognise the layout from the header (file-layouts.ts).
 */
export const FILE_FORMATS = {
  'polygon-trades': { container: 'csv', layout: POLYGON_TRADES },
  'polygon-minute-aggs': { container: 'csv', layout: POLYGON_MINUTE_AGGS },
  csv: { container: 'csv', layout: undefined },
  parquet: { container: 'parquet', layout: undefined },
} as const satisfies Record<string, { container: 'csv' | 'parquet'; layout?: RowLayout }>;

export type FileFormat = keyof typeof FILE_FORMATS;

export const FILE_FORMAT_NAMES = Object.keys(FILE_FORMATS) as FileFormat[];

export interface FileSourceOptions {
  /** A file, or a folder whose `.csv`, `.csv.gz`, `.tsv`, `.parquet` files are read in name order (daily files). */
  readonly path: string;
  /** Inferred from the extension when absent (`.parquet` → parquet, else csv). */
  readonly format?: string;
  /**
   * Replay speed: event time runs `speed` times as fast as wall time (1 = as recorded).
   * Absent or 0: as fast as possible.
   */
  readonly speed?: number;
  /** Records per batch handed to the ingest path. */
  readonly batchSize?: number;
  /** Data rows to pass over unread at the start (a resumed backfill's committed rows). */
  readonly skipRows?: number;
}

/** How far a file source has read. */
export interface FileProgress {
  /** Data rows read (skipped rows included). */
  readonly rows: number;
  /** Bytes of the files read so far (compressed bytes for gzip). */
  readonly bytes: number;
  readonly totalBytes: number;
}

interface FilePlan {
  readonly file: string;
  readonly size: number;
  readonly container: 'csv' | 'parquet';
  readonly layout: RowLayout;
  readonly gzip: boolean;
  readonly delimiter: string;
  /** Parquet: the SELECT list that turns every column into text. */
  readonly select?: string;
}

const notFound = (file: string, why: string) =>
  new AlphalakeError('NOT_FOUND', `${file}: ${why}`, { path: file });
const badInput = (file: string, why: string) =>
  new AlphalakeError('BAD_USER_INPUT', `${file}: ${why}`, { path: file });

/**
 * A recorded file as a `Source`: streamed row by row with bounded memory (csv-parse's
 * stream over a read stream and gunzip; Parquet in DuckDB's chunks of 2048 rows), so a
 * 5 GB file is never held whole. Everything a file can be wrong about — missing,
 * unreadable, an unknown format, a header without the layout's columns — is found by
 * `open`, before a single record is read.
 */
export class FileSource implements Source {
  readonly name: string;
  private rowsRead = 0;
  private bytesRead = 0;

  private constructor(
    private readonly plans: readonly FilePlan[],
    private readonly options: FileSourceOptions,
  ) {
    this.name = `file:${path.basename(options.path)}`;
  }

  static async open(options: FileSourceOptions): Promise<FileSource> {
    if (options.format !== undefined && !(options.format in FILE_FORMATS)) {
      throw new AlphalakeError(
        'BAD_USER_INPUT',
        `unknown format "${options.format}": expected one of ${FILE_FORMAT_NAMES.join(', ')}`,
        { format: options.format },
      );
    }
    if (options.speed !== undefined && !(Number.isFinite(options.speed) && options.speed >= 0)) {
      throw new AlphalakeError(
        'BAD_USER_INPUT',
        `speed must be a number ≥ 0, got ${options.speed}`,
      );
    }
    const files = await filesAt(options.path);
    const plans: FilePlan[] = [];
    for (const file of files) plans.push(await planOf(file, options.format as FileFormat));
    return new FileSource(plans, options);
  }

  /** The files this source reads, in order. */
  get files(): readonly string[] {
    return this.plans.map((p) => p.file);
  }

  progress(): FileProgress {
    return {
      rows: this.rowsRead,
      bytes: this.bytesRead,
      totalBytes: this.plans.reduce((sum, p) => sum + p.size, 0),
    };
  }

  async *records(signal: AbortSignal): AsyncIterable<readonly SourceRecord[]> {
    const batchSize = this.options.batchSize ?? 10_000;
    const speed = this.options.speed ?? 0;
    let skip = this.options.skipRows ?? 0;
    let batch: SourceRecord[] = [];
    // Pacing: event time t is due at wall time start + (t − first) / speed.
    let first: number | undefined;
    let started = 0;
    let bytesBefore = 0;
    for (const plan of this.plans) {
      const rows =
        plan.container === 'csv'
          ? csvRows(plan, signal, (bytes) => (this.bytesRead = bytesBefore + bytes))
          : parquetRows(plan, signal, skip);
      if (plan.container === 'parquet') {
        // DuckDB skipped these rows itself (OFFSET).
        const count = await parquetRowCount(plan, signal);
        const skipped = Math.min(skip, count);
        this.rowsRead += skipped;
        skip -= skipped;
      }
      for await (const chunk of rows) {
        for (const { row, raw, problem } of chunk) {
          this.rowsRead++;
          if (skip > 0) {
            skip--;
            continue;
          }
          const record: SourceRecord =
            problem === undefined
              ? plan.layout.toRecord(row, raw)
              : { kind: 'malformed', raw, detail: problem };
          if (speed > 0 && 'value' in record && typeof record.value === 'object') {
            const ts = (record.value as { ts?: number }).ts;
            if (typeof ts === 'number') {
              if (first === undefined) {
                first = ts;
                started = performance.now();
              }
              const due = started + (ts - first) / 1000 / speed - performance.now();
              if (due > 1 && batch.length > 0) {
                yield batch;
                batch = [];
              }
              if (due > 1) await sleep(due, undefined, { signal });
            }
          }
          batch.push(record);
          if (batch.length >= batchSize) {
            yield batch;
            batch = [];
          }
        }
        signal.throwIfAborted();
      }
      bytesBefore += plan.size;
      this.bytesRead = bytesBefore;
    }
    if (batch.length > 0) yield batch;
  }
}

/** The file, or a folder's data files in name order (Polygon's daily files sort by date). */
async function filesAt(target: string): Promise<string[]> {
  const info = await stat(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw notFound(target, 'no such file or folder');
    throw badInput(target, `cannot be read (${error.code ?? error.message})`);
  });
  if (!info.isDirectory()) return [target];
  const names = (await readdir(target))
    .filter((name) => /\.(csv|tsv|csv\.gz|tsv\.gz|parquet)$/i.test(name))
    .sort();
  if (names.length === 0)
    throw notFound(target, 'the folder holds no .csv, .csv.gz or .parquet file');
  return names.map((name) => path.join(target, name));
}

async function planOf(file: string, format: FileFormat | undefined): Promise<FilePlan> {
  await access(file, constants.R_OK).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw notFound(file, 'no such file');
    throw badInput(file, `cannot be read (${error.code ?? error.message})`);
  });
  const { size } = await stat(file);
  const chosen = format ?? (/\.parquet$/i.test(file) ? 'parquet' : 'csv');
  const { container, layout } = FILE_FORMATS[chosen];
  if (container === 'parquet') {
    const columns = await parquetColumns(file);
    const found = layout ?? layoutOfHeader(columns.map((c) => c.name));
    if (!found || !found.required.every((c) => columns.some((col) => col.name === c))) {
      throw badInput(
        file,
        missingColumns(
          found,
          columns.map((c) => c.name),
        ),
      );
    }
    // Every column as text, so one row mapper serves CSV and Parquet; a nanosecond
    // timestamp column as its epoch-ns digits (whole: epoch_ns is an int64).
    const select = columns
      .map(({ name, type }) => {
        const id = `"${name.replaceAll('"', '""')}"`;
        const value = /^TIMESTAMP_NS/i.test(type) ? `epoch_ns(${id})` : id;
        return `CAST(${value} AS VARCHAR) AS ${id}`;
      })
      .join(', ');
    return { file, size, container, layout: found, gzip: false, delimiter: ',', select };
  }
  const { gzip, header } = await csvHeader(file);
  const delimiter = header.includes('\t') ? '\t' : ',';
  const names = header.split(delimiter).map((name) => name.trim().replace(/^"|"$/g, ''));
  const found = layout ?? layoutOfHeader(names);
  if (!found || !found.required.every((c) => names.includes(c))) {
    throw badInput(file, missingColumns(found, names));
  }
  return { file, size, container, layout: found, gzip, delimiter };
}

function missingColumns(layout: RowLayout | undefined, header: readonly string[]): string {
  if (layout) {
    const missing = layout.required.filter((c) => !header.includes(c));
    return `the header lacks column${missing.length === 1 ? '' : 's'} ${missing.join(', ')} of the ${layout.name} layout`;
  }
  return `the header (${header.slice(0, 12).join(', ')}) matches no known layout (polygon-trades, polygon-minute-aggs, trades, quotes)`;
}

/** The first line of a CSV file (gunzipped when it starts with gzip's magic bytes). */
async function csvHeader(file: string): Promise<{ gzip: boolean; header: string }> {
  const handle = await open(file, 'r');
  let magic: Buffer;
  try {
    magic = Buffer.alloc(2);
    await handle.read(magic, 0, 2, 0);
  } finally {
    await handle.close();
  }
  const gzip = magic[0] === 0x1f && magic[1] === 0x8b;
  const input = createReadStream(file, { highWaterMark: 64 * 1024 });
  const stream = gzip ? input.pipe(createGunzip()) : input;
  let text = '';
  try {
    for await (const chunk of stream) {
      text += (chunk as Buffer).toString('utf8');
      if (text.includes('\n') || text.length > 1 << 20) break;
    }
  } catch (error) {
    throw badInput(file, `cannot be read: ${(error as Error).message}`);
  } finally {
    input.destroy();
  }
  const header = text.split(/\r?\n/, 1)[0]!.replace(/^\uFEFF/, '');
  if (header.trim() === '') throw badInput(file, 'the file is empty (no header row)');
  return { gzip, header };
}

interface TextRow {
  readonly row: Readonly<Record<string, string | null>>;
  readonly raw: string;
  /** Why the row could not be split into the header's columns, if it could not. */
  readonly problem?: string;
}

/** The data rows of a CSV file, in chunks, by column name; a row that cannot be parsed keeps its raw text. */
async function* csvRows(
  plan: FilePlan,
  signal: AbortSignal,
  onBytes: (bytes: number) => void,
): AsyncIterable<TextRow[]> {
  const input = createReadStream(plan.file, { highWaterMark: 256 * 1024 });
  let bytes = 0;
  input.on('data', (chunk) => onBytes((bytes += chunk.length)));
  const skipped: TextRow[] = [];
  const parser = parse({
    delimiter: plan.delimiter,
    bom: true,
    raw: true,
    relax_column_count: true,
    skip_empty_lines: true,
    // A row csv-parse cannot read (a broken quote) becomes a MALFORMED_ROW, never lost.
    skip_records_with_error: true,
    on_skip: (error, raw) => {
      skipped.push({
        row: {},
        raw: (raw ?? '').replace(/\r?\n$/, ''),
        problem: error?.message ?? 'unreadable CSV',
      });
      return undefined;
    },
  });
  const streams = plan.gzip ? [input, createGunzip(), parser] : [input, parser];
  // pipeline destroys every stream with the first error, so the loop below sees it.
  (pipeline as (...s: unknown[]) => void)(...streams, () => undefined);
  const onAbort = () => input.destroy(signal.reason as Error);
  signal.addEventListener('abort', onAbort, { once: true });
  let header: string[] | undefined;
  let chunk: TextRow[] = [];
  try {
    for await (const { record, raw } of parser as AsyncIterable<{
      record: string[];
      raw: string;
    }>) {
      if (header === undefined) {
        header = record.map((name) => name.trim());
        continue;
      }
      if (skipped.length > 0) chunk.push(...skipped.splice(0));
      const rawLine = raw.replace(/\r?\n$/, '');
      if (record.length !== header.length) {
        chunk.push({
          row: {},
          raw: rawLine,
          problem: `${record.length} fields where the header has ${header.length}`,
        });
      } else {
        const row: Record<string, string> = {};
        for (let i = 0; i < header.length; i++) row[header[i]!] = record[i]!;
        chunk.push({ row, raw: rawLine });
      }
      if (chunk.length >= 1024) {
        yield chunk;
        chunk = [];
      }
    }
  } catch (error) {
    signal.throwIfAborted();
    throw badInput(plan.file, `cannot be read: ${(error as Error).message}`);
  } finally {
    signal.removeEventListener('abort', onAbort);
    input.destroy();
  }
  if (skipped.length > 0) chunk.push(...skipped.splice(0));
  if (chunk.length > 0) yield chunk;
}

async function parquetColumns(file: string): Promise<{ name: string; type: string }[]> {
  try {
    return await withDuckDB(async (connection) => {
      const reader = await connection.runAndReadAll(
        `DESCRIBE SELECT * FROM read_parquet(${sqlString(file)})`,
      );
      return reader
        .getRowObjectsJS()
        .map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
    });
  } catch (error) {
    throw badInput(file, `is not a readable Parquet file: ${(error as Error).message}`);
  }
}

async function parquetRowCount(plan: FilePlan, signal: AbortSignal): Promise<number> {
  return withDuckDB(async (connection) => {
    const reader = await connection.runAndReadAll(
      `SELECT count(*) AS n FROM read_parquet(${sqlString(plan.file)})`,
    );
    return Number(reader.getRowObjectsJS()[0]!.n);
  }, signal);
}

/**
 * A Parquet file's rows as text, chunk by chunk: DuckDB streams the query (one vector of
 * 2048 rows at a time), and the consumer takes each chunk before the next is fetched,
 * so memory holds one chunk, whatever the file's size.
 */
async function* parquetRows(
  plan: FilePlan,
  signal: AbortSignal,
  skip: number,
): AsyncIterable<TextRow[]> {
  // A one-slot hand-over between DuckDB's connection (held inside withDuckDB) and this generator.
  let deliver: ((rows: TextRow[] | undefined) => void) | undefined;
  let taken: (() => void) | undefined;
  let failure: unknown;
  let stopped = false;
  const next = () => new Promise<TextRow[] | undefined>((resolve) => (deliver = resolve));
  let pending = next();
  const done = withDuckDB(async (connection) => {
    const result = await connection.stream(
      `SELECT ${plan.select} FROM read_parquet(${sqlString(plan.file)}) OFFSET ${Math.max(0, Math.floor(skip))}`,
    );
    const names = result.columnNames();
    for (;;) {
      const data = await result.fetchChunk();
      if (!data || data.rowCount === 0) break;
      const rows = data.getRowObjects(names).map((object) => {
        const row: Record<string, string | null> = {};
        for (const name of names) row[name] = object[name] === null ? null : String(object[name]);
        return { row, raw: JSON.stringify(row) };
      });
      const handedOver = new Promise<void>((resolve) => (taken = resolve));
      deliver!(rows);
      await handedOver;
      if (stopped) break;
      signal.throwIfAborted();
    }
  }, signal)
    .catch((error: unknown) => {
      failure = error;
    })
    .finally(() => deliver?.(undefined));
  try {
    for (;;) {
      const rows = await pending;
      if (rows === undefined) break;
      pending = next();
      yield rows;
      taken?.();
    }
    await done;
    if (failure !== undefined) {
      signal.throwIfAborted();
      throw badInput(plan.file, `cannot be read: ${(failure as Error).message}`);
    }
  } finally {
    // A consumer that stops early releases DuckDB's connection.
    stopped = true;
    taken?.();
  }
}
