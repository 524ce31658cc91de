import { DAY_US, MINUTE_US, SECOND_US } from './time.js';

/**
 * The market-data records that flow through alphalake. Timestamps are event time in
 * epoch **microseconds** (UTC) held in a `number`: a safe integer until the year 2255,
 * exact in a double, no BigInt on the hot path (docs/time.md). They become text only at
 * the edges (lake, GraphQL, CLI). Nanoseconds from a source that has them live in their
 * own `bigint` fields.
 */

/**
 * One print on the tape. `id` is unique per symbol and source. A symbol's trades are
 * totally ordered by `(ts, seq)`: several may share a microsecond, never a `seq`
 * (docs/time.md); every layer (bus, speed store, lake, GraphQL) keeps that order.
 */
export interface Trade {
  readonly symbol: string;
  /** Event time, epoch µs. */
  readonly ts: number;
  /**
   * The source's sequence number of this trade for its symbol, increasing in tape order
   * within a trading day (as Polygon's `sequence_number`): the tie-breaker of equal `ts`.
   */
  readonly seq: number;
  readonly price: number;
  readonly size: number;
  readonly id: string;
  readonly exchange: string;
  /**
   * The source's own event time in epoch **nanoseconds** when it has one finer than µs
   * (Polygon's `sip_timestamp`): kept whole so nothing is lost; `ts` is its floor in µs.
   */
  readonly tsNanos?: bigint;
  /**
   * The source's sale-condition ids (Polygon's `conditions`: the flat-file column, REST
   * `conditions`, WebSocket `c`), as its conditions table numbers them: they decide what
   * the trade may set in a bar (trade-conditions.ts). Absent: a regular sale.
   */
  readonly conditions?: readonly number[];
}

/** The order of one symbol's trades: by event time, then by the source's sequence number. */
export function compareTrades(a: Trade, b: Trade): number {
  return a.ts - b.ts || a.seq - b.seq;
}

/** The best bid and offer at an instant. */
export interface Quote {
  readonly symbol: string;
  /** Event time, epoch µs. */
  readonly ts: number;
  readonly bidPrice: number;
  readonly bidSize: number;
  readonly askPrice: number;
  readonly askSize: number;
}

/**
 * Bar lengths: the platform builds 1-second bars for live charts and 1-minute bars
 * everywhere; vendors also deliver daily bars (Polygon aggregates, Yahoo's chart), whose
 * `ts` is the UTC midnight of the session's date.
 */
export type BarInterval = '1s' | '1m' | '1d';

/** OHLCV of the trades in [ts, ts + interval). */
export interface Bar {
  readonly symbol: string;
  readonly interval: BarInterval;
  /** Start of the interval, epoch µs. */
  readonly ts: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  /** Volume-weighted average price: sum(price * size) / sum(size). */
  readonly vwap: number;
  readonly tradeCount: number;
}

/**
 * A bar as a vendor delivered it (Polygon flat-file minute aggregates, REST aggregates,
 * WebSocket `A`/`AM`, Yahoo daily bars), with the source that delivered it: what the
 * `bars` topic carries and `bronze.vendor_bars` keeps. `vwap` is NaN when the vendor gives
 * none (the flat files), `tradeCount` 0 when it counts none (Yahoo).
 */
export interface VendorBar extends Bar {
  /** The ingest source's name (`polygon-rest`, `file:minute_aggs.csv.gz`, …). */
  readonly source: string;
}

/** Ticker master data, as far as the platform needs it before MDM grows. */
export interface SymbolInfo {
  readonly symbol: string;
  readonly name: string;
  readonly exchange: string;
  readonly currency: string;
  readonly active: boolean;
}

/** A news article about one or more tickers (Polygon `/v2/reference/news`, RSS, JSON files). */
export interface NewsItem {
  /** The publisher's or vendor's id: duplicates are dropped by it. */
  readonly id: string;
  /** Publication time, epoch µs. */
  readonly publishedAt: number;
  readonly tickers: readonly string[];
  readonly title: string;
  readonly description: string;
  readonly url: string;
  /** Publisher or feed name. */
  readonly source: string;
}

/**
 * A corporate action on its ex-date: prices before the ex-date are adjusted by it.
 * A split of `splitTo` new shares for every `splitFrom` old (2-for-1: from 1, to 2); a
 * cash dividend of `cashAmount` per share in `currency`.
 */
export type CorporateAction =
  | {
      readonly kind: 'split';
      readonly symbol: string;
      /** `YYYY-MM-DD`, the first session that trades on the new basis. */
      readonly exDate: string;
      readonly splitFrom: number;
      readonly splitTo: number;
      readonly source: string;
    }
  | {
      readonly kind: 'dividend';
      readonly symbol: string;
      readonly exDate: string;
      readonly cashAmount: number;
      readonly currency: string;
      readonly source: string;
    };

/** Length of each bar interval, in the domain's time unit (µs). */
export const BAR_INTERVAL_US: Readonly<Record<BarInterval, number>> = Object.freeze({
  '1s': SECOND_US,
  '1m': MINUTE_US,
  '1d': DAY_US,
});

/**
 * Bar lengths the lake builds in SQL (src/batch/read/bar-sql.ts), in µs: whole minutes, so each
 * is a whole number of the stored 1-minute bars; a `1d` bar is a UTC day.
 */
export const LAKE_BAR_INTERVAL_US = Object.freeze({
  '1m': MINUTE_US,
  '5m': 5 * MINUTE_US,
  '15m': 15 * MINUTE_US,
  '30m': 30 * MINUTE_US,
  '1h': 60 * MINUTE_US,
  '1d': DAY_US,
} as const);

export type LakeBarInterval = keyof typeof LAKE_BAR_INTERVAL_US;

/** The UTC calendar date of an instant, `YYYY-MM-DD`: the lake's partition value. */
export function utcDate(ts: number): string {
  const day = Math.floor(ts / DAY_US);
  if (day !== lastDay) {
    lastDay = day;
    lastDate = new Date(day * 86_400_000).toISOString().slice(0, 10);
  }
  return lastDate;
}

/** Days since 1970-01-01 of an instant: how the lake takes a `date` column in bulk. */
export function utcDay(ts: number): number {
  return Math.floor(ts / DAY_US);
}

// utcDate is called once per trade on the write path: remember the last day's string.
let lastDay = Number.NaN;
let lastDate = '';
