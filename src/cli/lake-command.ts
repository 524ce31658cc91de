import { Command, InvalidArgumentError, Option } from 'commander';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  DeltaTable,
  lakeValueToJson,
  localObjectStore,
  s3ObjectStore,
  type ObjectStore,
  type Snapshot,
} from '../lake/index.js';

/**
 * `alphalake lake history|schema|read|optimize|vacuum <path-or-s3-uri>`: inspect and
 * maintain a Delta table. S3 settings come from the caller (the composition root passes
 * config); this file reads no environment variables.
 */
export interface LakeCommandOptions {
  /** How `s3://bucket/key` URIs are reached. */
  readonly s3?: {
    readonly endpoint?: string;
    readonly region?: string;
    readonly forcePathStyle?: boolean;
    readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
    /** @default <tmpdir>/alphalake-cache */
    readonly cacheDir?: string;
    /** Bound of that cache (LAKE_CACHE_BYTES). @default the store's */
    readonly cacheMaxBytes?: number;
  };
  /** Where output goes. @default process.stdout */
  readonly write?: (text: string) => void;
}

type Format = 'jsonl' | 'csv' | 'table';

/** A store and table path for a local folder or an `s3://bucket/prefix` URI. */
export function openLocation(
  location: string,
  options: LakeCommandOptions = {},
): { store: ObjectStore; tablePath: string } {
  const match = /^s3a?:\/\/([^/]+)\/?(.*)$/.exec(location);
  if (match) {
    const s3 = options.s3 ?? {};
    return {
      store: s3ObjectStore({
        bucket: match[1] as string,
        endpoint: s3.endpoint,
        region: s3.region,
        forcePathStyle: s3.forcePathStyle,
        credentials: s3.credentials,
        cacheDir: s3.cacheDir ?? path.join(tmpdir(), 'alphalake-cache'),
        ...(s3.cacheMaxBytes !== undefined ? { cacheMaxBytes: s3.cacheMaxBytes } : {}),
      }),
      tablePath: (match[2] ?? '').replace(/\/+$/, ''),
    };
  }
  // The folder above the table is the store's root, so messages name the table.
  const absolute = path.resolve(location);
  return { store: localObjectStore(path.dirname(absolute)), tablePath: path.basename(absolute) };
}

function parseInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('not a non-negative integer');
  return n;
}

function parseTimestamp(value: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new InvalidArgumentError('not a timestamp (ISO-8601)');
  return date;
}

const formatOption = (): Option =>
  new Option('--format <format>', 'output format')
    .choices(['jsonl', 'csv', 'table'])
    .default('table');

function timeTravel(command: Command): Command {
  return command
    .addOption(
      new Option('--version <n>', 'read this table version')
        .argParser(parseInteger)
        .conflicts('timestamp'),
    )
    .addOption(
      new Option('--timestamp <t>', 'read the version current at this time').argParser(
        parseTimestamp,
      ),
    );
}

export function lakeCommand(options: LakeCommandOptions = {}): Command {
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const open = async (location: string) => {
    const { store, tablePath } = openLocation(location, options);
    return DeltaTable.open(store, tablePath);
  };
  const snapshotOf = (
    table: DeltaTable,
    opts: { version?: number; timestamp?: Date },
  ): Promise<Snapshot> =>
    opts.version !== undefined || opts.timestamp !== undefined
      ? table.snapshot({ version: opts.version, timestamp: opts.timestamp })
      : table.snapshot();

  const lake = new Command('lake').description(
    'inspect and maintain Delta tables (local folder or s3:// URI)',
  );

  lake
    .command('history')
    .description('list the commits of a table, newest first')
    .argument('<table>', 'table folder or s3://bucket/path')
    .option('--limit <n>', 'at most this many commits', parseInteger)
    .addOption(formatOption())
    .action(async (location: string, opts: { limit?: number; format: Format }) => {
      const table = await open(location);
      const history = await table.history(opts.limit);
      const rows = history.map((h) => ({
        version: h.version,
        timestamp: h.timestamp,
        operation: h.operation ?? null,
        parameters: h.operationParameters ? JSON.stringify(h.operationParameters) : null,
        metrics: h.operationMetrics ? JSON.stringify(h.operationMetrics) : null,
      }));
      write(
        render(rows, ['version', 'timestamp', 'operation', 'parameters', 'metrics'], opts.format),
      );
    });

  timeTravel(
    lake
      .command('schema')
      .description('print the columns of a table')
      .argument('<table>', 'table folder or s3://bucket/path'),
  )
    .addOption(formatOption())
    .action(
      async (location: string, opts: { version?: number; timestamp?: Date; format: Format }) => {
        const table = await open(location);
        const snapshot = await snapshotOf(table, opts);
        const rows = snapshot.schema.map((c) => ({
          name: c.name,
          type: typeof c.type === 'string' ? c.type : JSON.stringify(c.type),
          nullable: c.nullable,
          partition: snapshot.partitionColumns.includes(c.name),
        }));
        write(render(rows, ['name', 'type', 'nullable', 'partition'], opts.format));
      },
    );

  timeTravel(
    lake
      .command('read')
      .description(
        'print the rows of a table, exactly: timestamps with every microsecond; in JSON, longs beyond ±(2^53−1) and decimals as strings',
      )
      .argument('<table>', 'table folder or s3://bucket/path'),
  )
    .option('--columns <names>', 'comma-separated columns to print')
    .option('--limit <n>', 'at most this many rows', parseInteger)
    .addOption(formatOption())
    .action(
      async (
        location: string,
        opts: {
          version?: number;
          timestamp?: Date;
          columns?: string;
          limit?: number;
          format: Format;
        },
      ) => {
        const table = await open(location);
        const snapshot = await snapshotOf(table, opts);
        const columns = opts.columns
          ? opts.columns.split(',').map((c) => c.trim())
          : snapshot.schema.map((c) => c.name);
        const { rows } = await table.query({ snapshot, columns, limit: opts.limit });
        write(render(rows, columns, opts.format));
      },
    );

  lake
    .command('optimize')
    .description('compact small files per partition (bin-packing, re-clustered)')
    .argument('<table>', 'table folder or s3://bucket/path')
    .option('--target-size <bytes>', 'target file size in bytes', parseInteger)
    .action(async (location: string, opts: { targetSize?: number }) => {
      const table = await open(location);
      const result = await table.optimize({ targetFileSize: opts.targetSize });
      write(`${JSON.stringify(result)}\n`);
    });

  lake
    .command('vacuum')
    .description('delete unreferenced data files older than the retention period')
    .argument('<table>', 'table folder or s3://bucket/path')
    .option(
      '--retention-hours <n>',
      'keep files removed less than this long ago',
      parseInteger,
      168,
    )
    .option('--dry-run', 'only list the files that would be deleted', false)
    .option('--no-enforce-retention', 'allow a retention shorter than the table minimum (7 days)')
    .action(
      async (
        location: string,
        opts: { retentionHours: number; dryRun: boolean; enforceRetention: boolean },
      ) => {
        const table = await open(location);
        const result = await table.vacuum(opts);
        for (const file of result.filesDeleted) write(`${file}\n`);
        write(
          `${result.dryRun ? 'would delete' : 'deleted'} ${result.filesDeleted.length} files\n`,
        );
      },
    );

  return lake;
}

/** Exact JSON for a value: see `lakeValueToJson` (docs/lake.md "CLI"). */
const jsonValue = lakeValueToJson;

function text(value: unknown): string {
  const v = jsonValue(value);
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function csvCell(value: unknown): string {
  const t = text(value);
  return /[",\n\r]/.test(t) ? `"${t.replaceAll('"', '""')}"` : t;
}

/** Rows as JSON lines, CSV (RFC 4180) or an aligned text table. */
export function render(
  rows: readonly Record<string, unknown>[],
  columns: readonly string[],
  format: Format,
): string {
  if (format === 'jsonl') {
    return rows
      .map(
        (row) =>
          JSON.stringify(Object.fromEntries(columns.map((c) => [c, jsonValue(row[c] ?? null)]))) +
          '\n',
      )
      .join('');
  }
  if (format === 'csv') {
    return [
      columns.map(csvCell).join(','),
      ...rows.map((row) => columns.map((c) => csvCell(row[c])).join(',')),
    ]
      .map((line) => `${line}\n`)
      .join('');
  }
  const cells = rows.map((row) => columns.map((c) => text(row[c])));
  const widths = columns.map((c, i) =>
    Math.min(60, Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length))),
  );
  const line = (values: readonly string[]) =>
    values
      .map((v, i) =>
        v.length > (widths[i] ?? 0)
          ? `${v.slice(0, (widths[i] ?? 1) - 1)}…`
          : v.padEnd(widths[i] ?? 0),
      )
      .join('  ');
  return [line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)]
    .map((l) => `${l.trimEnd()}\n`)
    .join('');
}
