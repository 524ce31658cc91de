import { AlphalakeError, type Bar, type CorporateAction } from '../../domain/index.js';
import type { Source, SourceRecord } from '../source.js';
import { VendorHttp, type Fetch, type RetryNotice, type Sleep } from '../vendor/index.js';

export const DEFAULT_YAHOO_API_URL = 'https://query1.finance.yahoo.com';

export interface YahooChartOptions {
  /** YAHOO_API_URL. @default https://query1.finance.yahoo.com */
  readonly baseUrl?: string;
  /** @default 5 */
  readonly maxRetries?: number;
  /** @default 1000 */
  readonly backoffBaseMs?: number;
  readonly fetch?: Fetch;
  readonly sleep?: Sleep;
  readonly onRetry?: (notice: RetryNotice) => void;
}

/** A time range, epoch µs, `from` inclusive and `to` exclusive. */
export interface YahooRange {
  readonly from: number;
  readonly to: number;
}

/**
 * Daily bars, splits and dividends from Yahoo Finance's chart endpoint
 * (`/v8/finance/chart/{symbol}?period1&period2&interval=1d&events=div,splits`), spoken
 * directly because yahoo-finance2 4.x needs Node ≥ 22.
 *
 * The endpoint's `open/high/low/close` are split-adjusted (only `adjclose` also takes
 * dividends out). The lake keeps prices raw and adjusts on read from the corporate
 * actions (docs/sources.md), so each bar is un-adjusted here: prices multiplied, volume
 * divided, by the splits after its date that the same answer lists (dividends likewise). The chart carries
 * no VWAP or trade count: `vwap` is the typical price (h+l+c)/3 and `tradeCount` 0.
 */
export class YahooChartClient {
  private readonly http: VendorHttp;
  private readonly baseUrl: string;

  constructor(options: YahooChartOptions = {}) {
    this.baseUrl = (options.baseUrl ?? DEFAULT_YAHOO_API_URL).replace(/\/+$/, '');
    this.http = new VendorHttp({
      vendor: 'Yahoo',
      headers: { 'user-agent': 'alphalake/0.1 (+https://github.com/alphalake)' },
      ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
      ...(options.backoffBaseMs !== undefined ? { backoffBaseMs: options.backoffBaseMs } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.sleep ? { sleep: options.sleep } : {}),
      ...(options.onRetry ? { onRetry: options.onRetry } : {}),
    });
  }

  /** One symbol's daily bars (`1d`), then its splits and dividends, in `range`. */
  async daily(symbol: string, range: YahooRange, signal: AbortSignal): Promise<SourceRecord[]> {
    const period1 = Math.floor(range.from / 1_000_000);
    const period2 = Math.ceil(range.to / 1_000_000);
    const path = `/v8/finance/chart/${encodeURIComponent(symbol)}`;
    const query = new URLSearchParams({
      period1: String(period1),
      period2: String(period2),
      interval: '1d',
      events: 'div,splits',
      includeAdjustedClose: 'true',
    });
    const body = await this.http.getText(`${this.baseUrl}${path}?${query.toString()}`, signal);
    return chartRecords(symbol, body, path);
  }
  /**
   * One symbol's splits and dividends over its whole history up to `untilMicros` (Yahoo's
   * chart `events=div,splits`, which lists every event of the period whatever the
   * interval: quarterly bars keep the answer small). Each dividend is read back to the
   * amount paid per share of its day through the splits after it, which the whole
   * history holds. An event without its fields comes back `malformed`; bars are left out.
   */
  async corporateActions(
    symbol: string,
    untilMicros: number,
    signal: AbortSignal,
  ): Promise<SourceRecord[]> {
    const path = `/v8/finance/chart/${encodeURIComponent(symbol)}`;
    const query = new URLSearchParams({
      period1: '0',
      period2: String(Math.ceil(untilMicros / 1_000_000)),
      interval: '3mo',
      events: 'div,splits',
    });
    const body = await this.http.getText(`${this.baseUrl}${path}?${query.toString()}`, signal);
    return chartRecords(symbol, body, path).filter(
      (r) =>
        r.kind === 'corporate-action' ||
        (r.kind === 'malformed' && r.column?.startsWith('events.') === true),
    );
  }
}

/** Reads one chart answer (documented shape: `chart.result[0]` with `timestamp`, `indicators.quote[0]`, `events`). */
export function chartRecords(symbol: string, body: string, path: string): SourceRecord[] {
  const malformed = (why: string) =>
    new AlphalakeError('UPSTREAM_MALFORMED', `Yahoo ${path}: malformed chart (${why})`, {
      vendor: 'Yahoo',
      path,
    });
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw malformed(`not JSON: ${JSON.stringify(body.slice(0, 80))}`);
  }
  const chart = (parsed as { chart?: { result?: unknown; error?: unknown } } | null)?.chart;
  if (!chart || typeof chart !== 'object') throw malformed('no `chart` object');
  if (chart.error) {
    const description = (chart.error as { description?: unknown }).description;
    throw new AlphalakeError(
      'NOT_FOUND',
      `Yahoo ${path}: ${typeof description === 'string' ? description : 'error'}`,
      {
        vendor: 'Yahoo',
        path,
      },
    );
  }
  if (
    !Array.isArray(chart.result) ||
    typeof chart.result[0] !== 'object' ||
    chart.result[0] === null
  ) {
    throw malformed('`chart.result` is not a list of one result');
  }
  const result = chart.result[0] as Record<string, unknown>;
  const meta = (result['meta'] ?? {}) as Record<string, unknown>;
  const gmtOffset = typeof meta['gmtoffset'] === 'number' ? meta['gmtoffset'] : 0;
  const currency = typeof meta['currency'] === 'string' ? meta['currency'] : 'USD';
  // A range with no sessions has no `timestamp` and empty quotes.
  const timestamps = result['timestamp'] ?? [];
  if (!Array.isArray(timestamps)) throw malformed('`timestamp` is not a list');
  const quote = ((result['indicators'] as { quote?: unknown[] } | undefined)?.quote?.[0] ??
    {}) as Record<string, unknown>;
  const columns = ['open', 'high', 'low', 'close', 'volume'] as const;
  for (const column of columns) {
    const values = quote[column] ?? [];
    if (!Array.isArray(values) || (timestamps.length > 0 && values.length !== timestamps.length)) {
      throw malformed(`indicators.quote[0].${column} does not match \`timestamp\``);
    }
  }
  const events = (result['events'] ?? {}) as Record<string, unknown>;
  const records: SourceRecord[] = [];
  const splits: { date: string; ratio: number }[] = [];
  for (const [key, raw] of Object.entries((events['splits'] ?? {}) as Record<string, unknown>)) {
    const split = raw as Record<string, unknown>;
    const date = split['date'];
    const numerator = split['numerator'];
    const denominator = split['denominator'];
    if (
      typeof date !== 'number' ||
      typeof numerator !== 'number' ||
      typeof denominator !== 'number' ||
      !(numerator > 0) ||
      !(denominator > 0)
    ) {
      records.push({
        kind: 'malformed',
        raw: JSON.stringify({ [key]: raw }),
        column: 'events.splits',
        detail: 'split without date, numerator and denominator',
      });
      continue;
    }
    const exDate = localDate(date, gmtOffset);
    splits.push({ date: exDate, ratio: numerator / denominator });
    const value: CorporateAction = {
      kind: 'split',
      symbol,
      exDate,
      splitFrom: denominator,
      splitTo: numerator,
      source: 'yahoo',
    };
    records.push({ kind: 'corporate-action', value });
  }
  /** The product of the splits after `date`: how far Yahoo scaled that day's prices down. */
  const splitFactorAfter = (date: string) =>
    splits.filter((s) => s.date > date).reduce((f, s) => f * s.ratio, 1);
  for (const [key, raw] of Object.entries((events['dividends'] ?? {}) as Record<string, unknown>)) {
    const dividend = raw as Record<string, unknown>;
    const date = dividend['date'];
    const amount = dividend['amount'];
    if (typeof date !== 'number' || typeof amount !== 'number' || !Number.isFinite(amount)) {
      records.push({
        kind: 'malformed',
        raw: JSON.stringify({ [key]: raw }),
        column: 'events.dividends',
        detail: 'dividend without date and amount',
      });
      continue;
    }
    const exDate = localDate(date, gmtOffset);
    const value: CorporateAction = {
      kind: 'dividend',
      symbol,
      exDate,
      // Split-adjusted like the prices: back to the amount paid per share of the day.
      cashAmount: amount * splitFactorAfter(exDate),
      currency,
      source: 'yahoo',
    };
    records.push({ kind: 'corporate-action', value });
  }
  const bars: SourceRecord[] = [];
  timestamps.forEach((t: unknown, i: number) => {
    const row = Object.fromEntries(columns.map((c) => [c, (quote[c] as unknown[])[i]]));
    const bad = columns.find((c) => typeof row[c] !== 'number' || !Number.isFinite(row[c]));
    if (typeof t !== 'number' || bad !== undefined) {
      bars.push({
        kind: 'malformed',
        raw: JSON.stringify({ timestamp: t, ...row }),
        column: typeof t !== 'number' ? 'timestamp' : (bad as string),
        detail: `daily bar ${typeof t !== 'number' ? 'without a timestamp' : `with ${bad} ${JSON.stringify(row[bad as string] ?? null)}`}`,
      });
      return;
    }
    const date = localDate(t, gmtOffset);
    const ts = Date.parse(`${date}T00:00:00Z`) * 1000;
    // Undo the split adjustment: splits after this bar's date scaled its prices down.
    const factor = splitFactorAfter(date);
    const [open, high, low, close] = (['open', 'high', 'low', 'close'] as const).map(
      (c) => (row[c] as number) * factor,
    ) as [number, number, number, number];
    const value: Bar = {
      symbol,
      interval: '1d',
      ts,
      open,
      high,
      low,
      close,
      volume: Math.round((row['volume'] as number) / factor),
      vwap: (high + low + close) / 3,
      tradeCount: 0,
    };
    bars.push({ kind: 'bar', value });
  });
  return [...bars, ...records];
}

/** The exchange-local calendar date of a Unix second, given the exchange's UTC offset (s). */
function localDate(unixSeconds: number, gmtOffset: number): string {
  return new Date((unixSeconds + gmtOffset) * 1000).toISOString().slice(0, 10);
}

/** Yahoo daily history as a Source: one batch per symbol (bars, then splits and dividends). */
export class YahooDailySource implements Source {
  readonly name = 'yahoo';

  constructor(
    private readonly client: YahooChartClient,
    private readonly symbols: readonly string[],
    private readonly range: YahooRange,
  ) {}

  async *records(signal: AbortSignal): AsyncIterable<readonly SourceRecord[]> {
    for (const symbol of this.symbols) {
      signal.throwIfAborted();
      yield await this.client.daily(symbol, this.range, signal);
    }
  }
}
