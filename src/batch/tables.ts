import type { ColumnSpec } from '../lake/index.js';

/**
 * The lake's tables: where each lives under the lake root, its schema, its
 * partitioning (by UTC date) and its clustering order.
 */
export interface TableDefinition {
  readonly name: string;
  readonly path: string;
  readonly schema: readonly ColumnSpec[];
  readonly partitionColumns: readonly string[];
  readonly clusterBy: readonly string[];
}

const column = (name: string, type: ColumnSpec['type'], nullable = false): ColumnSpec => ({
  name,
  type,
  nullable,
});

export const TRADES_TABLE: TableDefinition = {
  name: 'bronze.trades',
  path: 'bronze/trades',
  schema: [
    column('symbol', 'string'),
    column('ts', 'timestamp'),
    // The source's per-symbol sequence: (ts, seq) orders trades that share a µs. NULL in
    // rows written before the column existed (they read as seq 0).
    column('seq', 'long', true),
    column('price', 'double'),
    column('size', 'long'),
    column('id', 'string'),
    column('exchange', 'string', true),
    column('date', 'date'),
    // The source's event time in epoch ns when it has one (Polygon's sip_timestamp), whole:
    // int64 holds epoch ns until 2262. NULL for sources with µs only and older rows.
    column('ts_nanos', 'long', true),
    // The source's sale-condition ids (Polygon's `conditions`), which decide what the
    // trade sets in a bar (src/domain/trade-conditions.ts). NULL: none given (a regular
    // sale, or a source without conditions) and rows written before the column existed.
    column('conditions', { type: 'array', elementType: 'integer', containsNull: false }, true),
  ],
  partitionColumns: ['date'],
  clusterBy: ['symbol', 'ts', 'seq'],
};

export const BARS_1M_TABLE: TableDefinition = {
  name: 'silver.bars_1m',
  path: 'silver/bars_1m',
  schema: [
    column('symbol', 'string'),
    column('ts', 'timestamp'),
    column('open', 'double'),
    column('high', 'double'),
    column('low', 'double'),
    column('close', 'double'),
    column('volume', 'long'),
    column('vwap', 'double'),
    column('trade_count', 'long'),
    column('date', 'date'),
    // Σ price·size of the minute's trades, as the bar builder summed it: what makes a
    // coarser bar's vwap exact (vwap·volume only recovers it to within an ulp or two).
    // Nullable: tables written before it have no value for their older rows.
    column('notional', 'double', true),
  ],
  partitionColumns: ['date'],
  clusterBy: ['symbol', 'ts'],
};

/**
 * The best bid and offer over time, one row per quote the bus carried (exactly once, as
 * `bronze.trades`): what the as-of join of `tradesWithQuote` reads the prevailing quote from.
 */
export const QUOTES_TABLE: TableDefinition = {
  name: 'bronze.quotes',
  path: 'bronze/quotes',
  schema: [
    column('symbol', 'string'),
    column('ts', 'timestamp'),
    column('bid_price', 'double'),
    column('bid_size', 'long'),
    column('ask_price', 'double'),
    column('ask_size', 'long'),
    column('date', 'date'),
  ],
  partitionColumns: ['date'],
  clusterBy: ['symbol', 'ts'],
};

export const REJECTS_TABLE: TableDefinition = {
  name: 'bronze.rejects',
  path: 'bronze/rejects',
  schema: [
    column('received_at', 'timestamp'),
    column('source', 'string'),
    column('kind', 'string'),
    column('reason', 'string'),
    column('payload', 'string'),
    column('date', 'date'),
    // What exactly was wrong when the reason alone does not say (a malformed row's column).
    column('detail', 'string', true),
  ],
  partitionColumns: ['date'],
  clusterBy: ['received_at'],
};

/** News articles, one row per id (duplicates are dropped by id on the way in: src/batch/sink/news-writer.ts). */
export const NEWS_TABLE: TableDefinition = {
  name: 'bronze.news',
  path: 'bronze/news',
  schema: [
    column('id', 'string'),
    column('published_at', 'timestamp'),
    column('tickers', { type: 'array', elementType: 'string', containsNull: false }),
    column('title', 'string'),
    column('description', 'string'),
    column('url', 'string'),
    column('source', 'string'),
    column('date', 'date'),
  ],
  partitionColumns: ['date'],
  clusterBy: ['published_at'],
};

/**
 * Bars as vendors delivered them (the `bars` topic: Polygon minute aggregates from flat
 * files, REST and WebSocket, Yahoo daily bars), raw (unadjusted), one row per bar key
 * (source, symbol, interval, ts): written by upsert, so a bar delivered again replaces the
 * row (src/batch/sink/vendor-bars-writer.ts). Not `silver.bars_1m`, which is built from
 * trades: the two may disagree, and a reader can compare them.
 */
export const VENDOR_BARS_TABLE: TableDefinition = {
  name: 'bronze.vendor_bars',
  path: 'bronze/vendor_bars',
  schema: [
    column('symbol', 'string'),
    // `1s`, `1m` or `1d` (BarInterval).
    column('interval', 'string'),
    // Start of the bar, epoch µs.
    column('ts', 'timestamp'),
    column('open', 'double'),
    column('high', 'double'),
    column('low', 'double'),
    column('close', 'double'),
    // Double, not long: a vendor's volume is a number (Polygon's `v` may be fractional).
    column('volume', 'double'),
    // NULL when the vendor gives none (Polygon's flat-file minute aggregates).
    column('vwap', 'double', true),
    // The vendor's trade count (Polygon's `n`, `transactions`; Yahoo's bars say 0); NULL
    // when the bar carries no whole number.
    column('transactions', 'long', true),
    column('source', 'string'),
    column('date', 'date'),
  ],
  partitionColumns: ['date'],
  clusterBy: ['symbol', 'interval', 'ts'],
};

export const LAKE_TABLES = [
  TRADES_TABLE,
  BARS_1M_TABLE,
  QUOTES_TABLE,
  REJECTS_TABLE,
  NEWS_TABLE,
  VENDOR_BARS_TABLE,
] as const;
