import type { Bar, Quote, Trade } from '../domain/index.js';

/**
 * The speed store port: the recent past, kept for a retention window, served for
 * event times at and above the watermark. In-process by default (memory-speed-store.ts);
 * Cassandra (with TTL) in the distributed profile.
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

export interface SpeedStore {
  readonly capabilities: SpeedStoreCapabilities;
  /** Inserts or replaces bars by (symbol, interval, ts). */
  upsertBars(bars: readonly Bar[]): Promise<void>;
  appendTrades(trades: readonly Trade[]): Promise<void>;
  putQuotes(quotes: readonly Quote[]): Promise<void>;
  bars(symbol: string, range: TimeRange): Promise<Bar[]>;
  /** Trades in their order, (ts, seq) (docs/time.md), at most `limit`. */
  trades(symbol: string, range: TimeRange, limit: number): Promise<Trade[]>;
  latestQuote(symbol: string): Promise<Quote | undefined>;
  /** Drops everything older than `ts` (epoch µs). */
  evictBefore(ts: number): Promise<void>;
  close(): Promise<void>;
}
