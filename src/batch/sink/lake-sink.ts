import {
  AlphalakeError,
  BarBuilder,
  DEFAULT_CONDITION_RULES,
  floorToMinute,
  MINUTE_US,
  SECOND_US,
  updateRulesOf,
  utcDate,
  type Bar,
  type Clock,
  type ConditionRules,
  type Quote,
  type Trade,
  type VendorBar,
} from '../../domain/index.js';
import { payloadOf, type HistorySink, type Reject } from '../../ingest/index.js';
import type { ColumnBatch, DeltaTable, TxnMarker } from '../../lake/index.js';
import type { BusRecord, StartOffsets, StreamBus, Topic } from '../../stream/index.js';
import type { Medallion } from '../medallion.js';
import { Dictionary } from './dictionary.js';
import { jobTxns } from './job-checkpoint.js';
import { latestVendorBars, VENDOR_BAR_KEY, vendorBarColumns } from './vendor-bars-writer.js';
import { processLogger } from '../../logging/index.js';

/**
 * The Delta `txn` appId of the lake's event-time progress; its version is the watermark
 * in epoch minutes (the watermark, in µs, is always minute-aligned, so nothing is lost,
 * and tables written before the switch to µs keep their meaning). `silver.bars_1m` holds
 * the watermark readers use (the minimum of the partitions' sealed minutes, see
 * `sealedAppId`); `bronze.trades` holds the end of the history written by backfills.
 */
export const SINK_APP_ID = 'alphalake-lake-sink';

/**
 * The Delta `txn` appId of the sink's progress through one partition of one bus log
 * (`bus.logName(topic)`): its version is the next offset to read. See docs/sink.md.
 */
export function offsetAppId(log: string, partition: number): string {
  return `lake-sink:${log}:${partition}`;
}

/**
 * The Delta `txn` appId, in `silver.bars_1m`, of one trades partition's sealed minutes:
 * its version is the epoch minute below which the partition's bars are in silver (0: the
 * partition is known, nothing sealed yet). Key = symbol, so a symbol's bars depend on its
 * partition alone and each partition seals on its own, whichever sink owns it.
 */
export function sealedAppId(log: string, partition: number): string {
  return `lake-sink-sealed:${log}:${partition}`;
}

/**
 * The Delta `txn` appId, in `bronze.rejects`, of one trades partition's LATE_EVENT rows:
 * its version is the offset after the last late trade whose row is written, so a replay
 * does not write it again.
 */
export function lateAppId(log: string, partition: number): string {
  return `lake-sink-late:${log}:${partition}`;
}

/**
 * How long (wall time, µs) a partition with nothing ever in bronze may stay silent after
 * it is assigned before it stops holding the watermark back (a topic may have more
 * partitions than symbols: such a partition never delivers anything). Once one owner has
 * waited it out, the partition's sealed minute is past 0 and later owners follow at once.
 */
export const EMPTY_PARTITION_GRACE_US = 30 * SECOND_US;

/**
 * Consumed trades a member holds before it flushes without waiting for its timer: the
 * bus handler then waits for that flush, so the consumer stops fetching (bounded memory,
 * and commits of bounded size however large the backlog).
 */
export const PENDING_TRADES_LIMIT = 200_000;

/** How often a seal that lost a race for silver's txns is retried at once. */
const SEAL_ATTEMPTS = 4;

export interface LakeSinkOptions {
  /** How often consumed records move from the stream into the lake (wall time, ms: a timer). */
  readonly intervalMs: number;
  /** How long after a minute ends its last trades may still arrive, µs of event time. */
  readonly allowedLatenessUs: number;
  /** Counts rows committed, by table (a prom-client counter with a `table` label). */
  readonly rowsWritten?: RowCounter;
  /** Told the trades partitions of every assignment (an operator sees who owns what). */
  readonly onAssigned?: (partitions: readonly number[]) => void;
  /** What each trade's sale conditions let it set in silver bars. @default the fixture's rules */
  readonly conditionRules?: ConditionRules;
}

/** A file job's chunk whose records a flush commits (src/batch/sink/sink-checkpoint.ts). */
export interface SinkCheckpointMark {
  readonly job: string;
  readonly rowsEnd: number;
  readonly last: boolean;
}

/** The slice of a metrics counter the sink uses. */
export interface RowCounter {
  inc(labels: { table: string }, rows: number): void;
}

/** A consumed record and where it came from. */
interface Sourced<T> {
  readonly value: T;
  readonly partition: number;
  readonly offset: number;
}

/**
 * One bus topic on its way into one bronze table: the log it is read from, and the records
 * consumed and not yet in the table (committed by `commitLane`, each flush).
 */
interface Lane<T> {
  readonly table: DeltaTable;
  /** `bus.logName(topic)`, once subscribed. */
  log: string | undefined;
  pending: Sourced<T>[];
}

/** A trades partition this member reads. */
interface Assignment {
  /** Clock µs of the assignment. */
  readonly at: number;
  /** Nothing of it was ever in bronze when it was assigned. */
  readonly empty: boolean;
  /**
   * Bronze's next offset at assignment when silver's lay below it: until the replay has
   * delivered up to there, the partition's sealed minute and silver offset stand still.
   */
  replayUntil: number | undefined;
}

/**
 * The batch layer's writer, exactly once from the bus into the lake (docs/sink.md).
 *
 * - `bronze.trades` receives every consumed trade in micro-batches, each one Delta commit
 *   with a `txn` action per bus partition it covers (PROTOCOL.md "Transaction
 *   Identifiers"): appId `offsetAppId(log, partition)`, version = the next offset to read.
 *   The commit is atomic, so a batch's rows and its offsets become visible together.
 * - `silver.bars_1m` receives the bars of sealed minutes, per partition: a partition's
 *   minute is sealed once its own stream has moved `allowedLatenessUs` past its end. Each
 *   commit carries, per partition it moves, the sealed minute (`sealedAppId`) and the
 *   lowest offset whose trade is not sealed yet (`offsetAppId`), each checked against the
 *   version this member read (`expected`), and the watermark readers use (SINK_APP_ID):
 *   the minimum sealed minute over every partition of the topic.
 * - `bronze.quotes` receives every consumed quote the same way as bronze.trades (a `txn`
 *   per partition of the quotes log in the same commit as the rows): exactly once.
 * - `bronze.rejects` receives the rejects topic the same way as bronze.trades, and trades
 *   older than their partition's sealed minute when first flushed (LATE_EVENT: in bronze,
 *   not in any bar), with a `lateAppId` txn per partition so a replay writes none twice.
 *
 * On subscribe the bus asks where to start: the lowest of the tables' recorded offsets.
 * A replayed record below a table's offset is not written to that table again.
 */
export class LakeSink implements HistorySink {
  /** The lake's watermark (SINK_APP_ID in silver): epoch µs, minute-aligned. */
  private watermarkUs: number | undefined;
  /** Where history written by writeHistory ends, per table (µs). */
  private readonly historyMarks = new Map<DeltaTable, number | undefined>();
  /** Next offset each table holds, by appId (bronze.trades, bronze.rejects, silver.bars_1m). */
  private readonly recorded = new Map<DeltaTable, Map<string, number>>();
  /** The trades topic into bronze.trades (then silver, by `seal`). */
  private readonly tradeLane: Lane<Trade>;
  /** The rejects topic into bronze.rejects (with the late trades). */
  private readonly rejectLane: Lane<Reject>;
  /** The quotes topic into bronze.quotes. */
  private readonly quoteLane: Lane<Quote>;
  /** The bars topic into bronze.vendor_bars (upserted on the bar's key). */
  private readonly barLane: Lane<VendorBar>;
  /** Trades in bronze, not late, of minutes not sealed in silver yet. */
  private unsealed: Sourced<Trade>[] = [];
  /** The trades partitions of the latest assignment. */
  private assigned = new Map<number, Assignment>();
  /** Trades partitions that delivered a record since their assignment. */
  private readonly delivered = new Set<number>();
  /** Per trades partition, the minute (µs) below which silver holds its bars; 0: none yet. */
  private readonly sealedMarks = new Map<number, number>();
  /** The latest event time each partition has delivered (into `unsealed`). */
  private readonly latestEventTs = new Map<number, number>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<(watermark: number) => void>();

  private constructor(
    private readonly tables: Medallion,
    private readonly clock: Clock,
    private readonly options: LakeSinkOptions,
  ) {
    const lane = <T>(table: DeltaTable): Lane<T> => ({ table, log: undefined, pending: [] });
    this.tradeLane = lane(tables.trades);
    this.rejectLane = lane(tables.rejects);
    this.quoteLane = lane(tables.quotes);
    this.barLane = lane(tables.vendorBars);
  }

  private get tradeLog(): string | undefined {
    return this.tradeLane.log;
  }

  static async open(tables: Medallion, clock: Clock, options: LakeSinkOptions): Promise<LakeSink> {
    const sink = new LakeSink(tables, clock, options);
    for (const table of [
      tables.trades,
      tables.bars1m,
      tables.quotes,
      tables.rejects,
      tables.vendorBars,
    ])
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
    const tradeLog = (this.tradeLane.log = bus.logName('trades'));
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
    await this.appendAsItComes(bus, 'rejects', this.rejectLane, signal);
    await this.appendAsItComes(bus, 'quotes', this.quoteLane, signal);
    await this.appendAsItComes(bus, 'bars', this.barLane, signal);
    if (options.timer === false) return;
    const timer = setInterval(() => {
      this.flush().catch((error) =>
        processLogger().error({ err: error }, 'lake sink flush failed'),
      );
    }, this.options.intervalMs);
    signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  }

  /**
   * Subscribes to a topic whose records go to one bronze table as they come (rejects,
   * quotes, vendor bars: no sealing), keeping each record the table does not hold yet
   * (its offset at or past the table's recorded offset for its partition). The lane's log
   * is set before subscribing: an assignment during subscribe asks `startOffsets`.
   */
  private async appendAsItComes<T>(
    bus: StreamBus,
    topic: Topic,
    lane: Lane<T>,
    signal: AbortSignal,
  ): Promise<void> {
    const log = (lane.log = bus.logName(topic));
    const { table } = lane;
    await bus.subscribe<T>(
      topic,
      async (records: readonly BusRecord<T>[]) => {
        const holds = this.recorded.get(table)!;
        for (const record of records) {
          const offset = Number(record.offset);
          if (offset >= (holds.get(offsetAppId(log, record.partition)) ?? 0)) {
            lane.pending.push({ value: record.value, partition: record.partition, offset });
          }
        }
      },
      {
        group: 'lake-sink',
        fromBeginning: true,
        signal,
        startOffsets: (partitions) => this.startOffsets(log, partitions, [table]),
      },
    );
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
      const trades = log === this.tradeLog;
      for (const lane of this.lanes()) if (lane.log === log) lane.pending = kept(lane.pending);
      if (trades) {
        // Unsealed trades come again from silver's offsets, to this member or the partition's
        // new owner.
        this.unsealed = [];
        this.latestEventTs.clear();
        this.delivered.clear();
        this.sealedMarks.clear();
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
          if (table === this.tables.bars1m) {
            const sealed = snapshot.txnVersion(sealedAppId(log, partition));
            if (sealed !== undefined) this.sealedMarks.set(partition, sealed * MINUTE_US);
          }
        }
      }
      if (trades) {
        const rejects = await this.tables.rejects.snapshot();
        const late = this.recorded.get(this.tables.rejects)!;
        const bronze = this.recorded.get(this.tables.trades)!;
        const silver = this.recorded.get(this.tables.bars1m)!;
        const at = this.clock.now();
        this.assigned = new Map();
        for (const partition of partitions) {
          const version = rejects.txnVersion(lateAppId(log, partition));
          if (version === undefined) late.delete(lateAppId(log, partition));
          else late.set(lateAppId(log, partition), version);
          const appId = offsetAppId(log, partition);
          const inBronze = bronze.get(appId) ?? 0;
          this.assigned.set(partition, {
            at,
            empty: inBronze === 0,
            replayUntil: (silver.get(appId) ?? 0) < inBronze ? inBronze : undefined,
          });
        }
      }
      if (tables.includes(this.tables.bars1m)) await this.refreshWatermark();
      if (trades) this.options.onAssigned?.(partitions);
      return starts;
    });
  }

  /** Below this event time a trade of `partition` is late: its minute is sealed. */
  private floorOf(partition: number): number {
    return Math.max(this.sealedMarks.get(partition) ?? -Infinity, this.watermarkUs ?? -Infinity);
  }

  private async onTrades(log: string, records: readonly BusRecord<Trade>[]): Promise<void> {
    const bronze = this.recorded.get(this.tables.trades)!;
    const silver = this.recorded.get(this.tables.bars1m)!;
    for (const record of records) {
      const offset = Number(record.offset);
      const appId = offsetAppId(log, record.partition);
      const sourced = { value: record.value, partition: record.partition, offset };
      this.delivered.add(record.partition);
      const assignment = this.assigned.get(record.partition);
      if (assignment?.replayUntil !== undefined && offset + 1 >= assignment.replayUntil) {
        assignment.replayUntil = undefined;
      }
      if (offset >= (bronze.get(appId) ?? 0)) {
        this.tradeLane.pending.push(sourced);
      } else if (
        offset >= (silver.get(appId) ?? 0) &&
        record.value.ts >= this.floorOf(record.partition)
      ) {
        // Replayed: in bronze already, but its minute was not sealed in silver yet.
        this.unsealed.push(sourced);
        this.noteEventTime(sourced);
      }
    }
    if (this.tradeLane.pending.length >= PENDING_TRADES_LIMIT) {
      // Never rejected: a redelivered batch would be buffered twice. A failed flush keeps
      // its records for the next one (and the timer's flush reports the error).
      await this.flush().catch(() => undefined);
    }
  }

  /**
   * Commits the consumed trades to bronze, then the bars of every partition's sealed
   * minutes to silver, and moves the watermark. By default a partition's minutes are
   * sealed by event time, not the wall clock: a minute is complete once the partition's
   * stream has moved `allowedLatenessUs` past its end (bounded out-of-orderness), so a
   * partition that lags never has its minutes sealed before it delivered them. `cutoff`
   * seals every assigned partition up to it instead. Rejects are written whatever the
   * cutoff.
   */
  flush(cutoff?: number, checkpoint?: SinkCheckpointMark): Promise<void> {
    return this.serialized(async () => {
      await this.refreshWatermark();
      // A file job's chunk (SinkCheckpoint): each bronze commit of this flush also carries
      // the job's txn where the table holds fewer of its rows (src/batch/sink/job-checkpoint.ts).
      const jobTxnsOf = async (table: DeltaTable): Promise<TxnMarker[]> =>
        checkpoint === undefined
          ? []
          : (jobTxns(await table.snapshot(), checkpoint.job, checkpoint) ?? []);
      const rejectsJob = await jobTxnsOf(this.tables.rejects);
      // The rejects of a chunk the table already holds, late rows included, were written.
      const rejectsHoldChunk =
        checkpoint !== undefined && !rejectsJob.some((t) => t.appId === checkpoint.job);
      const trades = take(this.tradeLane);
      const lateHeld = this.recorded.get(this.tables.rejects)!;
      const tradeLog = this.tradeLog;
      // Partitions whose bronze offset moved under this member (it was reassigned): their
      // trades' commit will be refused, so none of them is rejected as late here.
      const moved = new Set<number>();
      if (tradeLog !== undefined && trades.length > 0) {
        const bronze = await this.tables.trades.snapshot();
        const holds = this.recorded.get(this.tables.trades)!;
        for (const partition of new Set(trades.map((t) => t.partition))) {
          const appId = offsetAppId(tradeLog, partition);
          if ((bronze.txnVersion(appId) ?? 0) !== (holds.get(appId) ?? 0)) moved.add(partition);
        }
      }
      // Late: older than its partition's sealed minute. A late trade whose row an earlier
      // (interrupted) flush wrote is below the partition's late txn, and not written again.
      const late = trades.filter(
        (trade) =>
          !rejectsHoldChunk &&
          trade.value.ts < this.floorOf(trade.partition) &&
          !moved.has(trade.partition) &&
          (tradeLog === undefined ||
            trade.offset >= (lateHeld.get(lateAppId(tradeLog, trade.partition)) ?? 0)),
      );
      const lateTxns = new Map<string, TxnMarker>();
      if (tradeLog !== undefined) {
        for (const trade of late) {
          const appId = lateAppId(tradeLog, trade.partition);
          const held = lateHeld.get(appId);
          const version = Math.max(lateTxns.get(appId)?.version ?? 0, trade.offset + 1);
          lateTxns.set(appId, {
            appId,
            version,
            ...(held !== undefined ? { expected: held } : {}),
          });
        }
      }
      const rejects = take(this.rejectLane);
      const now = this.clock.now();
      await this.commitLane(this.rejectLane, rejects, {
        rows: () =>
          [...rejects.map((r) => r.value), ...late.map((t) => lateReject(t.value, now))].map(
            rejectRow,
          ),
        txns: () => [...lateTxns.values(), ...rejectsJob],
        // Nothing was committed: the trades wait for the next flush with the rejects.
        onFailure: async () => {
          this.tradeLane.pending = [...trades, ...this.tradeLane.pending];
          await this.resyncLate();
        },
      });
      for (const { appId, version } of lateTxns.values()) lateHeld.set(appId, version);
      await this.commitLane(this.tradeLane, trades, {
        rows: () => tradeColumns(trades.map((t) => t.value)),
        txns: () => jobTxnsOf(this.tables.trades),
        // Another member committed these to bronze (it had the partition before this one):
        // they are this member's to seal.
        onFailure: (held) =>
          this.keepUnsealed(held.filter((trade) => this.assigned.has(trade.partition))),
      });
      this.keepUnsealed(trades);
      const quotes = take(this.quoteLane);
      await this.commitLane(this.quoteLane, quotes, {
        rows: () => quotes.map((q) => quoteRow(q.value)),
        txns: () => jobTxnsOf(this.tables.quotes),
      });
      const bars = take(this.barLane);
      await this.commitLane(this.barLane, bars, {
        // A bar delivered again replaces the one the table holds (vendor-bars-writer.ts).
        rows: () => vendorBarColumns(latestVendorBars(bars.map((b) => b.value))),
        txns: () => jobTxnsOf(this.tables.vendorBars),
        key: VENDOR_BAR_KEY,
      });
      await this.seal(cutoff);
    });
  }

  /**
   * Forgets every consumed record not committed yet (bronze's buffers; not silver's
   * unsealed trades, which bronze holds). For a checkpointed file run whose chunk failed to
   * commit: nothing of it may be committed later without its checkpoint (the final flush
   * on stop would), and the next run sends it again from the lake's checkpoint.
   */
  discardPending(): Promise<void> {
    return this.serialized(async () => {
      for (const lane of this.lanes()) lane.pending = [];
    });
  }

  private lanes(): Lane<unknown>[] {
    return [this.tradeLane, this.rejectLane, this.quoteLane, this.barLane] as Lane<unknown>[];
  }

  /**
   * Commits `taken` (records taken from the lane's buffer) to the lane's table with their
   * offsets' txns and `options.txns`. On failure nothing was committed: the records the
   * table does not hold yet go back to the buffer for the next flush (`resync`), those it
   * holds (another member committed them) go to `onFailure`, and the error is thrown.
   */
  private async commitLane<T>(
    lane: Lane<T>,
    taken: Sourced<T>[],
    options: {
      /** Built inside the commit's try: a record that cannot become a row fails the commit, not the flush's bookkeeping. */
      readonly rows: () => ColumnBatch | Record<string, unknown>[];
      readonly txns: () => readonly TxnMarker[] | Promise<readonly TxnMarker[]>;
      /** Upsert on this key instead of appending (DeltaTable.upsert). */
      readonly key?: readonly string[];
      readonly onFailure?: (held: Sourced<T>[]) => void | Promise<void>;
    },
  ): Promise<void> {
    try {
      await this.commitSourced(
        lane.table,
        lane.log,
        taken,
        options.rows(),
        await options.txns(),
        options.key,
      );
    } catch (error) {
      const { kept, held } = await this.resync(lane.table, lane.log, [...taken, ...lane.pending]);
      lane.pending = kept;
      await options.onFailure?.(held);
      throw error;
    }
  }

  /** Trades bronze holds, to seal into silver unless their minute is sealed already. */
  private keepUnsealed(trades: readonly Sourced<Trade>[]): void {
    const silver = this.recorded.get(this.tables.bars1m)!;
    for (const trade of trades) {
      const appId = offsetAppId(this.tradeLog ?? '', trade.partition);
      if (
        trade.value.ts >= this.floorOf(trade.partition) &&
        trade.offset >= (silver.get(appId) ?? 0)
      ) {
        this.unsealed.push(trade);
        this.noteEventTime(trade);
      }
    }
  }

  /**
   * Appends `rows` (or upserts them on `key`) with one txn per partition of `records`
   * (version = its last offset + 1, expected = its first), and any `extra` txns.
   */
  private async commitSourced<T>(
    table: DeltaTable,
    log: string | undefined,
    records: readonly Sourced<T>[],
    rows: ColumnBatch | Record<string, unknown>[],
    extra: readonly TxnMarker[] = [],
    key?: readonly string[],
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
    if (rows.length === 0 && next.size === 0 && extra.length === 0) return;
    // Each partition's batch must start where the table's version is: a partition that
    // another sink committed meanwhile (a rebalance moved it) makes this commit CONFLICT.
    const txns: TxnMarker[] = [...next].map(([appId, version]) => ({
      appId,
      version,
      expected: first.get(appId)!,
    }));
    const batch = await appendable(table, rows);
    const write = {
      txns: [...txns, ...extra],
      commitInfo: { alphalake: { sink: 'lake-sink', offsets: Object.fromEntries(next) } },
    };
    await (key ? table.upsert(batch, { ...write, key }) : table.append(batch, write));
    for (const [appId, version] of next) holds.set(appId, version);
    if (rows.length > 0) this.options.rowsWritten?.inc({ table: table.tablePath }, rows.length);
  }

  /**
   * After a failed commit: keeps the records the table does not hold yet. A partition
   * whose table version is past some of them had another writer (it was reassigned):
   * those are dropped (`held`). One whose version lies before them has a new owner
   * reading from there: all of its records are dropped (this member no longer reads it).
   */
  private async resync<T>(
    table: DeltaTable,
    log: string | undefined,
    records: Sourced<T>[],
  ): Promise<{ kept: Sourced<T>[]; held: Sourced<T>[] }> {
    if (log === undefined) return { kept: records, held: [] };
    const snapshot = await table.snapshot().catch(() => undefined);
    if (!snapshot) return { kept: records, held: [] };
    const holds = this.recorded.get(table)!;
    const kept = new Map<number, Sourced<T>[]>();
    const held: Sourced<T>[] = [];
    for (const record of records) {
      const version = snapshot.txnVersion(offsetAppId(log, record.partition));
      if (version !== undefined && record.offset < version) {
        held.push(record);
        continue;
      }
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
    return { kept: result, held };
  }

  /** After a failed rejects commit: the late txns as the table holds them. */
  private async resyncLate(): Promise<void> {
    const log = this.tradeLog;
    if (log === undefined) return;
    const snapshot = await this.tables.rejects.snapshot().catch(() => undefined);
    if (!snapshot) return;
    const late = this.recorded.get(this.tables.rejects)!;
    for (const partition of this.assigned.keys()) {
      const version = snapshot.txnVersion(lateAppId(log, partition));
      if (version !== undefined) late.set(lateAppId(log, partition), version);
    }
  }

  private noteEventTime(trade: Sourced<Trade>): void {
    const latest = this.latestEventTs.get(trade.partition) ?? -Infinity;
    if (trade.value.ts > latest) this.latestEventTs.set(trade.partition, trade.value.ts);
  }

  /**
   * Seals what it can; a race lost to another sink's commit on silver (CONFLICT) reads
   * the table again and retries.
   */
  private async seal(cutoff: number | undefined): Promise<void> {
    if (this.tradeLog === undefined) return;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.sealOnce(this.tradeLog, cutoff);
      } catch (error) {
        if (!(error instanceof AlphalakeError && error.code === 'CONFLICT')) throw error;
        await this.resyncSilver(this.tradeLog);
        if (attempt === SEAL_ATTEMPTS) throw error;
      }
    }
  }

  /**
   * One silver commit: per assigned partition, the bars of its trades below its new
   * sealed minute, the minute (`sealedAppId`) and the lowest offset not sealed yet
   * (`offsetAppId`), each `expected` where this member last saw it; and the lake's
   * watermark (SINK_APP_ID) when the minimum over every partition's sealed minute passed it.
   */
  private async sealOnce(log: string, cutoff: number | undefined): Promise<void> {
    const now = this.clock.now();
    const snapshot = await this.tables.bars1m.snapshot();
    const prefix = sealedAppId(log, 0).slice(0, -1);
    const tableMarks = new Map<number, number>();
    for (const [appId, version] of snapshot.txnVersions(prefix)) {
      tableMarks.set(Number(appId.slice(prefix.length)), version * MINUTE_US);
    }
    const targets = new Map<number, number>();
    for (const [partition, assignment] of this.assigned) {
      if (assignment.replayUntil !== undefined) continue; // its replay is not complete yet
      const latest = this.latestEventTs.get(partition);
      if (cutoff !== undefined) targets.set(partition, cutoff);
      else if (latest !== undefined) {
        const eventTime = Math.min(now, latest + 1);
        targets.set(partition, floorToMinute(eventTime - this.options.allowedLatenessUs));
      }
    }
    // A partition with nothing ever in bronze that stays silent follows the others: it
    // must not hold the watermark back forever (more partitions than symbols).
    const others = [
      ...targets.values(),
      ...[...tableMarks]
        .filter(([partition, mark]) => !this.assigned.has(partition) && mark > 0)
        .map(([, mark]) => mark),
    ];
    if (cutoff === undefined && others.length > 0) {
      const follow = Math.min(...others);
      for (const [partition, assignment] of this.assigned) {
        // A sealed minute with nothing in bronze: an earlier owner waited out the grace.
        const followed = (this.sealedMarks.get(partition) ?? 0) > 0;
        if (
          assignment.empty &&
          !this.delivered.has(partition) &&
          (followed || now - assignment.at >= EMPTY_PARTITION_GRACE_US)
        ) {
          targets.set(partition, follow);
        }
      }
    }

    const txns: TxnMarker[] = [];
    const marks = new Map<number, number>();
    for (const partition of this.assigned.keys()) {
      const mark = this.sealedMarks.get(partition);
      const target = targets.get(partition);
      // 0 registers the partition: the watermark waits for it from now on.
      const next = target !== undefined && target > (mark ?? 0) ? target : (mark ?? 0);
      if (next === mark) continue;
      marks.set(partition, next);
      txns.push({
        appId: sealedAppId(log, partition),
        version: next / MINUTE_US,
        ...(mark !== undefined ? { expected: mark / MINUTE_US } : {}),
      });
    }
    const taken = this.unsealed;
    const due: Trade[] = [];
    const later: Sourced<Trade>[] = [];
    for (const trade of taken) {
      if (!this.assigned.has(trade.partition)) continue; // another member's now
      const mark = marks.get(trade.partition) ?? this.sealedMarks.get(trade.partition) ?? 0;
      if (trade.value.ts < mark) due.push(trade.value);
      else later.push(trade);
    }
    // Per partition, the lowest offset still unsealed (or all of bronze's, when none is):
    // a restart replays silver from there.
    const silver = this.recorded.get(this.tables.bars1m)!;
    const bronze = this.recorded.get(this.tables.trades)!;
    const offsets = new Map<number, number>();
    for (const [partition, assignment] of this.assigned) {
      if (assignment.replayUntil !== undefined) continue;
      offsets.set(partition, bronze.get(offsetAppId(log, partition)) ?? 0);
    }
    for (const trade of later) {
      const offset = offsets.get(trade.partition);
      if (offset !== undefined) offsets.set(trade.partition, Math.min(offset, trade.offset));
    }
    const moved: TxnMarker[] = [];
    for (const [partition, offset] of offsets) {
      const appId = offsetAppId(log, partition);
      const held = silver.get(appId);
      if (offset > (held ?? -1)) {
        moved.push({ appId, version: offset, ...(held !== undefined ? { expected: held } : {}) });
      }
    }
    txns.push(...moved);
    // The watermark readers use: every partition of the topic known to silver has sealed it.
    const merged = new Map(tableMarks);
    for (const [partition, mark] of marks) merged.set(partition, mark);
    const tableWatermark = snapshot.txnVersion(SINK_APP_ID);
    const lowest = merged.size > 0 ? Math.min(...merged.values()) / MINUTE_US : 0;
    const watermark = lowest > 0 && lowest > (tableWatermark ?? -Infinity) ? lowest : undefined;
    if (watermark !== undefined) txns.push({ appId: SINK_APP_ID, version: watermark });
    if (txns.length === 0 && due.length === 0) return;

    this.unsealed = [];
    // With each minute's notional, as the backfill writes them (coarser bars sum it exactly).
    const bars = minuteBarColumns(due, this.options.conditionRules);
    try {
      // Committed even without bars: the marks, offsets and watermark move in the table.
      // `merge`: a bars table written before the notional column existed gains it.
      await this.tables.bars1m.append(bars, {
        schemaMode: 'merge',
        txns,
        commitInfo: {
          alphalake: {
            sink: SINK_APP_ID,
            sealed: Object.fromEntries([...marks].map(([p, mark]) => [p, mark])),
          },
        },
      });
    } catch (error) {
      this.unsealed = [...taken, ...this.unsealed];
      throw error;
    }
    this.options.rowsWritten?.inc({ table: this.tables.bars1m.tablePath }, bars.length);
    for (const [partition, mark] of marks) this.sealedMarks.set(partition, mark);
    for (const { appId, version } of moved) silver.set(appId, version);
    // Records replayed meanwhile (onTrades is not serialized) stay unsealed too.
    this.unsealed = [...later, ...this.unsealed];
    if (watermark !== undefined) this.advanceWatermark(watermark * MINUTE_US);
  }

  /**
   * After a lost race on silver: its marks and offsets as the table holds them, and only
   * the unsealed trades it does not hold yet.
   */
  private async resyncSilver(log: string): Promise<void> {
    const snapshot = await this.tables.bars1m.snapshot().catch(() => undefined);
    if (!snapshot) return;
    const silver = this.recorded.get(this.tables.bars1m)!;
    for (const partition of this.assigned.keys()) {
      const offset = snapshot.txnVersion(offsetAppId(log, partition));
      const mark = snapshot.txnVersion(sealedAppId(log, partition));
      if (offset !== undefined) silver.set(offsetAppId(log, partition), offset);
      if (mark !== undefined) this.sealedMarks.set(partition, mark * MINUTE_US);
    }
    this.unsealed = this.unsealed.filter(
      (trade) =>
        trade.offset >= (silver.get(offsetAppId(log, trade.partition)) ?? 0) &&
        trade.value.ts >= (this.sealedMarks.get(trade.partition) ?? -Infinity),
    );
    const version = snapshot.txnVersion(SINK_APP_ID);
    if (version !== undefined) this.advanceWatermark(version * MINUTE_US);
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
      this.commitHistory(this.tables.bars1m, range, trades, txn, commitInfo, (t) =>
        minuteBarColumns(t, this.options.conditionRules),
      ),
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

/** The records a lane holds, taken out of it. */
function take<T>(lane: Lane<T>): Sourced<T>[] {
  const taken = lane.pending;
  lane.pending = [];
  return taken;
}

function lateReject(trade: Trade, now: number): Reject {
  return {
    source: 'lake-sink',
    kind: 'trade',
    reason: 'LATE_EVENT',
    // payloadOf: a trade's nanoseconds are a bigint, which JSON.stringify refuses.
    payload: payloadOf(trade),
    receivedAt: now,
  };
}

/**
 * `batch`, or when it is an empty list of rows (a commit of txns alone) an empty batch of
 * the table's columns: an empty row list names no column, and the write would refuse it.
 */
export async function appendable(
  table: DeltaTable,
  batch: Parameters<DeltaTable['append']>[0],
): Promise<Parameters<DeltaTable['append']>[0]> {
  if (!Array.isArray(batch) || batch.length > 0) return batch;
  const { schema } = await table.snapshot();
  return { length: 0, columns: Object.fromEntries(schema.map((c) => [c.name, []])) };
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
  // Condition ids as int lists, NULL for none; left out when no trade has any (the
  // simulator's), as the column is nullable.
  const conditions = trades.some((t) => t.conditions !== undefined)
    ? trades.map((t) => (t.conditions === undefined ? null : [...t.conditions]))
    : undefined;
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
  return {
    length: n,
    columns: {
      ...columns,
      ...(nanos ? { ts_nanos: nanos } : {}),
      ...(conditions ? { conditions } : {}),
    },
  };
}

/**
 * The 1-minute bars of a batch of trades as columns, with each bar's notional
 * (Σ price·size) summed in the same order as the bar builder sums it, so it is the very
 * number the bar's vwap was divided from.
 */
export function minuteBarColumns(
  trades: readonly Trade[],
  rules: ConditionRules = DEFAULT_CONDITION_RULES,
): ColumnBatch {
  const builder = new BarBuilder('1m', rules);
  for (const trade of trades) builder.add(trade);
  const bars = builder.bars();
  const notional = new Map<string, number>();
  for (const trade of trades) {
    // As BarBuilder: a trade whose conditions keep it out of volume is out of the notional.
    if (!updateRulesOf(trade.conditions, rules).updatesVolume) continue;
    const key = `${trade.symbol}\u0000${floorToMinute(trade.ts)}`;
    notional.set(key, (notional.get(key) ?? 0) + trade.price * trade.size);
  }
  const batch = barColumns(bars);
  const values = new Float64Array(bars.length);
  bars.forEach((bar, i) => {
    values[i] = notional.get(`${bar.symbol}\u0000${bar.ts}`) ?? 0;
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
