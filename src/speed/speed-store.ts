import type { Bar, BarInterval, Quote, Trade } from '../domain/index.js';

/**
 * The speed store port: the recent past, kept for a retention window, served for
 * event times at and above the watermark. In-process by default (memory-speed-store.ts);
 * Cassandra with TTL in the distributed profile (cassandra-speed-store.ts). Both pass one
 * contract suite (test/contracts/speed-store.ts).
 *
 * Every write is idempotent: a row is keyed by what it is (a trade by symbol, ts and id;
 * a quote by symbol and ts; a bar by symbol, interval and start), so a batch replayed
 * after a crash or a bus redelivery replaces rows instead of adding them.
 */
export interface SpeedStoreCapabilities {
  /** Rows expire by themselves (Cassandra TTL); otherwise `evictBefore` does it. */
  readonly supportsTtl: boolean;
}

export interface TimeRange {
  /** Inclusive, epoch µs. */
  readonly from: number;
  /** Exclusive, epoch µs. */
  readonly to: number;
}

/** What `/readyz` shows for the speed store. */
export interface SpeedStoreHealth {
  readonly ready: boolean;
  /** One line: what answered, or why not. */
  readonly detail: string;
}

export interface SpeedStore {
  readonly capabilities: SpeedStoreCapabilities;
  /**
   * Whether the store can take and serve rows now (Cassandra: a node answers a cheap
   * query within a timeout). Never throws: a store that cannot answer reports `ready: false`
   * with why.
   */
  health(signal?: AbortSignal): Promise<SpeedStoreHealth>;
  /** Inserts or replaces bars by (symbol, interval, ts); of two writes of one bar the later wins. */
  upsertBars(bars: readonly Bar[]): Promise<void>;
  /** Adds trades by (symbol, ts, seq, id): a trade already held is replaced, never duplicated. */
  appendTrades(trades: readonly Trade[]): Promise<void>;
  /**
   * Adds quotes by (symbol, ts); a later write at the same ts replaces the earlier one.
   * The quote with the greatest ts becomes the symbol's latest, whatever the arrival order.
   */
  putQuotes(quotes: readonly Quote[]): Promise<void>;
  /** Bars of one interval that start in `range`, oldest first, at most `limit`. */
  bars(symbol: string, interval: BarInterval, range: TimeRange, limit: number): Promise<Bar[]>;
  /** Trades in `range` in their order, (ts, seq) (docs/time.md), at most `limit`. */
  trades(symbol: string, range: TimeRange, limit: number): Promise<Trade[]>;
  /** Quotes in `range` ordered by ts, at most `limit`. */
  quotes(symbol: string, range: TimeRange, limit: number): Promise<Quote[]>;
  /** The quote with the greatest ts, if any is held. */
  latestQuote(symbol: string): Promise<Quote | undefined>;
  /**
   * `latestQuote` of many tickers in one call, in the order asked (undefined where none is
   * held; a ticker asked twice is answered twice). A request's DataLoader batch
   * (src/graphql/execution/loaders.ts) becomes one call, which the store may answer with
   * fewer round trips than one per ticker.
   */
  latestQuotes(symbols: readonly string[]): Promise<(Quote | undefined)[]>;
  /**
   * `bars` of many tickers in one call: for each ticker, in the order asked, its bars of
   * `interval` that start in `range`, oldest first, at most `limit` per ticker.
   */
  barsMany(
    symbols: readonly string[],
    interval: BarInterval,
    range: TimeRange,
    limit: number,
  ): Promise<Bar[][]>;
  /** The bar of `interval` with the greatest start, as last written: what a new subscriber sees first. */
  currentBar(symbol: string, interval: BarInterval): Promise<Bar | undefined>;
  /**
   * Drops bars, trades and quotes older than `ts` (epoch µs). A store with `supportsTtl` may leave
   * this to its TTL; callers never read below the watermark, so either is correct.
   */
  evictBefore(ts: number): Promise<void>;
  close(): Promise<void>;
}
