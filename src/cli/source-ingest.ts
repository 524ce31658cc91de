import { createPlatform } from '../app.js';
import { NewsWriter } from '../batch/index.js';
import type { Config } from '../config/index.js';
import {
  AlphalakeError,
  isAlphalakeError,
  isoOfMicros,
  parseIsoMicros,
  type Bar,
  type BarInterval,
  type CorporateAction,
  type NewsItem,
  type Quote,
  type Trade,
} from '../domain/index.js';
import {
  POLYGON_CHANNELS,
  POLYGON_DATASETS,
  PolygonRestClient,
  PolygonRestSource,
  PolygonWebSocketSource,
  YahooChartClient,
  YahooDailySource,
  type PolygonChannel,
  type PolygonDataset,
  type Reject,
  type Source,
  type SourceRecord,
} from '../ingest/index.js';

/** The network sources `alphalake ingest --source` reaches. */
export const VENDOR_SOURCES = ['polygon', 'polygon-ws', 'yahoo'] as const;
export type VendorSourceName = (typeof VENDOR_SOURCES)[number];

export interface VendorIngestFlags {
  readonly source: VendorSourceName;
  readonly symbols?: string;
  readonly from?: string;
  readonly to?: string;
  readonly dataset?: string;
  readonly interval?: string;
  readonly channels?: string;
}

function badInput(message: string): AlphalakeError {
  return new AlphalakeError('BAD_USER_INPUT', message);
}

function symbolsOf(flags: VendorIngestFlags): string[] {
  const symbols = (flags.symbols ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (symbols.length === 0)
    throw badInput(`--source ${flags.source} needs --symbols (e.g. --symbols AAPL,MSFT)`);
  return symbols;
}

/** `--from` and `--to` (ISO dates or instants, UTC) as a µs range, `from` before `to`. */
function rangeOf(flags: VendorIngestFlags): { from: number; to: number } {
  if (flags.from === undefined || flags.to === undefined) {
    throw badInput(
      `--source ${flags.source} needs --from and --to (ISO dates or times, e.g. --from 2024-01-02 --to 2024-01-03)`,
    );
  }
  const from = parseIsoMicros(flags.from);
  const to = parseIsoMicros(flags.to);
  if (from === undefined)
    throw badInput(`--from ${JSON.stringify(flags.from)} is not an ISO date or time`);
  if (to === undefined)
    throw badInput(`--to ${JSON.stringify(flags.to)} is not an ISO date or time`);
  if (from >= to)
    throw badInput(`--from ${flags.from} is not before --to ${flags.to}: the range is empty`);
  return { from, to };
}

/**
 * The source the flags and config name, checked before anything is opened: a missing
 * key, symbol or range, or an empty range, fails here with BAD_USER_INPUT.
 */
export function vendorSource(
  config: Config,
  flags: VendorIngestFlags,
  log: (line: string) => void,
): Source {
  const symbols = symbolsOf(flags);
  const retry = (n: { path: string; status: number | string; attempt: number; waitMs: number }) =>
    log(`alphalake: ${n.path} answered ${n.status}; attempt ${n.attempt + 1} in ${n.waitMs} ms`);
  const polygonRest = () =>
    new PolygonRestClient({
      apiKey: config.polygonApiKey ?? '',
      baseUrl: config.polygonApiUrl,
      callsPerMinute: config.polygonCallsPerMinute,
      maxRetries: config.polygonMaxRetries,
      backoffBaseMs: config.polygonBackoffMs,
      onRetry: retry,
    });
  switch (flags.source) {
    case 'polygon': {
      const dataset = (flags.dataset ?? 'trades') as PolygonDataset;
      if (!POLYGON_DATASETS.includes(dataset)) {
        throw badInput(`--dataset ${flags.dataset} is not one of ${POLYGON_DATASETS.join(', ')}`);
      }
      const interval = (flags.interval ?? '1m') as BarInterval;
      if (!['1s', '1m', '1d'].includes(interval))
        throw badInput(`--interval ${flags.interval} is not one of 1s, 1m, 1d`);
      const range = rangeOf(flags);
      return new PolygonRestSource(polygonRest(), { dataset, symbols, range, interval });
    }
    case 'polygon-ws': {
      const channels = (flags.channels ?? 'T,Q,AM')
        .split(',')
        .map((c) => c.trim()) as PolygonChannel[];
      const unknown = channels.filter((c) => !POLYGON_CHANNELS.includes(c));
      if (unknown.length > 0)
        throw badInput(`--channels ${unknown.join(',')}: use ${POLYGON_CHANNELS.join(', ')}`);
      return new PolygonWebSocketSource({
        apiKey: config.polygonApiKey ?? '',
        url: config.polygonWsUrl,
        symbols,
        channels,
        rest: polygonRest(),
        reconnectBaseMs: config.polygonBackoffMs,
        onEvent: (e) => {
          if (e.type === 'status')
            log(`alphalake: polygon-ws ${e.status.status}: ${e.status.message}`);
          else if (e.type === 'disconnected')
            log(`alphalake: polygon-ws closed (${e.code}); reconnecting in ${e.reconnectInMs} ms`);
          else
            log(
              `alphalake: polygon-ws gap ${e.symbol} ${isoOfMicros(e.from)} → ${isoOfMicros(e.to)}: ${e.filled} trades from REST, ${e.duplicates} already had`,
            );
        },
      });
    }
    case 'yahoo':
      return new YahooDailySource(
        new YahooChartClient({ baseUrl: config.yahooApiUrl }),
        symbols,
        rangeOf(flags),
      );
  }
}

/** What one run took in, by kind. */
export interface VendorIngestSummary {
  trades: number;
  quotes: number;
  bars: number;
  news: number;
  corporateActions: number;
  malformed: number;
  accepted: number;
  rejected: number;
}

/**
 * Runs a vendor source through the platform's ingest path until it ends (REST, Yahoo) or
 * SIGINT/SIGTERM (the WebSocket): trades and quotes through the Ingestor (validated,
 * rejects to `rejects`), bars to their topic, news into bronze.news, unreadable records to `rejects`
 * with reason MALFORMED_ROW, and corporate actions into master data (docs/mdm.md).
 * With the in-process bus the sink runs here too and everything is committed before exit.
 */
export async function ingestFromVendor(
  config: Config,
  flags: VendorIngestFlags,
): Promise<VendorIngestSummary> {
  const source = vendorSource(config, flags, (line) => console.error(line));
  const platform = await createPlatform(config);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const summary: VendorIngestSummary = {
    trades: 0,
    quotes: 0,
    bars: 0,
    news: 0,
    corporateActions: 0,
    malformed: 0,
    accepted: 0,
    rejected: 0,
  };
  try {
    await platform.start({ live: false });
    for await (const batch of source.records(controller.signal)) {
      await publish(platform, source.name, batch, summary);
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await platform.stop();
  }
  return summary;
}

async function publish(
  platform: Awaited<ReturnType<typeof createPlatform>>,
  sourceName: string,
  batch: readonly SourceRecord[],
  summary: VendorIngestSummary,
): Promise<void> {
  const trades: Trade[] = [];
  const quotes: Quote[] = [];
  const bars: Bar[] = [];
  const news: NewsItem[] = [];
  const actions: CorporateAction[] = [];
  const malformed: Extract<SourceRecord, { kind: 'malformed' }>[] = [];
  for (const record of batch) {
    if (record.kind === 'trade') trades.push(record.value);
    else if (record.kind === 'quote') quotes.push(record.value);
    else if (record.kind === 'bar') bars.push(record.value);
    else if (record.kind === 'news') news.push(record.value);
    else if (record.kind === 'corporate-action') actions.push(record.value);
    else malformed.push(record);
  }
  if (trades.length + quotes.length > 0) {
    const result = await platform.ingestor.ingest({ trades, quotes }, sourceName);
    summary.accepted += result.accepted;
    summary.rejected += result.rejected;
  }
  if (bars.length > 0) {
    // Checked (BAR_INCONSISTENT, UNKNOWN_SYMBOL, …) and published with their source, for
    // bronze.vendor_bars; rejects go to `rejects`.
    const checked = await platform.ingestor.ingestRecords(
      bars.map((value) => ({ kind: 'bar' as const, value })),
      sourceName,
    );
    summary.accepted += checked.bars.length;
    summary.rejected += checked.rejects.length;
  }
  if (news.length > 0) {
    // Into bronze.news directly, as `ingest --source news` does: checked, duplicates
    // dropped by id against the table (docs/ingest.md "News").
    const checked = platform.ingestor.checkRecords(
      news.map((value) => ({ kind: 'news' as const, value })),
      sourceName,
    );
    const writer = new NewsWriter(platform.tables.news, platform.tables.rejects);
    await writer.reject(checked.rejects);
    await writer.write(checked.news);
    summary.rejected += checked.rejects.length;
  }
  if (malformed.length > 0) {
    const receivedAt = platform.clock.now();
    await platform.bus.publish(
      'rejects',
      malformed.map((m) => ({
        key: sourceName,
        // A full `Reject` (bronze.rejects' `kind` is not nullable: one without it failed
        // the sink's commit, and every commit after it).
        value: {
          source: sourceName,
          kind: 'row',
          reason: 'MALFORMED_ROW',
          payload: m.raw,
          detail: m.column ? `${m.column}: ${m.detail}` : m.detail,
          receivedAt,
        } satisfies Reject,
      })),
    );
  }
  // Splits and dividends go to master data (once each: a rerun finds them there); one it
  // refuses (an unknown ticker, different terms on the same date) is a reject, not lost.
  const refused: { action: CorporateAction; reason: string; detail: string }[] = [];
  for (const action of actions) {
    try {
      await platform.masterData.addCorporateActionOnce(action, `source:${sourceName}`);
    } catch (error) {
      if (!isAlphalakeError(error)) throw error;
      refused.push({ action, reason: `CORPORATE_ACTION_${error.code}`, detail: error.message });
    }
  }
  if (refused.length > 0) {
    const receivedAt = platform.clock.now();
    await platform.bus.publish(
      'rejects',
      refused.map(({ action, reason, detail }) => ({
        key: action.symbol,
        value: {
          source: sourceName,
          kind: 'row',
          reason,
          payload: JSON.stringify(action),
          detail,
          receivedAt,
        },
      })),
    );
    summary.rejected += refused.length;
  }
  summary.trades += trades.length;
  summary.quotes += quotes.length;
  summary.bars += bars.length;
  summary.news += news.length;
  summary.corporateActions += actions.length;
  summary.malformed += malformed.length;
}
