import { setTimeout as sleep } from 'node:timers/promises';
import { utcDate, type Trade } from '../../domain/index.js';
import type { CommittedLedger } from '../../ingest/index.js';
import type { DeltaTable } from '../../lake/index.js';
import { processLogger } from '../../logging/index.js';
import type { StreamBus, Topic } from '../../stream/index.js';
import type { Medallion } from '../medallion.js';
import { offsetAppId } from './lake-sink.js';

/** How often the lake is asked whether the sink caught up. */
const POLL_MS = 500;
/** How often a producer waiting for the sink says so. */
const REPORT_MS = 10_000;

/**
 * The lake's answer to a Kafka-mode file replay that resumes after a kill
 * (src/ingest/files/producer-checkpoint.ts): whether the sink has committed what the bus
 * holds — the lake sink's per-partition offsets (`offsetAppId`, docs/sink.md) at or past
 * the bus's end offsets — and which of a chunk's trades and rejects the tables hold.
 */
export class LakeLedger implements CommittedLedger {
  constructor(
    private readonly tables: Medallion,
    private readonly bus: StreamBus,
  ) {}

  async caughtUp(signal: AbortSignal): Promise<void> {
    const lanes: [Topic, DeltaTable][] = [
      ['trades', this.tables.trades],
      ['rejects', this.tables.rejects],
    ];
    for (const [topic, table] of lanes) {
      const ends = await this.bus.endOffsets(topic, signal);
      const log = this.bus.logName(topic);
      const started = Date.now();
      let reported = started;
      for (;;) {
        const snapshot = await table.snapshot(undefined, signal);
        const behind = [...ends].filter(
          ([partition, end]) =>
            (snapshot.txnVersion(offsetAppId(log, partition)) ?? 0) < Number(end),
        );
        if (behind.length === 0) break;
        if (Date.now() - reported >= REPORT_MS) {
          reported = Date.now();
          processLogger().info(
            { topic, table: table.tablePath, partitionsBehind: behind.map(([p]) => p) },
            'waiting for the lake sink to commit what the interrupted run published',
          );
        }
        await sleep(POLL_MS, undefined, { signal });
      }
    }
  }

  async heldTrades(trades: readonly Trade[], signal: AbortSignal): Promise<ReadonlySet<string>> {
    if (trades.length === 0) return new Set();
    let from = Infinity;
    let to = -Infinity;
    for (const trade of trades) {
      from = Math.min(from, trade.ts);
      to = Math.max(to, trade.ts);
    }
    const { rows } = await this.tables.trades.query({
      columns: ['symbol', 'id'],
      filters: [
        { column: 'date', op: '>=', value: utcDate(from) },
        { column: 'date', op: '<=', value: utcDate(to) },
        { column: 'symbol', op: 'in', value: [...new Set(trades.map((t) => t.symbol))] },
        { column: 'ts', op: '>=', value: from },
        { column: 'ts', op: '<=', value: to },
      ],
      signal,
    });
    return new Set(rows.map((row) => `${String(row.symbol)}\u0000${String(row.id)}`));
  }

  async heldRejects(
    source: string,
    since: number,
    signal: AbortSignal,
  ): Promise<ReadonlyMap<string, number>> {
    const { rows } = await this.tables.rejects.query({
      columns: ['reason', 'payload'],
      filters: [
        { column: 'date', op: '>=', value: utcDate(since) },
        { column: 'received_at', op: '>=', value: since },
        { column: 'source', op: '=', value: source },
      ],
      signal,
    });
    const held = new Map<string, number>();
    for (const row of rows) {
      const key = `${String(row.reason)}\u0000${String(row.payload)}`;
      held.set(key, (held.get(key) ?? 0) + 1);
    }
    return held;
  }
}
