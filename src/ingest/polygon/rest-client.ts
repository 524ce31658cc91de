import {
  AlphalakeError,
  conditionRulesOf,
  type BarInterval,
  type ConditionUpdateRules,
  type SymbolInfo,
} from '../../domain/index.js';
import type { SourceRecord } from '../source.js';
import {
  CallLimiter,
  VendorHttp,
  type Fetch,
  type RetryNotice,
  type Sleep,
} from '../vendor/index.js';
import {
  barOfAggregate,
  dividendOf,
  newsOf,
  parseDetails,
  parsePage,
  quoteOfV3,
  splitOf,
  symbolInfoOf,
  tradeOfV3,
  type PolygonPage,
} from './wire.js';

export interface PolygonRestOptions {
  /** POLYGON_API_KEY: sent as `Authorization: Bearer`, never in a URL, log or error. */
  readonly apiKey: string;
  /** POLYGON_API_URL. @default https://api.polygon.io */
  readonly baseUrl?: string;
  /** POLYGON_CALLS_PER_MINUTE: the client-side limit (free tier: 5); `0` for none. @default 5 */
  readonly callsPerMinute?: number;
  /** POLYGON_MAX_RETRIES. @default 5 */
  readonly maxRetries?: number;
  /** POLYGON_BACKOFF_MS: the first backoff on 5xx. @default 1000 */
  readonly backoffBaseMs?: number;
  /** Records per page asked for (`limit`). @default 50_000 for trades/quotes/aggs, 1000 for reference */
  readonly pageLimit?: number;
  readonly fetch?: Fetch;
  readonly sleep?: Sleep;
  readonly onRetry?: (notice: RetryNotice) => void;
}

/** A time range, epoch µs, `from` inclusive and `to` exclusive. */
export interface MicrosRange {
  readonly from: number;
  readonly to: number;
}

/** Aggregate widths the platform stores: 1-second, 1-minute and daily bars. */
export const AGGREGATE_TIMESPANS: Readonly<Record<BarInterval, string>> = Object.freeze({
  '1s': 'second',
  '1m': 'minute',
  '1d': 'day',
});

export const DEFAULT_POLYGON_API_URL = 'https://api.polygon.io';

/**
 * Polygon's (Massive's) REST API: the list endpoints, page by page through `next_url`
 * (cursor pagination, polygon.io/docs "Pagination"), each page mapped to domain records.
 * Every call waits for the client-side limiter and retries 429/5xx (src/ingest/vendor).
 */
export class PolygonRestClient {
  private readonly http: VendorHttp;
  private readonly baseUrl: string;

  constructor(private readonly options: PolygonRestOptions) {
    if (options.apiKey.trim() === '') {
      throw new AlphalakeError(
        'BAD_USER_INPUT',
        'POLYGON_API_KEY is empty: Polygon needs an API key',
        {
          env: 'POLYGON_API_KEY',
        },
      );
    }
    this.baseUrl = (options.baseUrl ?? DEFAULT_POLYGON_API_URL).replace(/\/+$/, '');
    const calls = options.callsPerMinute ?? 5;
    this.http = new VendorHttp({
      vendor: 'Polygon',
      headers: { authorization: `Bearer ${options.apiKey}` },
      secrets: [options.apiKey],
      ...(calls > 0
        ? {
            limiter: new CallLimiter({
              calls,
              windowMs: 60_000,
              ...(options.sleep ? { sleep: options.sleep } : {}),
            }),
          }
        : {}),
      ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
      ...(options.backoffBaseMs !== undefined ? { backoffBaseMs: options.backoffBaseMs } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.sleep ? { sleep: options.sleep } : {}),
      ...(options.onRetry ? { onRetry: options.onRetry } : {}),
    });
  }

  /**
   * Every page of a list endpoint, following `next_url` until there is none. The next
   * URL's path and query are sent to the configured base URL (so a proxy or a test server
   * stays in the loop), and the key goes in the header as on the first page.
   */
  async *pages(
    path: string,
    params: Readonly<Record<string, string>>,
    signal: AbortSignal,
  ): AsyncGenerator<PolygonPage> {
    let url: string | undefined =
      `${this.baseUrl}${path}?${new URLSearchParams(params).toString()}`;
    while (url !== undefined) {
      signal.throwIfAborted();
      const body = await this.http.getText(url, signal);
      const page = parsePage(body, path);
      yield page;
      url = page.nextUrl === undefined ? undefined : this.rebase(page.nextUrl, path);
    }
  }

  /** `/v2/aggs/ticker/{ticker}/range/1/{timespan}/{from}/{to}`: bars of one width, oldest first. */
  async *aggregates(
    symbol: string,
    interval: BarInterval,
    range: MicrosRange,
    signal: AbortSignal,
    adjusted = false,
  ): AsyncGenerator<SourceRecord[]> {
    // `from` and `to` as ms timestamps; `to` is inclusive of the bar starting at it.
    const from = Math.ceil(range.from / 1000);
    const to = Math.ceil(range.to / 1000) - 1;
    const path = `/v2/aggs/ticker/${encodeURIComponent(symbol)}/range/1/${AGGREGATE_TIMESPANS[interval]}/${from}/${to}`;
    for await (const page of this.pages(
      path,
      { adjusted: String(adjusted), sort: 'asc', limit: String(this.options.pageLimit ?? 50_000) },
      signal,
    )) {
      yield page.results.map((r) => barOfAggregate(symbol, interval, r));
    }
  }

  /** `/v3/trades/{ticker}` in `[from, to)`, ascending by SIP time. */
  async *trades(
    symbol: string,
    range: MicrosRange,
    signal: AbortSignal,
  ): AsyncGenerator<SourceRecord[]> {
    const path = `/v3/trades/${encodeURIComponent(symbol)}`;
    for await (const page of this.pages(path, this.tickParams(range), signal)) {
      yield page.results.map((r) => tradeOfV3(symbol, r));
    }
  }

  /** `/v3/quotes/{ticker}` in `[from, to)`, ascending by SIP time. */
  async *quotes(
    symbol: string,
    range: MicrosRange,
    signal: AbortSignal,
  ): AsyncGenerator<SourceRecord[]> {
    const path = `/v3/quotes/${encodeURIComponent(symbol)}`;
    for await (const page of this.pages(path, this.tickParams(range), signal)) {
      yield page.results.map((r) => quoteOfV3(symbol, r));
    }
  }

  /** `/v2/reference/news` about `symbol` published in `[from, to)`, oldest first. */
  async *news(
    symbol: string | undefined,
    range: MicrosRange,
    signal: AbortSignal,
  ): AsyncGenerator<SourceRecord[]> {
    const params: Record<string, string> = {
      'published_utc.gte': new Date(range.from / 1000).toISOString(),
      'published_utc.lt': new Date(range.to / 1000).toISOString(),
      order: 'asc',
      sort: 'published_utc',
      limit: String(Math.min(this.options.pageLimit ?? 1000, 1000)),
      ...(symbol ? { ticker: symbol } : {}),
    };
    for await (const page of this.pages('/v2/reference/news', params, signal)) {
      yield page.results.map(newsOf);
    }
  }

  /** `/v3/reference/splits` of `symbol` (all history). */
  async *splits(symbol: string, signal: AbortSignal): AsyncGenerator<SourceRecord[]> {
    for await (const page of this.pages(
      '/v3/reference/splits',
      this.referenceParams(symbol),
      signal,
    )) {
      yield page.results.map(splitOf);
    }
  }

  /** `/v3/reference/dividends` of `symbol` (all history). */
  async *dividends(symbol: string, signal: AbortSignal): AsyncGenerator<SourceRecord[]> {
    for await (const page of this.pages(
      '/v3/reference/dividends',
      this.referenceParams(symbol),
      signal,
    )) {
      yield page.results.map(dividendOf);
    }
  }

  /**
   * `/v3/reference/tickers`: ticker master data (`market=stocks` unless given). A ticker
   * missing a field is returned apart, with the field, for the caller to report.
   */
  async *tickers(
    signal: AbortSignal,
    filter: Readonly<Record<string, string>> = {},
  ): AsyncGenerator<{
    symbols: SymbolInfo[];
    malformed: { raw: string; column: string; detail: string }[];
  }> {
    const params = { market: 'stocks', active: 'true', limit: '1000', ...filter };
    for await (const page of this.pages('/v3/reference/tickers', params, signal)) {
      const symbols: SymbolInfo[] = [];
      const malformed: { raw: string; column: string; detail: string }[] = [];
      for (const r of page.results) {
        const info = symbolInfoOf(r);
        if ('malformed' in info)
          malformed.push({ raw: JSON.stringify(r), column: info.column, detail: info.malformed });
        else symbols.push(info);
      }
      yield { symbols, malformed };
    }
  }

  /**
   * `/v3/reference/tickers` ("All Tickers"), the raw records of every page through
   * `next_url`, `market=stocks`, sorted by ticker, at most 1000 a page (Polygon's maximum),
   * with `filter` added (`active`, `ticker.gte`, `ticker.lte`, …). Each record has what
   * the list carries (`ticker`, `name`, `primary_exchange`, `type`, `market`, `active`,
   * `currency_name`, `delisted_utc`, …), not `list_date` or `sic_description`, which only
   * the details endpoint gives.
   */
  async *tickerList(
    filter: Readonly<Record<string, string>>,
    signal: AbortSignal,
  ): AsyncGenerator<Record<string, unknown>[]> {
    const params = {
      market: 'stocks',
      sort: 'ticker',
      order: 'asc',
      limit: String(Math.min(this.options.pageLimit ?? 1000, 1000)),
      ...filter,
    };
    for await (const page of this.pages('/v3/reference/tickers', params, signal)) {
      yield [...page.results];
    }
  }

  /**
   * `/v3/reference/tickers/{ticker}` ("Ticker Overview"): one ticker's details, the raw
   * object (symbolOfDetails reads it). NOT_FOUND when Polygon has no such ticker.
   */
  async tickerDetails(ticker: string, signal: AbortSignal): Promise<Record<string, unknown>> {
    const path = `/v3/reference/tickers/${encodeURIComponent(ticker)}`;
    signal.throwIfAborted();
    return parseDetails(await this.http.getText(`${this.baseUrl}${path}`, signal), path);
  }

  /**
   * `/v3/reference/conditions?asset_class=stocks&data_type=trade`: the trade-condition
   * table, every page, as the rules bars follow (conditionRulesOf: consolidated rules).
   */
  async conditionRules(signal: AbortSignal): Promise<Map<number, ConditionUpdateRules>> {
    const params = {
      asset_class: 'stocks',
      data_type: 'trade',
      limit: String(Math.min(this.options.pageLimit ?? 1000, 1000)),
    };
    const results: unknown[] = [];
    for await (const page of this.pages('/v3/reference/conditions', params, signal)) {
      results.push(...page.results);
    }
    return conditionRulesOf({ results });
  }

  private tickParams(range: MicrosRange): Record<string, string> {
    return {
      // Nanosecond bounds (the docs accept a date or a nanosecond timestamp).
      'timestamp.gte': `${BigInt(range.from) * 1000n}`,
      'timestamp.lt': `${BigInt(range.to) * 1000n}`,
      order: 'asc',
      sort: 'timestamp',
      limit: String(this.options.pageLimit ?? 50_000),
    };
  }

  private referenceParams(symbol: string): Record<string, string> {
    return { ticker: symbol, limit: String(Math.min(this.options.pageLimit ?? 1000, 1000)) };
  }

  private rebase(nextUrl: string, path: string): string {
    let next: URL;
    try {
      next = new URL(nextUrl, this.baseUrl);
    } catch {
      throw new AlphalakeError('UPSTREAM_MALFORMED', `Polygon ${path}: next_url is not a URL`, {
        vendor: 'Polygon',
        path,
      });
    }
    // The key travels in the header; one a server put back in the URL is dropped.
    next.searchParams.delete('apiKey');
    return `${this.baseUrl}${next.pathname}${next.search}`;
  }
}
