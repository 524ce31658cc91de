import { DAY_US, utcDate, type Bar, type Trade } from '../domain/index.js';
import {
  LakeTimestamp,
  type ColumnarQueryResult,
  type DeltaTable,
  type Filter,
} from '../lake/index.js';
import type { SpeedStore, TimeRange } from '../speed/index.js';
import { adjustedBarsSql, adjustedTradesSql, type FactorSpan } from './bar-sql.js';
import type { Medallion } from './medallion.js';

/** Which layer served a row. */
export type ViewSource = 'LAKE' | 'SPEED';

export type ServedBar = Bar & { readonly source: ViewSource };
export type ServedTrade = Trade & { readonly source: ViewSource };

/**
 * What a read touched, for callers that cache answers: an answer that read the speed
 * layer can change with every trade; one that read only the lake is fixed by the lake's
 * table versions and the watermark.
 */
export interface ReadTrace {
  speed: boolean;
}

/** The columns of `silver.bars_1m` a served bar is made of. */
const BAR_COLUMNS = ['ts', 'open', 'high', 'low', 'close', 'volume', 'vwap', 'trade_count'];

/**
 * The lambda view: the lake answers for event times below the watermark, the speed
 * store at and above it. The two ranges are disjoint and together cover the query,
 * so no row is missing or counted twice. With no watermark yet, the speed store
 * answers alone.
 */
export class LambdaView {
  constructor(
    private readonly tables: Medallion,
    private readonly speed: SpeedStore,
    private readonly watermark: () => number | undefined,
  ) {}

  /**
   * `factors`, when given, adjusts the bars for corporate actions (src/mdm/adjustments.ts):
   * the lake's rows in the DuckDB query (a join to the factor spans), the speed layer's
   * here, each value times the factor of the span its bar starts in. Both are one
   * IEEE-754 double multiplication by the same factor, so a bar adjusted on either side
   * of the watermark is the same number (docs/mdm.md, "Adjusted prices").
   */
  async bars(
    symbol: string,
    range: TimeRange,
    limit: number,
    trace?: ReadTrace,
    factors?: readonly FactorSpan[],
  ): Promise<ServedBar[]> {
    const { lake, speed } = this.split(range);
    if (speed && trace) trace.speed = true;
    const served: ServedBar[] = lake ? await this.lakeBars(symbol, lake, limit, factors) : [];
    const room = limit - served.length;
    const fromSpeed = speed && room > 0 ? await this.speed.bars(symbol, '1m', speed, room) : [];
    for (const bar of fromSpeed) {
      const span = factors && spanAt(factors, bar.ts);
      served.push(
        span
          ? {
              ...bar,
              open: bar.open * span.price,
              high: bar.high * span.price,
              low: bar.low * span.price,
              close: bar.close * span.price,
              volume: bar.volume * span.volume,
              vwap: bar.vwap * span.price,
              source: 'SPEED',
            }
          : { ...bar, source: 'SPEED' },
      );
    }
    return served;
  }

  /**
   * Bars from `silver.bars_1m`, read as columns (the lake caches them per table version)
   * and made into bars here: one object per bar, nothing per row in between.
   */
  private async lakeBars(
    symbol: string,
    range: TimeRange,
    limit: number,
    factors: readonly FactorSpan[] | undefined,
  ): Promise<ServedBar[]> {
    const result = await this.tables.bars1m.queryColumns({
      columns: BAR_COLUMNS,
      filters: lakeFilters(symbol, range),
      orderBy: BAR_ORDER,
      limit,
      ...(factors ? { aggregate: adjustedBarsSql(factors) } : {}),
    });
    return barsFromColumns(symbol, result);
  }

  /**
   * The raw close of the symbol's last 1-minute bar before `ts` within `lookbackUs` (the
   * price a cash dividend's factor divides by), from the speed store above the watermark
   * and the lake below it; undefined when there is none.
   */
  async closeBefore(
    symbol: string,
    ts: number,
    lookbackUs = 31 * DAY_US,
  ): Promise<number | undefined> {
    const { lake, speed } = this.split({ from: ts - lookbackUs, to: ts });
    if (speed) {
      const bars = await this.speed.bars(symbol, '1m', speed, 100_000);
      const last = bars.at(-1);
      if (last) return last.close;
    }
    if (!lake) return undefined;
    const result = await this.tables.bars1m.queryColumns({
      columns: ['ts', 'close'],
      filters: lakeFilters(symbol, lake),
      orderBy: [{ column: 'ts', desc: true }],
      limit: 1,
    });
    if (result.length === 0) return undefined;
    return Number((result.columns.close as { values: ArrayLike<unknown> }).values[0]);
  }

  /** `factors` adjusts prices and sizes as in `bars`: in DuckDB below the watermark. */
  async trades(
    symbol: string,
    range: TimeRange,
    limit: number,
    trace?: ReadTrace,
    factors?: readonly FactorSpan[],
  ): Promise<ServedTrade[]> {
    const { lake, speed } = this.split(range);
    if (speed && trace) trace.speed = true;
    const fromLake = lake
      ? (await this.lakeTrades(symbol, lake, limit, factors)).map(tradeFromRow)
      : [];
    const room = limit - fromLake.length;
    const fromSpeed = speed && room > 0 ? await this.speed.trades(symbol, speed, room) : [];
    return [
      ...fromLake.map((trade) => ({ ...trade, source: 'LAKE' as const })),
      ...fromSpeed.map((trade) => {
        const span = factors && spanAt(factors, trade.ts);
        return span
          ? {
              ...trade,
              price: trade.price * span.price,
              size: trade.size * span.volume,
              source: 'SPEED' as const,
            }
          : { ...trade, source: 'SPEED' as const };
      }),
    ];
  }

  private async lakeTrades(
    symbol: string,
    range: TimeRange,
    limit: number,
    factors: readonly FactorSpan[] | undefined,
  ): Promise<Record<string, unknown>[]> {
    if (!factors) return this.queryLake(this.tables.trades, symbol, range, limit, TRADE_ORDER);
    const result = await this.tables.trades.query({
      columns: TRADE_COLUMNS,
      filters: lakeFilters(symbol, range),
      orderBy: TRADE_ORDER,
      limit,
      aggregate: adjustedTradesSql(factors),
    });
    return result.rows;
  }

  /** The 1-minute bar with the latest start: live, so always the speed store's. */
  currentBar(symbol: string): Promise<Bar | undefined> {
    return this.speed.currentBar(symbol, '1m');
  }

  /** The part of a range each layer serves; either may be empty. */
  private split(range: TimeRange): { lake?: TimeRange; speed?: TimeRange } {
    const watermark = this.watermark();
    if (watermark === undefined) return { speed: range };
    const lakeTo = Math.min(range.to, watermark);
    const speedFrom = Math.max(range.from, watermark);
    return {
      ...(range.from < lakeTo ? { lake: { from: range.from, to: lakeTo } } : {}),
      ...(speedFrom < range.to ? { speed: { from: speedFrom, to: range.to } } : {}),
    };
  }

  private async queryLake(
    table: DeltaTable,
    symbol: string,
    range: TimeRange,
    limit: number,
    orderBy: readonly { column: string }[],
  ): Promise<Record<string, unknown>[]> {
    const filters = lakeFilters(symbol, range);
    const result = await table.query({ filters, orderBy, limit });
    return result.rows;
  }
}

/** Partition filters on `date` let the lake prune whole days before it reads stats. */
function lakeFilters(symbol: string, range: TimeRange): Filter[] {
  return [
    { column: 'date', op: '>=', value: utcDate(range.from) },
    { column: 'date', op: '<=', value: utcDate(range.to - 1) },
    { column: 'symbol', op: '=', value: symbol },
    // Epoch µs: the lake takes a number for a timestamp as epoch µs.
    { column: 'ts', op: '>=', value: range.from },
    { column: 'ts', op: '<', value: range.to },
  ];
}

/**
 * Served bars from the columns of a bars_1m read (every column non-null by schema);
 * timestamps arrive as epoch µs, the domain's unit.
 */
function barsFromColumns(symbol: string, result: ColumnarQueryResult): ServedBar[] {
  const column = (name: string): ArrayLike<unknown> =>
    (result.columns[name] as { values: ArrayLike<unknown> }).values;
  const ts = column('ts');
  const open = column('open');
  const high = column('high');
  const low = column('low');
  const close = column('close');
  const volume = column('volume');
  const vwap = column('vwap');
  const count = column('trade_count');
  const bars = new Array<ServedBar>(result.length);
  for (let i = 0; i < result.length; i++) {
    bars[i] = {
      symbol,
      interval: '1m',
      ts: columnMicros(ts[i]),
      open: Number(open[i]),
      high: Number(high[i]),
      low: Number(low[i]),
      close: Number(close[i]),
      volume: Number(volume[i]),
      vwap: Number(vwap[i]),
      tradeCount: Number(count[i]),
      source: 'LAKE',
    };
  }
  return bars;
}

/** A timestamp of a columnar read: epoch µs, or a LakeTimestamp beyond ±(2^53−1) µs. */
function columnMicros(value: unknown): number {
  return typeof value === 'number' ? value : toMicros(value);
}

const BAR_ORDER = [{ column: 'ts' }];
const TRADE_COLUMNS = ['symbol', 'ts', 'seq', 'price', 'size', 'id', 'exchange', 'ts_nanos'];

/** The span holding `ts` (the spans cover the time line). */
function spanAt(spans: readonly FactorSpan[], ts: number): FactorSpan | undefined {
  return spans.find((s) => ts >= s.from && ts < s.to);
}
/** A symbol's trades in their total order, (ts, seq) (docs/time.md). */
const TRADE_ORDER = [{ column: 'ts' }, { column: 'seq' }];

/** Epoch µs of a lake timestamp (the domain's range: always a safe integer). */
function toMicros(value: unknown): number {
  const micros = value instanceof LakeTimestamp ? value.epochMicros : undefined;
  if (micros === undefined) throw new Error(`lake row ts ${String(value)} is not a domain time`);
  return micros;
}

function tradeFromRow(row: Record<string, unknown>): Trade {
  return {
    symbol: String(row.symbol),
    ts: toMicros(row.ts),
    // NULL in rows written before `seq` existed: they keep their ts order.
    seq: Number(row.seq ?? 0),
    price: Number(row.price),
    size: Number(row.size),
    id: String(row.id),
    exchange: String(row.exchange ?? ''),
  };
}
