import {
  aggregateBars,
  floorToMinute,
  MINUTE_US,
  utcDate,
  type Bar,
  type Clock,
  type Trade,
} from '../domain/index.js';
import type { HistorySink, Reject } from '../ingest/index.js';
import type { ColumnBatch, DeltaTable } from '../lake/index.js';
import type { Counter } from '../metrics/index.js';
import type { BusRecord, StreamBus } from '../stream/index.js';
import type { Medallion } from './medallion.js';

/**
 * The Delta `txn` appId under which the sink commits; its version is the watermark in
 * epoch minutes (the watermark, in µs, is always minute-aligned, so nothing is lost, and
 * tables written before the switch to µs keep their meaning).
 */
export const SINK_APP_ID = 'alphalake-lake-sink';

export interface LakeSinkOptions {
  /** How often completed minutes move from the stream into the lake (wall time, ms: a timer). */
  readonly intervalMs: number;
  /** How long after a minute ends its last trades may still arrive, µs of event time. */
  readonly allowedLatenessUs: number;
  /** Counts rows committed, by table. */
  readonly rowsWritten?: Counter;
}

/**
 * The batch layer's writer. Trades from the bus are buffered; every interval the
 * completed minutes go to `bronze.trades` and their bars to `silver.bars_1m`, each
 * in one Delta commit carrying a `txn` action (PROTOCOL.md "Transaction
 * Identifiers") whose version is the new watermark in epoch minutes. On restart the
 * table says how far it got, so a replay of the same range is skipped table by table:
 * nothing is written twice, nothing is lost. Trades that arrive after their minute was
 * committed go to `bronze.rejects` as LATE_EVENT.
 */
export class LakeSink implements HistorySink {
  /** Epoch µs, minute-aligned. */
  private watermarkUs: number | undefined;
  private readonly tableWatermarks = new Map<DeltaTable, number | undefined>();
  private pendingTrades: Trade[] = [];
  private pendingRejects: Reject[] = [];
  /** The latest event time the stream has delivered. */
  private latestEventTs = -Infinity;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<(watermark: number) => void>();

  private constructor(
    private readonly tables: Medallion,
    private readonly clock: Clock,
    private readonly options: LakeSinkOptions,
  ) {}

  static async open(tables: Medallion, clock: Clock, options: LakeSinkOptions): Promise<LakeSink> {
    const sink = new LakeSink(tables, clock, options);
    for (const table of [tables.trades, tables.bars1m]) {
      const version = (await table.snapshot()).txnVersion(SINK_APP_ID);
      sink.tableWatermarks.set(table, version === undefined ? undefined : version * MINUTE_US);
    }
    const marks = [...sink.tableWatermarks.values()];
    sink.watermarkUs = marks.some((m) => m === undefined)
      ? undefined
      : Math.min(...(marks as number[]));
    return sink;
  }

  watermark(): number | undefined {
    return this.watermarkUs;
  }

  onWatermark(listener: (watermark: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Consumes trades and rejects from the bus and flushes on a timer until the signal aborts. */
  async start(
    bus: StreamBus,
    signal: AbortSignal,
    options: { timer?: boolean } = {},
  ): Promise<void> {
    await bus.subscribe<Trade>(
      'trades',
      async (records: readonly BusRecord<Trade>[]) => {
        for (const record of records) {
          this.pendingTrades.push(record.value);
          if (record.value.ts > this.latestEventTs) this.latestEventTs = record.value.ts;
        }
      },
      { group: 'lake-sink', signal },
    );
    await bus.subscribe<Reject>(
      'rejects',
      async (records: readonly BusRecord<Reject>[]) => {
        for (const record of records) this.pendingRejects.push(record.value);
      },
      { group: 'lake-sink', signal },
    );
    if (options.timer === false) return;
    const timer = setInterval(() => {
      this.flush().catch((error) => console.error('lake sink flush failed:', error));
    }, this.options.intervalMs);
    signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  }

  /**
   * Commits every buffered trade of the minutes that ended before `cutoff` and moves
   * the watermark there. By default the cutoff follows event time, not the wall clock:
   * a minute is complete once the stream has moved `allowedLatenessUs` past its end
   * (bounded out-of-orderness), so a source that lags never has its minutes sealed
   * before it delivered them. Rejects are written whatever the cutoff.
   */
  flush(cutoff = this.eventTimeCutoff()): Promise<void> {
    return this.serialized(async () => {
      const from = this.watermarkUs ?? earliestMinute(this.pendingTrades);
      if (from === undefined || cutoff <= from) {
        if (this.pendingRejects.length > 0) {
          const rejects = this.pendingRejects;
          this.pendingRejects = [];
          await this.writeRejects(rejects);
        }
        return;
      }
      const due: Trade[] = [];
      const late: Trade[] = [];
      const later: Trade[] = [];
      for (const trade of this.pendingTrades) {
        if (trade.ts < from) late.push(trade);
        else if (trade.ts < cutoff) due.push(trade);
        else later.push(trade);
      }
      const now = this.clock.now();
      const rejects = [...this.pendingRejects, ...late.map((trade) => lateReject(trade, now))];
      await this.commitRange({ from, to: cutoff }, due, rejects);
      this.pendingTrades = later;
      this.pendingRejects = [];
    });
  }

  private eventTimeCutoff(): number {
    const eventTime = Math.min(this.clock.now(), this.latestEventTs + 1);
    return floorToMinute(eventTime - this.options.allowedLatenessUs);
  }

  writeHistory(
    range: { from: number; to: number },
    trades: readonly Trade[],
    rejects: readonly Reject[],
  ): Promise<void> {
    return this.serialized(() => this.commitRange(range, trades, rejects));
  }

  private async commitRange(
    range: { from: number; to: number },
    trades: readonly Trade[],
    rejects: readonly Reject[],
  ): Promise<void> {
    if (range.to % MINUTE_US !== 0) {
      // The txn version is the watermark in whole minutes: a ragged end could not be resumed.
      throw new Error(`lake sink: range end ${range.to} µs is not minute-aligned`);
    }
    const txn = { appId: SINK_APP_ID, version: range.to / MINUTE_US };
    const commitInfo = { alphalake: { sink: SINK_APP_ID, from: range.from, to: range.to } };
    // The two tables are independent commits: write them side by side.
    await Promise.all([
      this.commitTable(this.tables.trades, range, trades, txn, commitInfo, tradeColumns),
      this.commitTable(this.tables.bars1m, range, trades, txn, commitInfo, minuteBarColumns),
    ]);
    if (rejects.length > 0) await this.writeRejects(rejects);
    if (this.watermarkUs === undefined || range.to > this.watermarkUs) {
      this.watermarkUs = range.to;
      for (const listener of this.listeners) listener(range.to);
    }
  }

  /** Commits the rows of `range` that `table` does not hold yet, and remembers that it does. */
  private async commitTable(
    table: DeltaTable,
    range: { from: number; to: number },
    trades: readonly Trade[],
    txn: { appId: string; version: number },
    commitInfo: Record<string, unknown>,
    toColumns: (trades: readonly Trade[]) => ColumnBatch,
  ): Promise<void> {
    const holdsUpTo = this.tableWatermarks.get(table) ?? -Infinity;
    if (holdsUpTo >= range.to) return;
    const batch = toColumns(trades.filter((t) => t.ts >= holdsUpTo));
    if (batch.length > 0) {
      // `merge`: a bars table written before the notional column existed gains it.
      await table.append(batch, { txn, commitInfo, schemaMode: 'merge' });
      this.options.rowsWritten?.inc({ table: table.tablePath }, batch.length);
    }
    this.tableWatermarks.set(table, range.to);
  }

  private async writeRejects(rejects: readonly Reject[]): Promise<void> {
    await this.tables.rejects.append(rejects.map(rejectRow));
    this.options.rowsWritten?.inc({ table: this.tables.rejects.tablePath }, rejects.length);
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function earliestMinute(trades: readonly Trade[]): number | undefined {
  let earliest: number | undefined;
  for (const trade of trades)
    if (earliest === undefined || trade.ts < earliest) earliest = trade.ts;
  return earliest === undefined ? undefined : floorToMinute(earliest);
}

function lateReject(trade: Trade, now: number): Reject {
  return {
    source: 'lake-sink',
    kind: 'trade',
    reason: 'LATE_EVENT',
    payload: JSON.stringify(trade),
    receivedAt: now,
  };
}

/** Trades as columns: symbols and venues dictionary-encoded, numbers in typed arrays. */
export function tradeColumns(trades: readonly Trade[]): ColumnBatch {
  const n = trades.length;
  const symbols = new Dictionary();
  const exchanges = new Dictionary();
  const dates = new Dictionary();
  const columns = {
    symbol: { dictionary: symbols.values, codes: new Int32Array(n) },
    // Epoch µs: a Float64Array timestamp column is epoch µs to the lake (docs/lake.md).
    ts: new Float64Array(n),
    seq: new Float64Array(n),
    price: new Float64Array(n),
    size: new Float64Array(n),
    id: new Array<string>(n),
    exchange: { dictionary: exchanges.values, codes: new Int32Array(n) },
    date: { dictionary: dates.values, codes: new Int32Array(n) },
  };
  for (let i = 0; i < n; i++) {
    const trade = trades[i]!;
    columns.symbol.codes[i] = symbols.code(trade.symbol);
    columns.ts[i] = trade.ts;
    columns.seq[i] = trade.seq;
    columns.price[i] = trade.price;
    columns.size[i] = trade.size;
    columns.id[i] = trade.id;
    columns.exchange.codes[i] = exchanges.code(trade.exchange);
    columns.date.codes[i] = dates.code(utcDate(trade.ts));
  }
  return { length: n, columns };
}

/**
 * The 1-minute bars of a batch of trades as columns, with each bar's notional
 * (Σ price·size) summed in the same order as the bar builder sums it, so it is the very
 * number the bar's vwap was divided from.
 */
export function minuteBarColumns(trades: readonly Trade[]): ColumnBatch {
  const bars = aggregateBars(trades);
  const notional = new Map<string, number>();
  for (const trade of trades) {
    const key = `${trade.symbol}\u0000${floorToMinute(trade.ts)}`;
    notional.set(key, (notional.get(key) ?? 0) + trade.price * trade.size);
  }
  const batch = barColumns(bars);
  const values = new Float64Array(bars.length);
  bars.forEach((bar, i) => {
    values[i] = notional.get(`${bar.symbol}\u0000${bar.ts}`) as number;
  });
  return { length: batch.length, columns: { ...batch.columns, notional: values } };
}

export function barColumns(bars: readonly Bar[]): ColumnBatch {
  const n = bars.length;
  const symbols = new Dictionary();
  const dates = new Dictionary();
  const columns = {
    symbol: { dictionary: symbols.values, codes: new Int32Array(n) },
    ts: new Float64Array(n),
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n),
    volume: new Float64Array(n),
    vwap: new Float64Array(n),
    trade_count: new Float64Array(n),
    date: { dictionary: dates.values, codes: new Int32Array(n) },
  };
  for (let i = 0; i < n; i++) {
    const bar = bars[i]!;
    columns.symbol.codes[i] = symbols.code(bar.symbol);
    columns.ts[i] = bar.ts;
    columns.open[i] = bar.open;
    columns.high[i] = bar.high;
    columns.low[i] = bar.low;
    columns.close[i] = bar.close;
    columns.volume[i] = bar.volume;
    columns.vwap[i] = bar.vwap;
    columns.trade_count[i] = bar.tradeCount;
    columns.date.codes[i] = dates.code(utcDate(bar.ts));
  }
  return { length: n, columns };
}

/** Integer codes for repeated strings. */
class Dictionary {
  readonly values: string[] = [];
  private readonly codes = new Map<string, number>();
  code(value: string): number {
    let code = this.codes.get(value);
    if (code === undefined) {
      code = this.values.length;
      this.values.push(value);
      this.codes.set(value, code);
    }
    return code;
  }
}

function rejectRow(reject: Reject): Record<string, unknown> {
  return {
    received_at: reject.receivedAt,
    source: reject.source,
    kind: reject.kind,
    reason: reject.reason,
    payload: reject.payload,
    date: utcDate(reject.receivedAt),
  };
}
