import {
  AlphalakeError,
  type Bar,
  type BarInterval,
  type CorporateAction,
  type NewsItem,
  type Quote,
  type SymbolInfo,
  type Trade,
} from '../../domain/index.js';
import type { SymbolInput } from '../../mdm/index.js';
import type { SourceRecord } from '../source.js';

/**
 * Polygon's REST and WebSocket wire formats (polygon.io/docs, now Massive), read into
 * domain records. A page that is not what the docs describe stops the source with
 * UPSTREAM_MALFORMED; a single record that lacks a field becomes a `malformed` record
 * naming the field, so it lands in the rejects instead of vanishing.
 */

/** One page of a REST list endpoint: its `results` and the `next_url` of the next page. */
export interface PolygonPage {
  readonly results: readonly Record<string, unknown>[];
  readonly nextUrl: string | undefined;
}

/**
 * Nanosecond timestamps (`sip_timestamp`, `participant_timestamp`, `trf_timestamp`, v3
 * trades and quotes) are JSON numbers above 2^53: `JSON.parse` would round them. They are
 * turned into strings before parsing so `BigInt` can read them whole.
 */
const NANOSECOND_FIELDS = /"(sip_timestamp|participant_timestamp|trf_timestamp)"\s*:\s*(-?\d+)/g;

export function parsePage(body: string, path: string): PolygonPage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.replace(NANOSECOND_FIELDS, '"$1":"$2"'));
  } catch {
    throw malformedPage(path, `not JSON: ${JSON.stringify(body.slice(0, 80))}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw malformedPage(path, 'not a JSON object');
  }
  const page = parsed as Record<string, unknown>;
  if (page['status'] === 'ERROR' || page['status'] === 'NOT_AUTHORIZED') {
    throw malformedPage(path, `status ${String(page['status'])}`);
  }
  const results = page['results'];
  // Aggregates leave `results` out when a range has no bars (`resultsCount: 0`).
  if (results !== undefined && !Array.isArray(results)) {
    throw malformedPage(path, '`results` is not an array');
  }
  const nextUrl = page['next_url'];
  if (nextUrl !== undefined && nextUrl !== null && typeof nextUrl !== 'string') {
    throw malformedPage(path, '`next_url` is not a string');
  }
  return {
    results: ((results as unknown[] | undefined) ?? []).map((r) =>
      typeof r === 'object' && r !== null && !Array.isArray(r)
        ? (r as Record<string, unknown>)
        : { value: r },
    ),
    nextUrl: typeof nextUrl === 'string' && nextUrl !== '' ? nextUrl : undefined,
  };
}

function malformedPage(path: string, why: string): AlphalakeError {
  return new AlphalakeError('UPSTREAM_MALFORMED', `Polygon ${path}: malformed page (${why})`, {
    vendor: 'Polygon',
    path,
  });
}

/** A field that is missing or of the wrong type: the record becomes `malformed`. */
export class FieldError extends Error {
  constructor(
    readonly column: string,
    detail: string,
  ) {
    super(detail);
  }
}

function num(record: Record<string, unknown>, key: string): number {
  const value = record[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new FieldError(
      key,
      `${key} is ${value === undefined ? 'missing' : `not a number: ${JSON.stringify(value)}`}`,
    );
  }
  return value;
}

/**
 * A trade's condition ids (v3 trades `conditions`, WebSocket `c`): an array of integers
 * from Polygon's conditions table, or absent (a regular sale). Anything else makes the
 * record malformed rather than being read as no conditions.
 */
export function conditionIds(
  record: Record<string, unknown>,
  key: string,
): readonly number[] | undefined {
  const value = record[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((id) => Number.isSafeInteger(id) && id >= 0)) {
    throw new FieldError(key, `${key} is not a list of condition ids: ${JSON.stringify(value)}`);
  }
  return value.length === 0 ? undefined : (value as number[]);
}

function optionalNum(record: Record<string, unknown>, key: string): number | undefined {
  return record[key] === undefined || record[key] === null ? undefined : num(record, key);
}

function str(record: Record<string, unknown>, key: string): string {
  const value = record[key];
  if (typeof value !== 'string' || value === '') {
    throw new FieldError(
      key,
      `${key} is ${value === undefined ? 'missing' : `not a non-empty string: ${JSON.stringify(value)}`}`,
    );
  }
  return value;
}

/** A nanosecond timestamp, kept whole (see NANOSECOND_FIELDS). */
function nanos(record: Record<string, unknown>, key: string): bigint {
  const value = record[key];
  if (typeof value === 'string' && /^\d+$/.test(value)) return BigInt(value);
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  throw new FieldError(
    key,
    `${key} is ${value === undefined ? 'missing' : `not a nanosecond timestamp: ${JSON.stringify(value)}`}`,
  );
}

/** Runs a reader; a FieldError becomes a `malformed` record with the raw JSON. */
export function readRecord<T extends SourceRecord>(
  record: Record<string, unknown>,
  read: (record: Record<string, unknown>) => T,
): SourceRecord {
  try {
    return read(record);
  } catch (error) {
    if (!(error instanceof FieldError)) throw error;
    return {
      kind: 'malformed',
      raw: JSON.stringify(record),
      column: error.column,
      detail: error.message,
    };
  }
}

/**
 * A v3 trade (`/v3/trades/{ticker}`): `sip_timestamp` (ns) is the event time, kept whole
 * in `tsNanos`, floored to µs in `ts`; `sequence_number` orders equal timestamps; `id`
 * is unique per ticker, exchange and TRF, so the exchange (and TRF) join it.
 */
export function tradeOfV3(symbol: string, r: Record<string, unknown>): SourceRecord {
  return readRecord(r, () => {
    const tsNanos = nanos(r, 'sip_timestamp');
    const exchange = num(r, 'exchange');
    const trf = optionalNum(r, 'trf_id');
    const value: Trade = {
      symbol,
      ts: Number(tsNanos / 1000n),
      tsNanos,
      seq: num(r, 'sequence_number'),
      price: num(r, 'price'),
      size: num(r, 'size'),
      id: tradeId(str(r, 'id'), exchange, trf),
      exchange: String(exchange),
    };
    const conditions = conditionIds(r, 'conditions');
    return { kind: 'trade', value: conditions ? { ...value, conditions } : value };
  });
}

/**
 * The trade's identity across REST and WebSocket: Polygon's id is unique per ticker,
 * exchange and TRF only, so the key joins them (`x:id` or `x:trf:id`).
 */
export function tradeId(id: string, exchange: number, trf: number | undefined): string {
  return trf === undefined ? `${exchange}:${id}` : `${exchange}:${trf}:${id}`;
}

/** A v3 quote (`/v3/quotes/{ticker}`): NBBO at `sip_timestamp`, floored to µs. */
export function quoteOfV3(symbol: string, r: Record<string, unknown>): SourceRecord {
  return readRecord(r, () => {
    const value: Quote = {
      symbol,
      ts: Number(nanos(r, 'sip_timestamp') / 1000n),
      bidPrice: num(r, 'bid_price'),
      bidSize: num(r, 'bid_size'),
      askPrice: num(r, 'ask_price'),
      askSize: num(r, 'ask_size'),
    };
    return { kind: 'quote', value };
  });
}

/**
 * An aggregate bar (`/v2/aggs/...`): `t` is the window's start in ms (see utcMidnight for `1d`), `vw` the VWAP, `n`
 * the number of trades (absent on some old bars: then the bar is malformed, not guessed).
 */
export function barOfAggregate(
  symbol: string,
  interval: BarInterval,
  r: Record<string, unknown>,
): SourceRecord {
  return readRecord(r, () => {
    const value: Bar = {
      symbol,
      interval,
      ts: interval === '1d' ? utcMidnight(num(r, 't')) : num(r, 't') * 1000,
      open: num(r, 'o'),
      high: num(r, 'h'),
      low: num(r, 'l'),
      close: num(r, 'c'),
      volume: num(r, 'v'),
      vwap: num(r, 'vw'),
      tradeCount: num(r, 'n'),
    };
    return { kind: 'bar', value };
  });
}

/**
 * A daily bar's `t` is the session's midnight in New York (04:00 or 05:00 UTC); the
 * domain puts a `1d` bar at the UTC midnight of its date, as Yahoo's are.
 */
function utcMidnight(ms: number): number {
  return Math.floor(ms / 86_400_000) * 86_400_000 * 1000;
}

/** A news article (`/v2/reference/news`): `published_utc` is RFC 3339. */
export function newsOf(r: Record<string, unknown>): SourceRecord {
  return readRecord(r, () => {
    const published = str(r, 'published_utc');
    const ms = Date.parse(published);
    if (Number.isNaN(ms))
      throw new FieldError('published_utc', `published_utc is not a time: ${published}`);
    const tickers = r['tickers'];
    if (!Array.isArray(tickers) || !tickers.every((t) => typeof t === 'string')) {
      throw new FieldError('tickers', 'tickers is not a list of strings');
    }
    const publisher = r['publisher'] as Record<string, unknown> | undefined;
    const value: NewsItem = {
      id: str(r, 'id'),
      publishedAt: ms * 1000,
      tickers: tickers as string[],
      title: str(r, 'title'),
      description: typeof r['description'] === 'string' ? r['description'] : '',
      url: str(r, 'article_url'),
      source: publisher && typeof publisher['name'] === 'string' ? publisher['name'] : 'Polygon',
    };
    return { kind: 'news', value };
  });
}

/** A split (`/v3/reference/splits`): `split_to` new shares for `split_from` old on `execution_date`. */
export function splitOf(r: Record<string, unknown>): SourceRecord {
  return readRecord(r, () => {
    const value: CorporateAction = {
      kind: 'split',
      symbol: str(r, 'ticker'),
      exDate: date(r, 'execution_date'),
      splitFrom: num(r, 'split_from'),
      splitTo: num(r, 'split_to'),
      source: 'polygon',
    };
    return { kind: 'corporate-action', value };
  });
}

/** A cash dividend (`/v3/reference/dividends`): `cash_amount` per share from `ex_dividend_date`. */
export function dividendOf(r: Record<string, unknown>): SourceRecord {
  return readRecord(r, () => {
    const value: CorporateAction = {
      kind: 'dividend',
      symbol: str(r, 'ticker'),
      exDate: date(r, 'ex_dividend_date'),
      cashAmount: num(r, 'cash_amount'),
      currency: typeof r['currency'] === 'string' ? r['currency'].toUpperCase() : 'USD',
      source: 'polygon',
    };
    return { kind: 'corporate-action', value };
  });
}

function date(r: Record<string, unknown>, key: string): string {
  const value = str(r, key);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value))
    throw new FieldError(key, `${key} is not a date: ${value}`);
  return value;
}

/** A ticker (`/v3/reference/tickers`) as master data; `undefined` when a field is missing. */
export function symbolInfoOf(
  r: Record<string, unknown>,
): SymbolInfo | { malformed: string; column: string } {
  try {
    return {
      symbol: str(r, 'ticker'),
      name: str(r, 'name'),
      exchange: typeof r['primary_exchange'] === 'string' ? r['primary_exchange'] : '',
      currency: typeof r['currency_name'] === 'string' ? r['currency_name'].toUpperCase() : '',
      active: r['active'] !== false,
    };
  } catch (error) {
    if (!(error instanceof FieldError)) throw error;
    return { malformed: error.message, column: error.column };
  }
}

/**
 * The single object of a details endpoint (`/v3/reference/tickers/{ticker}`: `results`
 * is one ticker, not a list).
 */
export function parseDetails(body: string, path: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw malformedPage(path, `not JSON: ${JSON.stringify(body.slice(0, 80))}`);
  }
  const results = (parsed as { results?: unknown } | null)?.results;
  if (typeof results !== 'object' || results === null || Array.isArray(results)) {
    throw malformedPage(path, '`results` is not an object');
  }
  return results as Record<string, unknown>;
}

/**
 * Polygon's ticker types (`/v3/reference/tickers/types`) and markets as our asset classes:
 * common and ordinary shares and preferreds are equity, exchange-traded products ETF,
 * depositary receipts ADR; a market of `crypto` or `indices` decides by itself.
 */
const ASSET_CLASS_OF_TYPE: Readonly<Record<string, string>> = {
  CS: 'EQUITY',
  OS: 'EQUITY',
  PFD: 'EQUITY',
  NYRS: 'EQUITY',
  ETF: 'ETF',
  ETN: 'ETF',
  ETV: 'ETF',
  ETS: 'ETF',
  ADRC: 'ADR',
  ADRP: 'ADR',
  ADRR: 'ADR',
  ADRW: 'ADR',
  GDR: 'ADR',
  FUND: 'FUND',
  INDEX: 'INDEX',
};

/**
 * Ticker details (`/v3/reference/tickers/{ticker}`, polygon.io/docs "Ticker Overview") as
 * a symbol: `name`, `primary_exchange` (an ISO 10383 MIC), `currency_name`, `market` and
 * `type`, `list_date`, `delisted_utc`, `sic_description` (as the industry). Fields Polygon
 * leaves out stay as master data has them (sector is never sent: SIC has divisions, not
 * sectors). `active: false` is DELISTED; a listed ticker is ACTIVE, which also confirms a
 * PENDING symbol ingest created. A field of the wrong type makes the ticker malformed.
 */
export function symbolOfDetails(
  r: Record<string, unknown>,
): { value: SymbolInput } | { malformed: string; column: string } {
  try {
    const market = typeof r['market'] === 'string' ? r['market'] : 'stocks';
    const type = typeof r['type'] === 'string' ? r['type'].toUpperCase() : '';
    const assetClass =
      market === 'crypto'
        ? 'CRYPTO'
        : market === 'indices'
          ? 'INDEX'
          : (ASSET_CLASS_OF_TYPE[type] ?? 'OTHER');
    const listDate = optionalStr(r, 'list_date');
    const delisted = optionalStr(r, 'delisted_utc');
    const industry = optionalStr(r, 'sic_description');
    const currency = optionalStr(r, 'currency_name');
    const active = r['active'] !== false;
    const value: SymbolInput = {
      ticker: str(r, 'ticker'),
      name: str(r, 'name'),
      exchange: str(r, 'primary_exchange'),
      assetClass,
      ...(currency === undefined ? {} : { currency: currency.toUpperCase() }),
      ...(industry === undefined ? {} : { industry }),
      ...(listDate === undefined ? {} : { listedDate: listDate }),
      ...(delisted === undefined ? {} : { delistedDate: delisted.slice(0, 10) }),
      status: active ? 'ACTIVE' : 'DELISTED',
    };
    return { value };
  } catch (error) {
    if (!(error instanceof FieldError)) throw error;
    return { malformed: error.message, column: error.column };
  }
}

function optionalStr(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new FieldError(key, `${key} is not a string`);
  return value;
}
