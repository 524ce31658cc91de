import { utcDate, type Bar, type Trade } from '../domain/index.js';
import { LakeTimestamp, type DeltaTable, type Filter } from '../lake/index.js';
import type { SpeedStore, TimeRange } from '../speed/index.js';
import type { Medallion } from './medallion.js';

/** Which layer served a row. */
export type ViewSource = 'LAKE' | 'SPEED';

export type ServedBar = Bar & { readonly source: ViewSource };
export type ServedTrade = Trade & { readonly source: ViewSource };

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

  async bars(symbol: string, range: TimeRange, limit: number): Promise<ServedBar[]> {
    const { lake, speed } = this.split(range);
    const fromLake = lake
      ? (await this.queryLake(this.tables.bars1m, symbol, lake, limit, BAR_ORDER)).map(barFromRow)
      : [];
    const room = limit - fromLake.length;
    const fromSpeed = speed && room > 0 ? await this.speed.bars(symbol, '1m', speed, room) : [];
    return [
      ...fromLake.map((bar) => ({ ...bar, source: 'LAKE' as const })),
      ...fromSpeed.map((bar) => ({ ...bar, source: 'SPEED' as const })),
    ];
  }

  async trades(symbol: string, range: TimeRange, limit: number): Promise<ServedTrade[]> {
    const { lake, speed } = this.split(range);
    const fromLake = lake
      ? (await this.queryLake(this.tables.trades, symbol, lake, limit, TRADE_ORDER)).map(
          tradeFromRow,
        )
      : [];
    const room = limit - fromLake.length;
    const fromSpeed = speed && room > 0 ? await this.speed.trades(symbol, speed, room) : [];
    return [
      ...fromLake.map((trade) => ({ ...trade, source: 'LAKE' as const })),
      ...fromSpeed.map((trade) => ({ ...trade, source: 'SPEED' as const })),
    ];
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
    // Partition filters on `date` let the lake prune whole days before it reads stats.
    const filters: Filter[] = [
      { column: 'date', op: '>=', value: utcDate(range.from) },
      { column: 'date', op: '<=', value: utcDate(range.to - 1) },
      { column: 'symbol', op: '=', value: symbol },
      // Epoch µs: the lake takes a number for a timestamp as epoch µs.
      { column: 'ts', op: '>=', value: range.from },
      { column: 'ts', op: '<', value: range.to },
    ];
    const result = await table.query({ filters, orderBy, limit });
    return result.rows;
  }
}

const BAR_ORDER = [{ column: 'ts' }];
/** A symbol's trades in their total order, (ts, seq) (docs/time.md). */
const TRADE_ORDER = [{ column: 'ts' }, { column: 'seq' }];

/** Epoch µs of a lake timestamp (the domain's range: always a safe integer). */
function toMicros(value: unknown): number {
  const micros = value instanceof LakeTimestamp ? value.epochMicros : undefined;
  if (micros === undefined) throw new Error(`lake row ts ${String(value)} is not a domain time`);
  return micros;
}

function barFromRow(row: Record<string, unknown>): Bar {
  return {
    symbol: String(row.symbol),
    interval: '1m',
    ts: toMicros(row.ts),
    open: Number(row.open),
    high: Number(row.high),
    low: Number(row.low),
    close: Number(row.close),
    volume: Number(row.volume),
    vwap: Number(row.vwap),
    tradeCount: Number(row.trade_count),
  };
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
