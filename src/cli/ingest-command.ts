import { Command, Option } from 'commander';
import { SingleBar } from 'cli-progress';
import { createBackfillContext, createPlatform } from '../app.js';
import path from 'node:path';
import { LakeLedger, NewsWriter, SinkCheckpoint } from '../batch/index.js';
import { loadConfig, type Config } from '../config/index.js';
import { AlphalakeError, parseIsoMicros, type ValidationContext } from '../domain/index.js';
import {
  backfillFile,
  FILE_FORMAT_NAMES,
  FileSource,
  NewsFileSource,
  ProducerCheckpoint,
  type CheckedRecords,
  type FileBackfillProgress,
} from '../ingest/index.js';
import { homeOption, serve, settingsOf, type CommonFlags } from './serve-command.js';
import { POLYGON_DATASETS } from '../ingest/index.js';
import { ingestFromVendor, VENDOR_SOURCES, type VendorIngestFlags } from './source-ingest.js';

interface IngestFlags extends CommonFlags, Partial<Omit<VendorIngestFlags, 'source'>> {
  source: string;
  path?: string;
  format?: string;
  speed?: string;
  from?: string;
  to?: string;
}

/**
 * The sources `alphalake ingest` runs, by `--source` name: one line each, so a new
 * source (Polygon, Yahoo, news) is one more entry.
 */
const INGEST_SOURCES: Record<string, (flags: IngestFlags) => Promise<void>> = {
  simulator: async (flags) => {
    await serve(loadConfig({ ...settingsOf({ ...flags, role: 'ingest' }), SIM_ENABLED: 'true' }));
  },
  file: (flags) => ingestFile(flags),
  replay: (flags) => ingestFile(flags),
  news: (flags) => ingestNewsFile(flags),
  ...Object.fromEntries(
    VENDOR_SOURCES.map((name) => [name, (flags: IngestFlags) => ingestVendor(flags)]),
  ),
};

/** The sources `alphalake backfill` writes history from. */
const BACKFILL_SOURCES: Record<string, (flags: IngestFlags) => Promise<void>> = {
  file: (flags) => backfillFromFile(flags),
  replay: (flags) => backfillFromFile(flags),
};

const fileOptions = (command: Command) =>
  command
    .addOption(
      new Option(
        '--path <path>',
        'a recorded file (.csv, .csv.gz, .tsv, .parquet) or a folder of them (read in name order)',
      ),
    )
    .addOption(new Option('--file <path>', 'same as --path'))
    .addOption(
      new Option(
        '--format <format>',
        'how to read it (default: from the extension and header)',
      ).choices(FILE_FORMAT_NAMES),
    )
    .addOption(
      new Option(
        '--from <instant>',
        'reject event times before this ISO-8601 instant (TIMESTAMP_OUT_OF_RANGE)',
      ),
    )
    .addOption(new Option('--to <instant>', 'reject event times at or after this instant'))
    .addOption(homeOption());

/** `alphalake ingest --source …`: a producer onto the bus. */
export function ingestCommand(): Command {
  return fileOptions(
    new Command('ingest')
      .description(
        'Run a producer: the market simulator (lake history up to now, then live trades onto Kafka; needs KAFKA_BROKERS; its splits and dividends go to master data, its news to the news topic and bronze.news, SIM_* settings), Polygon’s REST API (`polygon`: --dataset, --symbols, --from, --to), Polygon’s WebSocket until stopped (`polygon-ws`), Yahoo daily bars, splits and dividends (`yahoo`; docs/sources.md), or a recorded file replayed through validation onto the bus (`--source file --path …`), or a JSON or RSS news file into bronze.news (`--source news --path …`, duplicates dropped by id). A file replay is resumable after Ctrl-C or SIGKILL (completed files passed over): in the embedded profile it runs the lake sink in the same process, commits each chunk with the file’s checkpoint and exits 0 once everything read is committed; with Kafka it keeps what Kafka acknowledged in a checkpoint under ALPHALAKE_HOME/ingest and exits 0 once everything read is published (the sink role commits it); a summary line either way.',
      )
      .addOption(
        new Option('--source <source>', 'where the records come from')
          .choices(Object.keys(INGEST_SOURCES))
          .default('simulator'),
      )
      .addOption(new Option('--symbols <list>', 'comma-separated tickers (vendor sources)'))
      .addOption(
        new Option('--dataset <dataset>', 'what `polygon` fetches')
          .choices([...POLYGON_DATASETS])
          .default('trades'),
      )
      .addOption(
        new Option('--interval <interval>', 'bar width of `--dataset aggregates`')
          .choices(['1s', '1m', '1d'])
          .default('1m'),
      )
      .addOption(
        new Option('--channels <list>', 'channels of `polygon-ws`: T, Q, A, AM').default('T,Q,AM'),
      )
      .addOption(
        new Option(
          '--speed <factor>',
          'replay a file N times as fast as recorded (1 = real time); absent or 0: as fast as possible',
        ),
      ),
  ).action(async (flags: IngestFlags & { file?: string }) => {
    await INGEST_SOURCES[flags.source]!({ ...flags, ...(flags.file ? { path: flags.file } : {}) });
  });
}

/** `alphalake backfill --source file --path …`: history into the lake, resumable. */
export function backfillCommand(): Command {
  return fileOptions(
    new Command('backfill')
      .description(
        'Write recorded files of trades or minute aggregates into the lake (bronze.trades, bronze.vendor_bars, bad rows to bronze.rejects) through checkpointed Delta commits, one file at a time. Interrupted (Ctrl-C or SIGKILL), it resumes where the lake says on the next run, without duplicating a row or reading a completed file again, and reports how many rows it skipped as already committed. A progress bar on a terminal; log lines otherwise.',
      )
      .addOption(
        new Option('--source <source>', 'where the history comes from')
          .choices(Object.keys(BACKFILL_SOURCES))
          .default('file'),
      ),
  ).action(async (flags: IngestFlags & { file?: string }) => {
    await BACKFILL_SOURCES[flags.source]!({
      ...flags,
      ...(flags.file ? { path: flags.file } : {}),
    });
  });
}

/**
 * A vendor source (Polygon REST or WebSocket, Yahoo) to its end or until SIGINT, through
 * the Ingestor (src/cli/source-ingest.ts). With Kafka the sink runs elsewhere; with the
 * in-process bus it must run here (every role, as the in-process bus reaches only this
 * process). It opens no port and answers no request, so it needs no token settings.
 */
async function ingestVendor(flags: IngestFlags): Promise<void> {
  const settings = settingsOf(flags);
  const role = loadConfig(settings).kafkaBrokers ? 'ingest' : 'all';
  const config = loadConfig({ ...settings, SIM_ENABLED: 'false', ALPHALAKE_ROLE: role });
  const started = Date.now();
  const s = await ingestFromVendor(config, flags as VendorIngestFlags);
  console.log(
    `alphalake: ${flags.source}: ${s.trades} trades, ${s.quotes} quotes, ${s.bars} bars, ${s.news} news, ${s.corporateActions} corporate actions read; ${s.accepted} accepted, ${s.rejected} rejected, ${s.malformed} malformed (${Date.now() - started} ms)`,
  );
  process.exit(0);
}

/** `--from`/`--to` as a validation range, refused when unreadable or empty. */
export function rangeOf(flags: { from?: string; to?: string }): ValidationContext['range'] {
  if (flags.from === undefined && flags.to === undefined) return undefined;
  const parse = (name: string, text: string | undefined, fallback: number) => {
    if (text === undefined) return fallback;
    const micros = parseIsoMicros(text);
    if (micros === undefined) {
      throw new AlphalakeError(
        'BAD_USER_INPUT',
        `--${name} ${JSON.stringify(text)} is not an ISO-8601 date or instant`,
        {
          option: name,
        },
      );
    }
    return micros;
  };
  const from = parse('from', flags.from, Number.MIN_SAFE_INTEGER);
  const to = parse('to', flags.to, Number.MAX_SAFE_INTEGER);
  if (!(from < to)) {
    throw new AlphalakeError(
      'BAD_USER_INPUT',
      `bad date range: --from ${flags.from} is not before --to ${flags.to}`,
      { from: flags.from, to: flags.to },
    );
  }
  return { from, to };
}

function requirePath(flags: IngestFlags): string {
  if (!flags.path) {
    throw new AlphalakeError(
      'BAD_USER_INPUT',
      `--source ${flags.source} needs --path <file or folder>`,
    );
  }
  return flags.path;
}

function speedOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const speed = Number(text);
  if (!Number.isFinite(speed) || speed < 0)
    throw new AlphalakeError(
      'BAD_USER_INPUT',
      `--speed must be a number ≥ 0, got ${JSON.stringify(text)}`,
    );
  return speed;
}

/** Aborted on the first Ctrl-C or SIGTERM. */
function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  const stop = () => controller.abort(new AlphalakeError('UNAVAILABLE', 'interrupted'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return controller.signal;
}

/** Lets the in-process bus hand what was published to its consumers (it delivers on microtasks). */
const busDelivered = () => new Promise<void>((resolve) => setImmediate(resolve));

async function ingestFile(flags: IngestFlags): Promise<void> {
  // Everything the input can be wrong about is found before the lake is touched.
  const range = rangeOf(flags);
  const speed = speedOf(flags.speed);
  const source = await FileSource.open({
    path: requirePath(flags),
    ...(flags.format ? { format: flags.format } : {}),
    ...(speed === undefined ? {} : { speed }),
  });
  const base = loadConfig({ ...settingsOf(flags), SIM_ENABLED: 'false' });
  // With Kafka this process only produces (the sink role commits). In-process it runs the
  // ingest and sink roles together: a replay has no reader for the speed layer to serve,
  // and its store would hold every replayed trade.
  const config: Config =
    base.profile.bus.backend === 'memory'
      ? { ...base, roles: ['ingest', 'sink'] }
      : loadConfig({ ...settingsOf({ ...flags, role: 'ingest' }), SIM_ENABLED: 'false' });
  const platform = await createPlatform(config);
  const inProcess = config.profile.bus.backend === 'memory';
  const signal = interruptSignal();
  // No timer: in-process, every flush is a checkpointed chunk's (SinkCheckpoint).
  await platform.start({ live: false });
  const started = Date.now();
  try {
    // Each chunk of each file is checkpointed, and a rerun resumes after it (docs/ingest.md
    // "Resumable file runs"). In-process the sink runs here and commits each chunk with the
    // file's checkpoint in the lake. With Kafka this process only produces: a checkpoint
    // file under ALPHALAKE_HOME/ingest records what Kafka acknowledged, and a resumed run
    // asks the lake about the one chunk a kill may have left half published.
    const publish = (checked: CheckedRecords, name: string, signal?: AbortSignal) =>
      platform.ingestor.publishChecked(checked, name, signal);
    const { tally } = await backfillFile({
      kind: 'ingest',
      file: {
        path: requirePath(flags),
        ...(flags.format ? { format: flags.format } : {}),
        ...(speed === undefined ? {} : { speed }),
      },
      ingestor: platform.ingestor,
      sink: inProcess
        ? new SinkCheckpoint(platform.tables, platform.sink, publish, busDelivered)
        : new ProducerCheckpoint({
            folder: path.join(config.home, 'ingest'),
            publish,
            ledger: new LakeLedger(platform.tables, platform.bus),
            now: () => platform.clock.now(),
          }),
      signal,
      accept: () => undefined,
      ...(range ? { range } : {}),
    });
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `alphalake: ${source.name}: ${tally.summary()}; ${inProcess ? 'committed to the lake' : 'published to Kafka'} in ${seconds.toFixed(1)} s`,
    );
  } catch (error) {
    if (signal.aborted) {
      console.error(
        'alphalake: ingest interrupted; what was committed stays, and the next run resumes after it',
      );
      process.exitCode = 130;
      return;
    }
    throw error;
  } finally {
    await platform.stop();
  }
}

async function backfillFromFile(flags: IngestFlags): Promise<void> {
  const range = rangeOf(flags);
  const file = {
    path: requirePath(flags),
    ...(flags.format ? { format: flags.format } : {}),
  };
  // Opened once here so a missing, unreadable or unknown file fails before the lake is opened.
  const probe = await FileSource.open(file);
  const context = await createBackfillContext(
    loadConfig({ ...settingsOf(flags), SIM_ENABLED: 'false' }),
  );
  const signal = interruptSignal();
  const display = progressDisplay(probe.progress().totalBytes);
  const started = Date.now();
  try {
    const { tally } = await backfillFile({
      file,
      ingestor: context.ingestor,
      sink: context.sink,
      signal,
      ...(range ? { range } : {}),
      onProgress: display.update,
    });
    display.stop();
    console.log(
      `alphalake: backfill ${probe.name}: ${tally.summary()}; committed to the lake in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  } catch (error) {
    display.stop();
    if (signal.aborted) {
      console.error(
        'alphalake: backfill interrupted; what was committed stays, and the next run resumes after it',
      );
      process.exitCode = 130;
      return;
    }
    throw error;
  } finally {
    await context.close();
  }
}

/** A progress bar on a terminal (rows/s, percent, ETA); a log line every 5 s otherwise. */
function progressDisplay(totalBytes: number): {
  update: (progress: FileBackfillProgress) => void;
  stop: () => void;
} {
  const started = Date.now();
  const rate = (rows: number) => Math.round(rows / Math.max(0.001, (Date.now() - started) / 1000));
  if (process.stderr.isTTY) {
    const bar = new SingleBar({
      stream: process.stderr,
      format: 'backfill {bar} {percentage}% | {rows} rows | {rate} rows/s | ETA {eta_formatted}',
      etaBuffer: 20,
    });
    bar.start(Math.max(1, totalBytes), 0, { rows: 0, rate: 0 });
    return {
      update: (p) =>
        bar.update(p.bytes, { rows: p.rows, rate: rate(p.rows - p.tally.rowsSkipped) }),
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  return {
    update: (p) => {
      if (Date.now() - last < 5_000) return;
      last = Date.now();
      const percent = totalBytes > 0 ? ((100 * p.bytes) / totalBytes).toFixed(1) : '100';
      console.error(
        `alphalake: backfill ${percent}%: ${p.rows} rows (${p.tally.rowsSkipped} already committed), ${rate(p.rows - p.tally.rowsSkipped)} rows/s`,
      );
    },
    stop: () => undefined,
  };
}

/** `ingest --source news`: a JSON or RSS news file straight into bronze.news, duplicates dropped by id. */
async function ingestNewsFile(flags: IngestFlags): Promise<void> {
  const source = await NewsFileSource.open(requirePath(flags));
  const context = await createBackfillContext(
    loadConfig({ ...settingsOf(flags), SIM_ENABLED: 'false' }),
  );
  const writer = new NewsWriter(context.tables.news, context.tables.rejects);
  const signal = interruptSignal();
  let read = 0;
  let written = 0;
  let duplicates = 0;
  let rejected = 0;
  for await (const batch of source.records(signal)) {
    const checked = context.ingestor.checkRecords(batch, source.name);
    await writer.reject(checked.rejects, signal);
    const result = await writer.write(checked.news, signal);
    read += batch.length;
    written += result.written;
    duplicates += result.duplicates;
    rejected += checked.rejects.length;
  }
  await context.close();
  console.log(
    `alphalake: ${source.name}: ${read} articles read; ${written} written to bronze.news; duplicates ${duplicates}; rejected ${rejected}`,
  );
}
