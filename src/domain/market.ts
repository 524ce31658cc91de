/**
 * The market-data records that flow through alphalake. Timestamps are event time in
 * epoch milliseconds (UTC); they become `Date`s only at the edges (lake, GraphQL).
 */

/** One print on the tape. `id` is unique per symbol and source. */
export interface Trade {
  readonly symbol: string;
  readonly ts: number;
  readonly price: number;
  readonly size: number;
  readonly id: string;
  readonly exchange: string;
}

/** The best bid and offer at an instant. */
export interface Quote {
  readonly symbol: string;
  readonly ts: number;
  readonly bidPrice: number;
  readonly bidSize: number;
  readonly askPrice: number;
  readonly askSize: number;
}

/** Bar lengths the platform builds: 1-second bars for live charts, 1-minute bars everywhere. */
export type BarInterval = '1s' | '1m';

/** OHLCV of the trades in [ts, ts + interval). */
export interface Bar {
  readonly symbol: string;
  readonly interval: BarInterval;
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

/** Ticker master data, as far as the platform needs it before MDM grows. */
export interface SymbolInfo {
  readonly symbol: string;
  readonly name: string;
  readonly exchange: string;
  readonly currency: string;
  readonly active: boolean;
}

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

/** Length of each bar interval, in the domain's time unit. */
export const BAR_INTERVAL_MS: Readonly<Record<BarInterval, number>> = Object.freeze({
  '1s': 1_000,
  '1m': MINUTE_MS,
});

export function floorToMinute(ts: number): number {
  return Math.floor(ts / MINUTE_MS) * MINUTE_MS;
}

/** The UTC calendar date of an instant, `YYYY-MM-DD`: the lake's partition value. */
export function utcDate(ts: number): string {
  const day = Math.floor(ts / DAY_MS);
  if (day !== lastDay) {
    lastDay = day;
    lastDate = new Date(day * DAY_MS).toISOString().slice(0, 10);
  }
  return lastDate;
}

/** Days since 1970-01-01 of an instant: how the lake takes a `date` column in bulk. */
export function utcDay(ts: number): number {
  return Math.floor(ts / DAY_MS);
}

// utcDate is called once per trade on the write path: remember the last day's string.
let lastDay = Number.NaN;
let lastDate = '';
