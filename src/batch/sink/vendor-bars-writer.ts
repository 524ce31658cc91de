import { utcDate, type VendorBar } from '../../domain/index.js';
import type { ColumnBatch } from '../../lake/index.js';
import { Dictionary } from './dictionary.js';

/**
 * A vendor bar's natural key in `bronze.vendor_bars`: who delivered it, for which ticker,
 * at which interval, starting when. The table holds each key once: the sink and the
 * backfill upsert on it (DeltaTable.upsert, a MERGE in one Delta commit), so a range
 * ingested again (`ingest --source polygon` twice, a backfill over a day already there, a
 * Kafka record delivered twice) leaves one row a bar. A bar delivered again with other
 * values is the vendor's correction: the last one written wins (docs/ingest.md).
 * `source` is part of the key: Polygon REST and the WebSocket's `AM` for the same minute
 * are two rows, to be compared.
 */
export const VENDOR_BAR_KEY = ['source', 'symbol', 'interval', 'ts'] as const;

/** The source a bar from a producer older than the `source` field is written with. */
export const UNKNOWN_VENDOR_SOURCE = 'unknown';

/**
 * The bars of a batch, each key once: where a key comes twice (a vendor sent the bar again,
 * or a file was published twice before one flush), the later one, in the order given (the
 * bus's order within a partition: bars are keyed by symbol), wins, as it would have had the
 * two arrived in two commits.
 */
export function latestVendorBars(bars: readonly VendorBar[]): VendorBar[] {
  const latest = new Map<string, VendorBar>();
  for (const bar of bars) {
    const key = `${bar.source ?? UNKNOWN_VENDOR_SOURCE}\u0000${bar.symbol}\u0000${bar.interval}\u0000${bar.ts}`;
    // Deleted first, so the map's order is the order of each key's last delivery.
    latest.delete(key);
    latest.set(key, bar);
  }
  return [...latest.values()];
}

/**
 * Vendor bars as `bronze.vendor_bars` columns: every number as the vendor gave it (a
 * Float64Array double is written bit for bit), an unknown vwap (NaN) as NULL, the trade
 * count as a long (NULL when the vendor gave no whole count). A bar from a producer older than the
 * `source` field reads `unknown`.
 */
export function vendorBarColumns(bars: readonly VendorBar[]): ColumnBatch {
  const n = bars.length;
  const symbols = new Dictionary();
  const intervals = new Dictionary();
  const sources = new Dictionary();
  const dates = new Dictionary();
  const columns = {
    symbol: { dictionary: symbols.values, codes: new Int32Array(n) },
    interval: { dictionary: intervals.values, codes: new Int32Array(n) },
    ts: new Float64Array(n),
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n),
    volume: new Float64Array(n),
    vwap: new Array<number | null>(n),
    transactions: new Array<bigint | null>(n),
    source: { dictionary: sources.values, codes: new Int32Array(n) },
    date: { dictionary: dates.values, codes: new Int32Array(n) },
  };
  for (let i = 0; i < n; i++) {
    const bar = bars[i]!;
    columns.symbol.codes[i] = symbols.code(bar.symbol);
    columns.interval.codes[i] = intervals.code(bar.interval);
    columns.ts[i] = bar.ts;
    columns.open[i] = bar.open;
    columns.high[i] = bar.high;
    columns.low[i] = bar.low;
    columns.close[i] = bar.close;
    columns.volume[i] = bar.volume;
    columns.vwap[i] = Number.isNaN(bar.vwap) ? null : bar.vwap;
    columns.transactions[i] = Number.isSafeInteger(bar.tradeCount) ? BigInt(bar.tradeCount) : null;
    columns.source.codes[i] = sources.code(bar.source ?? UNKNOWN_VENDOR_SOURCE);
    columns.date.codes[i] = dates.code(utcDate(bar.ts));
  }
  return { length: n, columns };
}
