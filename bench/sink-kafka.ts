import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { LakeSink, openMedallion, tradeColumns, type RowCounter } from '../src/batch/index.js';
import {
  floorToMinute,
  MINUTE_US,
  SECOND_US,
  systemClock,
  type Trade,
} from '../src/domain/index.js';
import { localObjectStore } from '../src/lake/index.js';
import { KafkaBus, TOPICS, type Topic } from '../src/stream/index.js';
import { envNumber } from './lake-data.js';

/**
 * The exactly-once sink's throughput, Kafka → Delta (issue 9), beside the lake's own append
 * ceiling, measured in the same run:
 *
 * 1. SINK_BENCH_TRADES trades (default 1M, SINK_BENCH_SYMBOLS symbols, default 100) are
 *    published to fresh topics (SINK_BENCH_PARTITIONS partitions, default 6; the bus's
 *    default encoding) before the sink starts, so the sink reads a backlog.
 * 2. A LakeSink (the code `alphalake sink` runs) on a fresh local-folder lake consumes it,
 *    flushing every SINK_BENCH_INTERVAL_MS (default 1000; BATCH_INTERVAL_SECONDS in
 *    production): rows/s = trades / time from when the sink holds its partitions (after
 *    the group join, printed apart) to the bronze commit that holds the last of them (txn
 *    per partition; silver is sealed per partition after each).
 * 3. The ceiling: DeltaTable.append of the same trades as columns to a fresh bronze.trades,
 *    in one commit, and in as many commits as the sink made (its average batch size).
 *
 * Brokers: KAFKA_BENCH_BROKERS (default 127.0.0.1:$ALPHALAKE_KAFKA_PORT or 19092); the topics
 * are deleted after. The 1-minute load average is printed: the machine is shared.
 */
export async function run(): Promise<void> {
  const brokers = (
    process.env.KAFKA_BENCH_BROKERS ?? `127.0.0.1:${process.env.ALPHALAKE_KAFKA_PORT ?? '19092'}`
  ).split(',');
  const total = envNumber('SINK_BENCH_TRADES', 1_000_000);
  const symbols = envNumber('SINK_BENCH_SYMBOLS', 100);
  const partitions = envNumber('SINK_BENCH_PARTITIONS', 6);
  const intervalMs = envNumber('SINK_BENCH_INTERVAL_MS', 1_000);
  console.log(`machine: ${cpus().length} cores; load (1-min) at start ${load()}`);

  // One trade every 1 ms per tape, ending ten minutes before now (the sink seals it all).
  const base = floorToMinute(Date.now() * 1_000 - total * 1_000) - 10 * MINUTE_US;
  const tape: Trade[] = Array.from({ length: total }, (_, i) => ({
    symbol: `S${String(i % symbols).padStart(4, '0')}`,
    ts: base + i * 1_000,
    seq: i,
    price: 100 + ((i * 7919) % 65_536) / 128,
    size: 1 + (i % 100),
    id: `bench-${i}`,
    exchange: 'XNAS',
  }));

  const prefix = `alphalake-bench-sink-${randomUUID()}.`;
  const topicNames = Object.fromEntries(TOPICS.map((t) => [t, `${prefix}${t}`])) as Record<
    Topic,
    string
  >;
  const dirs: string[] = [];
  const bus = await KafkaBus.connect({
    brokers,
    clientId: 'alphalake-bench-sink',
    topicNames,
    partitions,
  });
  const controller = new AbortController();
  try {
    const chunk = 20_000;
    let start = performance.now();
    for (let from = 0; from < total; from += chunk) {
      await bus.publish(
        'trades',
        tape.slice(from, from + chunk).map((t) => ({ key: t.symbol, value: t })),
      );
    }
    const publishSeconds = (performance.now() - start) / 1000;
    console.log(
      `published ${fmt(total)} trades (${symbols} symbols, ${partitions} partitions) in ${publishSeconds.toFixed(1)} s; load ${load()}`,
    );

    // The sink on a fresh lake, timed until bronze.trades holds every trade.
    const sinkDir = await mkdtemp(path.join(tmpdir(), 'alphalake-bench-sink-'));
    dirs.push(sinkDir);
    const tables = await openMedallion(localObjectStore(sinkDir));
    const rows = new WatchedCounter();
    const sink = await LakeSink.open(tables, systemClock, {
      intervalMs,
      allowedLatenessUs: 2 * SECOND_US,
      rowsWritten: rows,
    });
    const joining = performance.now();
    await sink.start(bus, controller.signal);
    // From when the sink has its partitions and start offsets (the group join, a few
    // seconds of Kafka's rebalance protocol, is printed apart).
    start = performance.now();
    const joinSeconds = (start - joining) / 1000;
    while (rows.of(tables.trades.tablePath) < total) await sleep(20);
    const sinkSeconds = (rows.reachedAt(tables.trades.tablePath) - start) / 1000;
    const commits = rows.commits(tables.trades.tablePath);
    controller.abort();
    const sinkLoad = load();

    // The ceiling: the lake's own append of the same rows, one commit, then the sink's batches.
    const ceilingDir = await mkdtemp(path.join(tmpdir(), 'alphalake-bench-sink-ceiling-'));
    dirs.push(ceilingDir);
    const ceiling = await openMedallion(localObjectStore(ceilingDir));
    start = performance.now();
    await ceiling.trades.append(tradeColumns(tape));
    const oneCommitSeconds = (performance.now() - start) / 1000;
    const batched = await openMedallion(localObjectStore(ceilingDir + '-batched'));
    dirs.push(ceilingDir + '-batched');
    const perCommit = Math.ceil(total / commits);
    start = performance.now();
    for (let from = 0; from < total; from += perCommit) {
      await batched.trades.append(tradeColumns(tape.slice(from, from + perCommit)));
    }
    const batchedSeconds = (performance.now() - start) / 1000;

    const rate = (seconds: number) => `${fmt(Math.round(total / seconds))} rows/s`;
    console.log(
      `sink Kafka → Delta (local folder), ${fmt(total)} trades, flush every ${intervalMs} ms`,
    );
    console.log(
      `  LakeSink, bronze.trades          ${sinkSeconds.toFixed(2)} s   ${rate(sinkSeconds)}   (${commits} bronze commits, ~${fmt(perCommit)} rows each; group join ${joinSeconds.toFixed(1)} s before; load ${sinkLoad})`,
    );
    console.log(
      `  append ceiling, one commit       ${oneCommitSeconds.toFixed(2)} s   ${rate(oneCommitSeconds)}`,
    );
    console.log(
      `  append, ${commits} commits of ~${fmt(perCommit)}   ${batchedSeconds.toFixed(2)} s   ${rate(batchedSeconds)}`,
    );
    console.log(
      `  ratio sink / one-commit ceiling  ${(oneCommitSeconds / sinkSeconds).toFixed(2)}x; sink / same-size commits ${(batchedSeconds / sinkSeconds).toFixed(2)}x; load at end ${load()}`,
    );
  } finally {
    controller.abort();
    await bus.close();
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: Object.values(topicNames) }).catch(() => undefined);
    await admin.disconnect();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  }
}

/** Counts rows per table like the sink's metric, and notes when each count last grew. */
class WatchedCounter implements RowCounter {
  private readonly counts = new Map<string, { rows: number; commits: number; at: number }>();

  inc(labels: { table: string }, by: number): void {
    const table = labels.table;
    const entry = this.counts.get(table) ?? { rows: 0, commits: 0, at: 0 };
    this.counts.set(table, {
      rows: entry.rows + by,
      commits: entry.commits + 1,
      at: performance.now(),
    });
  }

  of(table: string): number {
    return this.counts.get(table)?.rows ?? 0;
  }

  reachedAt(table: string): number {
    return this.counts.get(table)?.at ?? 0;
  }

  commits(table: string): number {
    return this.counts.get(table)?.commits ?? 0;
  }
}

function load(): string {
  return loadavg()[0]!.toFixed(2);
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}
