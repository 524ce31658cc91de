import { parseIsoMicros, type Bar, type Trade } from '../../domain/index.js';
import type { SourceRecord } from '../source.js';

/**
 * Row layouts of recorded files: how a row's named text fields become a domain record.
 * CSV and Parquet rows alike arrive as text (Parquet columns are cast to VARCHAR), so one
 * mapper per layout serves both. A field that cannot be read makes the whole row a
 * `malformed` record naming that column: it lands in `bronze.rejects` as MALFORMED_ROW.
 */
export interface RowLayout {
  readonly name: string;
  /** Columns a file of this layout must have (checked on its header, before any row). */
  readonly required: readonly string[];
  toRecord(row: Readonly<Record<string, string | null>>, raw: string): SourceRecord;
}

/** A field that cannot be read: the row becomes `malformed`. */
class FieldError extends Error {
  constructor(
    readonly column: string,
    detail: string,
  ) {
    super(detail);
  }
}

type Row = Readonly<Record<string, string | null>>;

function text(row: Row, column: string): string {
  const value = row[column];
  if (value === undefined || value === null || value === '')
    throw new FieldError(column, 'is empty');
  return value;
}

/** A decimal number (prices, sizes). Negative or zero values pass: validation names them. */
function decimal(row: Row, column: string): number {
  const value = text(row, column);
  const number = Number(value);
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(value.trim()) || !Number.isFinite(number))
    throw new FieldError(column, `${JSON.stringify(value)} is not a number`);
  return number;
}

function integer(row: Row, column: string): number {
  const number = decimal(row, column);
  if (!Number.isSafeInteger(number))
    throw new FieldError(column, `${JSON.stringify(row[column])} is not an integer`);
  return number;
}

/** Epoch nanoseconds, kept whole as a bigint (19 digits do not fit a double). */
function nanos(row: Row, column: string): bigint {
  const value = text(row, column);
  if (!/^\d{1,19}$/.test(value))
    throw new FieldError(column, `${JSON.stringify(value)} is not epoch nanoseconds`);
  return BigInt(value);
}

/** Epoch µs from a floor of epoch ns: `ts` is the µs floor of `tsNanos` (docs/time.md). */
const microsOf = (ns: bigint): number => Number(ns / 1000n);

const optional = (row: Row, column: string): string | undefined => {
  const value = row[column];
  return value === undefined || value === null || value === '' ? undefined : value;
};

/**
 * The flat file's `conditions`: condition ids separated by commas (`12,37`), as Polygon
 * writes the list into one CSV field (a Parquet list cast to text reads `[12, 37]`);
 * empty: a regular sale. A part that is not an id makes the row malformed.
 */
function conditionList(row: Row, column: string): readonly number[] | undefined {
  const value = optional(row, column)
    ?.trim()
    .replace(/^\[|\]$/g, '');
  if (value === undefined || value.trim() === '') return undefined;
  const ids = value.split(',').map((part) => part.trim());
  if (!ids.every((id) => /^\d{1,9}$/.test(id)))
    throw new FieldError(column, `${JSON.stringify(row[column])} is not a list of condition ids`);
  return ids.map(Number);
}

function guarded(map: (row: Row) => SourceRecord): (row: Row, raw: string) => SourceRecord {
  return (row, raw) => {
    try {
      return { ...map(row), raw } as SourceRecord;
    } catch (error) {
      if (!(error instanceof FieldError)) throw error;
      return { kind: 'malformed', raw, column: error.column, detail: error.message };
    }
  };
}

/**
 * Polygon's (Massive's) stock trades flat file, `us_stocks_sip/trades_v1`: `ticker,
 * conditions, correction, exchange, id, participant_timestamp, price, sequence_number,
 * sip_timestamp, size, tape, trf_id, trf_timestamp`. Event time is `sip_timestamp` (ns,
 * kept whole in `tsNanos`). Polygon's `id` is unique per ticker, exchange and TRF, so the
 * trade's id is `exchange-trf_id-id` (`trf_id` empty: `exchange--id`), unique per ticker.
 * `exchange` is Polygon's numeric exchange id, as text.
 */
export const POLYGON_TRADES: RowLayout = {
  name: 'polygon-trades',
  required: ['ticker', 'exchange', 'id', 'price', 'sequence_number', 'sip_timestamp', 'size'],
  toRecord: guarded((row) => {
    const tsNanos = nanos(row, 'sip_timestamp');
    const exchange = text(row, 'exchange');
    let trade: Trade = {
      symbol: text(row, 'ticker'),
      ts: microsOf(tsNanos),
      seq: integer(row, 'sequence_number'),
      price: decimal(row, 'price'),
      size: decimal(row, 'size'),
      id: `${exchange}-${optional(row, 'trf_id') ?? ''}-${text(row, 'id')}`,
      exchange,
      tsNanos,
    };
    const conditions = conditionList(row, 'conditions');
    if (conditions) trade = { ...trade, conditions };
    const correction = optional(row, 'correction');
    return correction === undefined
      ? { kind: 'trade', value: trade }
      : { kind: 'trade', value: trade, correction: integer(row, 'correction') };
  }),
};

/**
 * Polygon's minute aggregates flat file, `us_stocks_sip/minute_aggs_v1`: `ticker, volume,
 * open, close, high, low, window_start, transactions`, `window_start` in epoch ns. The
 * file has no VWAP, so the bar's `vwap` is NaN (unknown), never made up.
 */
export const POLYGON_MINUTE_AGGS: RowLayout = {
  name: 'polygon-minute-aggs',
  required: ['ticker', 'volume', 'open', 'close', 'high', 'low', 'window_start'],
  toRecord: guarded((row) => {
    const bar: Bar = {
      symbol: text(row, 'ticker'),
      interval: '1m',
      ts: microsOf(nanos(row, 'window_start')),
      open: decimal(row, 'open'),
      high: decimal(row, 'high'),
      low: decimal(row, 'low'),
      close: decimal(row, 'close'),
      volume: decimal(row, 'volume'),
      vwap: Number.NaN,
      tradeCount: optional(row, 'transactions') === undefined ? 0 : integer(row, 'transactions'),
    };
    return { kind: 'bar', value: bar };
  }),
};

/** Event time as epoch µs digits or ISO-8601 (`2026-03-28T13:30:00.123456Z`). */
function micros(row: Row, column: string): number {
  const value = text(row, column);
  if (/^\d+$/.test(value)) return integer(row, column);
  const ts = parseIsoMicros(value);
  if (ts === undefined)
    throw new FieldError(column, `${JSON.stringify(value)} is neither epoch µs nor ISO-8601`);
  return ts;
}

/**
 * alphalake's own trade layout (what `alphalake lake read bronze/trades` writes): `symbol,
 * ts, seq, price, size, id, exchange` and optionally `ts_nanos` (which may stand in for
 * `ts`); `ts` in epoch µs or ISO-8601.
 */
export const ALPHALAKE_TRADES: RowLayout = {
  name: 'trades',
  // `ts` or `ts_nanos`: the row mapper names `ts` when neither is there.
  required: ['symbol', 'price', 'size', 'id'],
  toRecord: guarded((row) => {
    const tsNanos = optional(row, 'ts_nanos') === undefined ? undefined : nanos(row, 'ts_nanos');
    const trade: Trade = {
      symbol: text(row, 'symbol'),
      ts: tsNanos === undefined ? micros(row, 'ts') : microsOf(tsNanos),
      seq: optional(row, 'seq') === undefined ? 0 : integer(row, 'seq'),
      price: decimal(row, 'price'),
      size: decimal(row, 'size'),
      id: text(row, 'id'),
      exchange: optional(row, 'exchange') ?? '',
      ...(tsNanos === undefined ? {} : { tsNanos }),
    };
    return { kind: 'trade', value: trade };
  }),
};

/**
 * alphalake's quote layout: `symbol, ts, bid_price, bid_size, ask_price, ask_size`.
 */
export const ALPHALAKE_QUOTES: RowLayout = {
  name: 'quotes',
  required: ['symbol', 'ts', 'bid_price', 'bid_size', 'ask_price', 'ask_size'],
  toRecord: guarded((row) => ({
    kind: 'quote',
    value: {
      symbol: text(row, 'symbol'),
      ts: micros(row, 'ts'),
      bidPrice: decimal(row, 'bid_price'),
      bidSize: decimal(row, 'bid_size'),
      askPrice: decimal(row, 'ask_price'),
      askSize: decimal(row, 'ask_size'),
    },
  })),
};

/** Layouts a file is recognised by, most specific first. */
export const ROW_LAYOUTS: readonly RowLayout[] = [
  POLYGON_TRADES,
  POLYGON_MINUTE_AGGS,
  ALPHALAKE_QUOTES,
  ALPHALAKE_TRADES,
];

/** The first layout whose required columns the header has. */
export function layoutOfHeader(header: readonly string[]): RowLayout | undefined {
  const columns = new Set(header);
  return ROW_LAYOUTS.find((layout) => layout.required.every((c) => columns.has(c)));
}
