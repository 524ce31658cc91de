import { AlphalakeError, BAR_INTERVAL_US, utcDate, type VendorBar } from '../../domain/index.js';
import { LakeTimestamp, type DeltaTable, type Filter } from '../../lake/index.js';

export interface VendorBarsQuery {
  readonly symbol: string;
  /** `1s`, `1m` or `1d`; every interval when absent. */
  readonly interval?: string | undefined;
  /** Only bars this source delivered (`polygon-rest`, `file:…`). */
  readonly source?: string | undefined;
  /** Bar start, epoch µs, inclusive. */
  readonly from: number;
  /** Bar start, epoch µs, exclusive. */
  readonly to: number;
  readonly limit: number;
  readonly signal?: AbortSignal | undefined;
}

/**
 * `bronze.vendor_bars` for readers: a symbol's bars as vendors delivered them (raw), oldest
 * first, by (ts, interval, source). MarketData adjusts them (src/mdm/adjustments.ts).
 */
export class VendorBarsLog {
  constructor(private readonly table: DeltaTable) {}

  async list(query: VendorBarsQuery): Promise<VendorBar[]> {
    if (query.interval !== undefined && !(query.interval in BAR_INTERVAL_US)) {
      throw new AlphalakeError(
        'BAD_USER_INPUT',
        `unknown vendor bar interval ${JSON.stringify(query.interval)}: use one of ${Object.keys(BAR_INTERVAL_US).join(', ')}`,
        { interval: query.interval },
      );
    }
    if (query.from >= query.to) return [];
    const filters: Filter[] = [
      // The partition first, so whole days are pruned before stats are read.
      { column: 'date', op: '>=', value: utcDate(query.from) },
      { column: 'date', op: '<=', value: utcDate(query.to - 1) },
      { column: 'symbol', op: '=', value: query.symbol },
      { column: 'ts', op: '>=', value: query.from },
      { column: 'ts', op: '<', value: query.to },
    ];
    if (query.interval !== undefined)
      filters.push({ column: 'interval', op: '=', value: query.interval });
    if (query.source !== undefined)
      filters.push({ column: 'source', op: '=', value: query.source });
    const result = await this.table.query({
      filters,
      orderBy: [{ column: 'ts' }, { column: 'interval' }, { column: 'source' }],
      limit: query.limit,
      ...(query.signal ? { signal: query.signal } : {}),
    });
    return result.rows.map((row) => ({
      symbol: String(row.symbol),
      interval: String(row.interval) as VendorBar['interval'],
      ts: microsOf(row.ts),
      open: Number(row.open),
      high: Number(row.high),
      low: Number(row.low),
      close: Number(row.close),
      volume: Number(row.volume),
      vwap: row.vwap === null || row.vwap === undefined ? Number.NaN : Number(row.vwap),
      tradeCount:
        row.transactions === null || row.transactions === undefined
          ? Number.NaN
          : Number(row.transactions),
      source: String(row.source),
    }));
  }
}

function microsOf(value: unknown): number {
  if (typeof value === 'number') return value;
  const micros = value instanceof LakeTimestamp ? value.epochMicros : undefined;
  if (micros === undefined) throw new Error(`vendor bar ts ${String(value)} is not a time`);
  return micros;
}
