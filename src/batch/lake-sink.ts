import {
  aggregateBars,
  floorToMinute,
  MINUTE_US,
  utcDate,
  type Bar,
  type Clock,
  type Quote,
  type Trade,
} from '../domain/index.js';
import type { HistorySink, Reject } from '../ingest/index.js';
import type { ColumnBatch, DeltaTable, TxnMarker } from '../lake/index.js';
import type { Counter } from '../metrics/index.js';
import type { BusRecord, StartOffsets, StreamBus } from '../stream/index.js';
import type { Medallion } from './medallion.js';
import { processLogger } from '../logging/index.js';

/**
 * The Delta `txn` appId of the sink's event-time progress; its version is the watermark
 * in epoch minutes (the watermark, in µs, is always minute-aligned, so nothing is lost,
 * and tables written before the switch to µs keep their meaning). `silver.bars_1m` holds
 * the watermark; `bronze.trades` holds the end of the history written by backfills.
 */
export const SINK_APP_ID = 'alphalake-lake-sink';

/**
 * The Delta `txn` appId of the sink's progress through one partition of one bus log
 * (`bus.logName(topic)`): its version is the next offset to read. See docs/sink.md.
 */
export function offsetAppId(log: string, partition: number): string {
  return `lake-sink:${log}:${partition}`;
}

export interface LakeSinkOptions {
  /** How often consumed records move from the stream into the lake (wall time, ms: a timer). */
  readonly intervalMs: number;
  /** How long after a minute ends its last trades may still arrive, µs of event time. */
  readonly allowedLatenessUs: number;
  /** Counts rows committed, by table. */
  readonly rowsWritten?: Counter;
}

/** A consumed record and where it came from. */
interface Sourced<T> {
  readonly value: T;
  readonly partition: number;
  readonly offset: number;
}

/**
 * The batch layer's writer, exactly once from the bus into the lake (docs/sink.md).
 *
 * - `bronze.trades` receives every consumed trade in micro-batches, each one Delta commit
 *   with a `txn` action per bus partition it covers (PROTOCOL.md "Transaction
 *   Identifiers"): appId `offsetAppId(log, partition)`, version = the next offset to read.
 *   The commit is atomic, so a batch's rows and its offsets become visible together.
 * - `silver.bars_1m` receives the bars of sealed minutes (minutes the stream of every
 *   partition has moved `allowedLatenessUs` past), with a `txn` for the watermark
 *   (SINK_APP_ID, epoch minutes) and per partition the lowest offset whose trade is not
 *   in a sealed minute yet.
 * - `bronze.quotes` receives every consumed quote the same way as bronze.trades (a `txn`
 *   per partition of the quotes log in the same commit as the rows): exactly once.
 * - `bronze.rejects` receives the rejects topic the same way as bronze.trades, and trades
 *   older than the watermark when first flushed (LATE_EVENT: in bronze, not in any bar).
 *
 * On subscribe the bus asks where to start: the lowest of the tables' recorded offsets.
 * A replayed record below a table's offset is not written to that table again.
 */
export class LakeSink implements HistorySink {
  /** Epoch µs, minute-aligned. */
  private watermarkUs: number | undefined;
  /** Where history written by writeHistory ends, per table (µs). */
  private readonly historyMarks = new Map<DeltaTable, number | undefined>();
  /** Next offset each table holds, by appId (bronze.trades, bronze.rejects, silver.bars_1m). */
  private readonly recorded = new Map<DeltaTable, Map<string, number>>();
  private tradeLog: string | undefined;
  private rejectLog: string | undefined;
  private quoteLog: string | undefined;
  /** Quotes consumed and not yet in bronze.quotes. */
  private pendingQuotes: Sourced<Quote>[] = [];
  /** Trades consumed and not yet in bronze.trades. */
  private pendingTrades: Sourced<Trade>[] = [];
  /** Trades in bronze, not late, of minutes not sealed in silver yet. */
  private unsealed: Sourced<Trade>[] = [];
  private pendingRejects: Sourced<Reject>[] = [];
  /** The latest event time each partition has delivered (into `unsealed`). */
  private readonly latestEventTs = new Map<number, number>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<(watermark: number) => void>();

  private constructor(
    private readonly tables: Medallion,
    private readonly clock: Clock,
    private readonly options: LakeSinkOptions,
  ) {}

  static async open(tables: Medallion, clock: Clock, options: LakeSinkOptions): Promise<LakeSink> {
    const sink = new LakeSink(tables, clock, options);
    for (const table of [tables.trades, tables.bars1m, tables.quotes, tables.rejects])
      sink.recorded.set(table, new Map());
    for (const table of [tables.trades, tables.bars1m]) {
      const version = (await table.snapshot()).txnVersion(SINK_APP_ID);
      sink.historyMarks.set(table, version === undefined ? undefined : version * MINUTE_US);
    }
    sink.watermarkUs = sink.historyMarks.get(tables.bars1m);
    return sink;
  }

  watermark(): number | undefined {
    return this.watermarkUs;
  }

  onWatermark(listener: (watermark: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reads the watermark the table holds (a sink in another process may have moved it). */
  async refreshWatermark(signal?: AbortSignal): Promise<number | undefined> {
    const version = (await this.tables.bars1m.snapshot(undefined, signal)).txnVersion(SINK_APP_ID);
    if (version !== undefined) this.advanceWatermark(version * MINUTE_US);
    return this.watermarkUs;
  }

  /**
   * Consumes trades and rejects from the bus, starting each partition where the tables
   * say, and flushes on a timer until the signal aborts.
   */
  async start(
    bus: StreamBus,
    signal: AbortSignal,
    options: { timer?: boolean } = {},
  ): Promise<void> {
    const tradeLog = (this.tradeLog = bus.logName('trades'));
    const rejectLog = (this.rejectLog = bus.logName('rejects'));
    await bus.subscribe<Trade>(
      'trades',
      async (records: readonly BusRecord<Trade>[]) => this.onTrades(tradeLog, records),
      {
        group: 'lake-sink',
        fromBeginning: true,
        signal,
        startOffsets: (partitions) =>
          this.startOffsets(tradeLog, partitions, [this.tables.trades, this.tables.bars1m]),
      },
    );
    await bus.subscribe<Reject>(
      'rejects',
      async (records: readonly BusRecord<Reject>[]) => {
        const holds = this.recorded.get(this.tables.rejects)!;
        for (const record of records) {
          const offset = Number(record.offset);
          if (offset >= (holds.get(offsetAppId(rejectLog, record.partition)) ?? 0)) {
            this.pendingRejects.push({ value: record.value, partition: record.partition, offset });
          }
        }
      },
      {
        group: 'lake-sink',
        fromBeginning: true,
        signal,
        startOffsets: (partitions) =>
          this.startOffsets(rejectLog, partitions, [this.tables.rejects]),
      },
    );
    const quoteLog = (this.quoteLog = bus.logName('quotes'));
    await bus.subscribe<Quote>(
      'quotes',
      async (records: readonly BusRecord<Quote>[]) => {
        const holds = this.recorded.get(this.tables.quotes)!;
        for (const record of records) {
          const offset = Number(record.offset);
          if (offset >= (holds.get(offsetAppId(quoteLog, record.partition)) ?? 0)) {
            this.pendingQuotes.push({ value: record.value, partition: record.partition, offset });
          }
        }
      },
      {
        group: 'lake-sink',
        fromBeginning: true,
        signal,
        startOffsets: (partitions) => this.startOffsets(quoteLog, partitions, [this.tables.quotes]),
      },
    );
    if (options.timer === false) return;
    const timer = setInterval(() => {
      this.flush().catch((error) =>
        processLogger().error({ err: error }, 'lake sink flush failed'),
      );
    }, this.options.intervalMs);
    signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  }

  /**
   * The table is the truth: each partition starts at the lowest next offset the given
   * tables recorded for it (Kafka's committed offsets are only a hint). Called on every
   * assignment, so the recorded offsets are read again from the tables' latest versions.
   */
  private startOffsets(
    log: string,
    partitions: readonly number[],
    tables: readonly DeltaTable[],
  ): Promise<StartOffsets> {
    return this.serialized(async () => {
      // Whatever this member buffered of these partitions is delivered again from the
      // tables' offsets (an assignment after a rebalance may repeat one it had).
      const assigned = new Set(partitions);
      const kept = <T>(records: Sourced<T>[]) => records.filter((r) => !assigned.has(r.partition));
      if (log === this.rejectLog) this.pendingRejects = kept(this.pendingRejects);
      else if (log === this.quoteLog) this.pendingQuotes = kept(this.pendingQuotes);
      else {
        this.pendingTrades = kept(this.pendingTrades);
        this.unsealed = kept(this.unsealed);
        for (const partition of partitions) this.latestEventTs.delete(partition);
      }
      const starts = new Map<number, string>();
      for (const table of tables) {
        const snapshot = await table.snapshot();
        const holds = this.recorded.get(table)!;
        for (const partition of partitions) {
          const appId = offsetAppId(log, partition);
          // No txn: nothing of this partition is in the table yet, so from its beginning.
          const version = snapshot.txnVersion(appId) ?? 0;
          holds.set(appId, version);
          const start = starts.get(partition);
          if (start === undefined || version < Number(start))
            starts.set(partition, String(version));
        }
      }
      if (tables.includes(this.tables.bars1m)) await this.refreshWatermark();
      return starts;
    });
  }

  private async onTrades(log: string, records: readonly BusRecord<Trade>[]): Promise<void> {
    const bronze = this.recorded.get(this.tables.trades)!;
    const silver = this.recorded.get(this.tables.bars1m)!;
    for (const record of records) {
      const offset = Number(record.offset);
      const appId = offsetAppId(log, record.partition);
      const sourced = { value: record.value, partition: record.partition, offset };
      if (offset >= (bronze.get(appId) ?? 0)) {
        this.pendingTrades.push(sourced);
      } else if (
        offset >= (silver.get(appId) ?? 0) &&
        record.value.ts >= (this.watermarkUs ?? -Infinity)
      ) {
        // Replayed: in bronze already, but its minute was not sealed in silver yet.
        this.unsealed.push(sourced);
        this.noteEventTime(sourced);
      }
    }
  }

  /**
   * Commits the consumed trades to bronze, then the bars of every minute that ended
   * before `cutoff` to silver, and moves the watermark there. By default the cutoff
   * follows event time, not the wall clock: a minute is complete once the stream of
   * every partition has moved `allowedLatenessUs` past its end (bounded
   * out-of-orderness), so a source that lags never has its minutes sealed before it
   * delivered them. Rejects are written whatever the cutoff.
   */
  flush(cutoff?: number): Promise<void> {
    return this.serialized(async () => {
      await this.refreshWatermark();
      const watermark = this.watermarkUs ?? -Infinity;
      const trades = this.pendingTrades;
      this.pendingTrades = [];
      const late = trades.filter((trade) => trade.value.ts < watermark);
      // Rejects first: a crash before the trades' commit replays the late trades, whose
      // LATE_EVENT rows may then be written twice (rejects are at least once; trades exactly once).
      const rejects = this.pendingRejects;
      this.pendingRejects = [];
      const now = this.clock.now();
      try {
        await this.commitSourced(
          this.tables.rejects,
          this.rejectLog,
          rejects,
          [...rejects.map((r) => r.value), ...late.map((t) => lateReject(t.value, now))],
          (rows) => rows.map(rejectRow),
        );
      } catch (error) {
        // Nothing was committed: the next flush tries these again.
        this.pendingRejects = await this.resync(this.tables.rejects, this.rejectLog, [
          ...rejects,
          ...this.pendingRejects,
        ]);
        this.pendingTrades = [...trades, ...this.pendingTrades];
        throw error;
      }
      try {
        await this.commitSourced(
          this.tables.trades,
          this.tradeLog,
          trades,
          trades.map((t) => t.value),
          tradeColumns,
        );
      } catch (error) {
        this.pendingTrades = await this.resync(this.tables.trades, this.tradeLog, [
          ...trades,
          ...this.pendingTrades,
        ]);
        throw error;
      }
      const quotes = this.pendingQuotes;
      this.pendingQuotes = [];
      try {
        await this.commitSourced(
          this.tables.quotes,
          this.quoteLog,
          quotes,
          quotes.map((q) => q.value),
          (rows) => rows.map(quoteRow),
        );
      } catch (error) {
        this.pendingQuotes = await this.resync(this.tables.quotes, this.quoteLog, [
          ...quotes,
          ...this.pendingQuotes,
        ]);
        throw error;
      }
      // Only trades bronze holds may be sealed into silver.
      for (const trade of trades) {
        if (trade.value.ts >= watermark) {
          this.unsealed.push(trade);
          this.noteEventTime(trade);
        }
      }
      await this.seal(cutoff ?? this.eventTimeCutoff());
    });
  }

  /** Appends `rows` with one txn per partition of `records`: version = its last offset + 1. */
  private async commitSourced<T, R>(
    table: DeltaTable,
    log: string | undefined,
    records: readonly Sourced<T>[],
    rows: readonly R[],
    toBatch: (rows: readonly R[]) => ColumnBatch | Record<string, unknown>[],
  ): Promise<void> {
    const holds = this.recorded.get(table)!;
    const next = new Map<string, number>();
    const first = new Map<string, number>();
    if (log !== undefined) {
      for (const record of records) {
        const appId = offsetAppId(log, record.partition);
        next.set(appId, Math.max(next.get(appId) ?? 0, record.offset + 1));
        first.set(appId, Math.min(first.get(appId) ?? Infinity, record.offset));
      }
    }
    if (rows.length === 0 && next.size === 0) return;
    // Each partition's batch must start where the table's version is: a partition that
    // another sink committed meanwhile (a rebalance moved it) makes this commit CONFLICT.
    const txns: TxnMarker[] = [...next].map(([appId, version]) => ({
      appId,
      version,
      expected: first.get(appId)!,
    }));
    const batch = toBatch(rows);
    await table.append(batch, {
      txns,
      commitInfo: { alphalake: { sink: 'lake-sink', offsets: Object.fromEntries(next) } },
    });
    for (const [appId, version] of next) holds.set(appId, version);
    if (rows.length > 0) this.options.rowsWritten?.inc({ table: table.tablePath }, rows.length);
  }

  /**
   * After a failed commit: keeps the records the table does not hold yet. A partition
   * whose table version is past some of them had another writer (it was reassigned):
   * those are dropped. One whose version lies before them has a new owner reading from
   * there: all of its records are dropped (this member no longer reads it).
   */
  private async resync<T>(
    table: DeltaTable,
    log: string | undefined,
    records: Sourced<T>[],
  ): Promise<Sourced<T>[]> {
    if (log === undefined) return records;
    const snapshot = await table.snapshot().catch(() => undefined);
    if (!snapshot) return records;
    const holds = this.recorded.get(table)!;
    const kept = new Map<number, Sourced<T>[]>();
    for (const record of records) {
      const version = snapshot.txnVersion(offsetAppId(log, record.partition));
      if (version !== undefined && record.offset < version) continue;
      kept.set(record.partition, [...(kept.get(record.partition) ?? []), record]);
    }
    const result: Sourced<T>[] = [];
    for (const [partition, list] of kept) {
      const appId = offsetAppId(log, partition);
      const version = snapshot.txnVersion(appId);
      if (version !== undefined) holds.set(appId, version);
      if (version !== undefined && list[0]!.offset > version) continue;
      result.push(...list);
    }
    return result;
  }

  private noteEventTime(trade: Sourced<Trade>): void {
    const latest = this.latestEventTs.get(trade.partition) ?? -Infinity;
    if (trade.value.ts > latest) this.latestEventTs.set(trade.partition, trade.value.ts);
  }

  private eventTimeCutoff(): number {
    if (this.latestEventTs.size === 0) return -Infinity;
    const eventTime = Math.min(this.clock.now(), Math.min(...this.latestEventTs.values()) + 1);
    return floorToMinute(eventTime - this.options.allowedLatenessUs);
  }

  /** Writes the bars of the unsealed minutes before `cutoff` to silver and moves the watermark. */
  private async seal(cutoff: number): Promise<void> {
    const from = this.watermarkUs ?? earliestMinute(this.unsealed.map((t) => t.value));
    if (from === undefined || !(cutoff > from)) return;
    const due: Trade[] = [];
    const later: Sourced<Trade>[] = [];
    for (const trade of this.unsealed) {
      // Below the watermark another writer (a backfill) sealed the minute already.
      if (trade.value.ts < from) continue;
      if (trade.value.ts < cutoff) due.push(trade.value);
      else later.push(trade);
    }
    // Per partition, the lowest offset still unsealed (or all of bronze's, when none is):
    // a restart replays silver from there.
    const silver = this.recorded.get(this.tables.bars1m)!;
    const bronze = this.recorded.get(this.tables.trades)!;
    const marks = new Map<string, number>();
    if (this.tradeLog !== undefined) {
      for (const [appId, offset] of bronze) {
        if (appId.startsWith(`lake-sink:${this.tradeLog}:`)) marks.set(appId, offset);
      }
      for (const trade of later) {
        const appId = offsetAppId(this.tradeLog, trade.partition);
        marks.set(appId, Math.min(marks.get(appId) ?? Infinity, trade.offset));
      }
    }
    const txns: TxnMarker[] = [{ appId: SINK_APP_ID, version: cutoff / MINUTE_US }];
    for (const [appId, offset] of marks) {
      if (offset > (silver.get(appId) ?? -1)) txns.push({ appId, version: offset });
    }
    const bars = barColumns(aggregateBars(due));
    // Committed even without bars: the watermark and the offsets move in the table.
    await this.tables.bars1m.append(bars, {
      txns,
      commitInfo: { alphalake: { sink: SINK_APP_ID, from, to: cutoff } },
    });
    this.options.rowsWritten?.inc({ table: this.tables.bars1m.tablePath }, bars.length);
    for (const { appId, version } of txns.slice(1)) silver.set(appId, version);
    this.unsealed = later;
    this.historyMarks.set(this.tables.bars1m, cutoff);
    this.advanceWatermark(cutoff);
  }

  writeHistory(
    range: { from: number; to: number },
    trades: readonly Trade[],
    rejects: readonly Reject[],
  ): Promise<void> {
    return this.serialized(() => this.commitRange(range, trades, rejects));
  }

  /** A backfill's range: bronze and silver each in one commit with the watermark's txn. */
  private async commitRange(
    range: { from: number; to: number },
    trades: readonly Trade[],
    rejects: readonly Reject[],
  ): Promise<void> {
    if (range.to % MINUTE_US !== 0) {
      // The txn version is the watermark in whole minutes: a ragged end could not be resumed.
      throw new Error(`lake sink: range end ${range.to} µs is not minute-aligned`);
    }
    await this.refreshWatermark();
    const txn = { appId: SINK_APP_ID, version: range.to / MINUTE_US };
    const commitInfo = { alphalake: { sink: SINK_APP_ID, from: range.from, to: range.to } };
    // The two tables are independent commits: write them side by side.
    await Promise.all([
      this.commitHistory(this.tables.trades, range, trades, txn, commitInfo, tradeColumns),
      this.commitHistory(this.tables.bars1m, range, trades, txn, commitInfo, minuteBarColumns),
    ]);
    if (rejects.length > 0) {
      await this.tables.rejects.append(rejects.map(rejectRow));
      this.options.rowsWritten?.inc({ table: this.tables.rejects.tablePath }, rejects.length);
    }
    this.advanceWatermark(range.to);
  }

  /** Commits the history of `range` that `table` does not hold yet, and remembers that it does. */
  private async commitHistory(
    table: DeltaTable,
    range: { from: number; to: number },
    trades: readonly Trade[],
    txn: TxnMarker,
    commitInfo: Record<string, unknown>,
    toColumns: (trades: readonly Trade[]) => ColumnBatch,
  ): Promise<void> {
    // Bronze holds every trade below the watermark too: silver seals only what bronze has.
    const holdsUpTo = Math.max(
      this.historyMarks.get(table) ?? -Infinity,
      this.watermarkUs ?? -Infinity,
    );
    if (holdsUpTo >= range.to) return;
    const batch = toColumns(trades.filter((t) => t.ts >= holdsUpTo));
    if (batch.length > 0) {
      // `merge`: a bars table written before the notional column existed gains it.
      await table.append(batch, { txn, commitInfo, schemaMode: 'merge' });
      this.options.rowsWritten?.inc({ table: table.tablePath }, batch.length);
    }
    this.historyMarks.set(table, range.to);
  }

  private advanceWatermark(to: number): void {
    if (this.watermarkUs === undefined || to > this.watermarkUs) {
      this.watermarkUs = to;
      for (const listener of this.listeners) listener(to);
    }
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
  // Epoch ns as int64, whole: a BigInt64Array when every trade has them, else bigint|null.
  const nanos = trades.every((t) => t.tsNanos !== undefined)
    ? new BigInt64Array(n)
    : trades.some((t) => t.tsNanos !== undefined)
      ? new Array<bigint | null>(n).fill(null)
      : undefined;
  if (nanos) for (let i = 0; i < n; i++) nanos[i] = trades[i]!.tsNanos ?? null!;
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
  return { length: n, columns: nanos ? { ...columns, ts_nanos: nanos } : columns };
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

export function rejectRow(reject: Reject): Record<string, unknown> {
  return {
    received_at: reject.receivedAt,
    source: reject.source,
    kind: reject.kind,
    reason: reject.reason,
    payload: reject.payload,
    date: utcDate(reject.receivedAt),
    detail: reject.detail ?? null,
  };
}

/** A quote as a `bronze.quotes` row (sizes are whole shares: long). */
export function quoteRow(quote: Quote): Record<string, unknown> {
  return {
    symbol: quote.symbol,
    ts: quote.ts,
    bid_price: quote.bidPrice,
    bid_size: BigInt(quote.bidSize),
    ask_price: quote.askPrice,
    ask_size: BigInt(quote.askSize),
    date: utcDate(quote.ts),
  };
}
