import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createPlatform } from '../src/app.js';
import { tradeColumnsOf } from './replay-support.js';
import { loadConfig } from '../src/config/index.js';
import { FileSource, ingestSource } from '../src/ingest/index.js';
import { DeltaTable, localObjectStore } from '../src/lake/index.js';
import { TRADES_TABLE } from '../src/batch/index.js';
import { writePolygonTradesFile } from '../test/support/polygon-fixture.js';
import { envNumber } from './lake-data.js';

/**
 * Replay throughput: a Polygon-layout trades CSV of REPLAY_BENCH_ROWS rows (default 1M,
 * about 1 % planted bad rows) through `FileSource` → validation → the in-process bus → the
 * lake sink into bronze.trades, as `alphalake ingest --source file` runs it embedded; beside
 * the lake's append ceiling in the same run (the same valid trades appended as one
 * columnar batch, no parsing, no bus). Memory: resident set and heap sampled every 50 ms
 * during the replay, against the file's size and REPLAY_BENCH_MEMORY_MB (default 64), a
 * bound the file is made larger than, so holding the file would show.
 */
export async function run(): Promise<void> {
  const rows = envNumber('REPLAY_BENCH_ROWS', 1_000_000);
  const boundMb = envNumber('REPLAY_BENCH_MEMORY_MB', 64);
  const dir = await mkdtemp(path.join(tmpdir(), 'alphalake-bench-replay-'));
  try {
    const file = path.join(dir, 'trades_v1.csv');
    const fixture = await writePolygonTradesFile(file, rows);
    const fileMb = (await stat(file)).size / 2 ** 20;
    // As `alphalake ingest --source file` runs embedded: the ingest and sink roles.
    const config = {
      ...loadConfig({ ALPHALAKE_HOME: path.join(dir, 'home'), SIM_ENABLED: 'false' }),
      roles: ['ingest', 'sink'] as const,
    };
    const platform = await createPlatform(config);
    await platform.start({ live: false });
    const source = await FileSource.open({ path: file, format: 'polygon-trades' });
    global.gc?.();
    const baseline = process.memoryUsage();
    let peakRss = baseline.rss;
    let peakHeap = baseline.heapUsed;
    // Heap and array buffers still held after a full collection (node --expose-gc), at
    // every lake flush. The duplicate window's typed arrays are allocated with the ingestor,
    // before the baseline: they are added to the figure compared with the bound.
    const retained = (m: NodeJS.MemoryUsage) => m.heapUsed + m.arrayBuffers;
    const windowBytes = platform.ingestor.duplicateWindowBytes;
    let peakRetained = retained(baseline);
    const held: string[] = [];
    const sampler = setInterval(() => {
      const now = process.memoryUsage();
      peakRss = Math.max(peakRss, now.rss);
      peakHeap = Math.max(peakHeap, now.heapUsed);
    }, 50);
    let batches = 0;
    const started = performance.now();
    let tally: { rowsRead: number } = { rowsRead: 0 };
    const result = await ingestSource({
      source,
      ingestor: platform.ingestor,
      signal: new AbortController().signal,
      afterBatch: async (progress) => {
        tally = progress;
        if (++batches % 20 === 0) {
          await new Promise((resolve) => setImmediate(resolve));
          await platform.sink.flush();
          if (global.gc) {
            global.gc();
            const heap = retained(process.memoryUsage());
            peakRetained = Math.max(peakRetained, heap);
            held.push(
              `${Math.round(tally.rowsRead / 1000)}k:${Math.round((heap - retained(baseline)) / 2 ** 20)}`,
            );
          }
        }
      },
    });
    await new Promise((resolve) => setImmediate(resolve));
    await platform.sink.flush();
    const replaySeconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    await platform.stop();

    const kafkaSeconds = await throughKafka(dir, file, fixture.valid.length);

    // The ceiling: the same valid trades, already in memory, in one append.
    const table = await DeltaTable.create(localObjectStore(path.join(dir, 'ceiling')), 'trades', {
      schema: [...TRADES_TABLE.schema],
      partitionColumns: [...TRADES_TABLE.partitionColumns],
      clusterBy: [...TRADES_TABLE.clusterBy],
    });
    const batch = tradeColumnsOf(fixture.valid);
    const appendStart = performance.now();
    await table.append(batch);
    const appendSeconds = (performance.now() - appendStart) / 1000;

    const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
    const rate = (n: number, s: number) => `${Math.round(n / s).toLocaleString()} rows/s`;
    console.log(
      `replay of a Polygon trades CSV, ${rows.toLocaleString()} rows (${fileMb.toFixed(0)} MB), ${result.trades.toLocaleString()} valid trades, ${result.rejected.toLocaleString()} rejects`,
    );
    console.log(
      `  file → validation → in-process bus → bronze.trades   ${replaySeconds.toFixed(2)} s   ${rate(rows, replaySeconds)}`,
    );
    console.log(
      `  ceiling: DeltaTable.append of the valid trades       ${appendSeconds.toFixed(2)} s   ${rate(fixture.valid.length, appendSeconds)}`,
    );
    if (typeof kafkaSeconds === 'number') {
      console.log(
        `  file → validation → Kafka → sink → bronze.trades     ${kafkaSeconds.toFixed(2)} s   ${rate(rows, kafkaSeconds)}`,
      );
    } else console.log(`  Kafka leg skipped: ${kafkaSeconds}`);
    console.log(
      `  replay / ceiling: in-process ${(rows / replaySeconds / (fixture.valid.length / appendSeconds)).toFixed(3)}${typeof kafkaSeconds === 'number' ? `, Kafka ${(rows / kafkaSeconds / (fixture.valid.length / appendSeconds)).toFixed(3)}` : ''}`,
    );
    console.log(
      `  memory during the replay: RSS ${mb(baseline.rss)} → peak ${mb(peakRss)} (+${mb(peakRss - baseline.rss)}), heap ${mb(baseline.heapUsed)} → peak ${mb(peakHeap)} (garbage included)`,
    );
    console.log(
      global.gc
        ? `  heap + array buffers held after GC at each flush (rows read: MB over the start): ${held.join(' ')}; peak +${mb(peakRetained - retained(baseline))}, with the duplicate window's ${mb(windowBytes)} (allocated before the start) ${mb(peakRetained - retained(baseline) + windowBytes)} for a ${fileMb.toFixed(0)} MB file, bound ${boundMb} MB: ${peakRetained - retained(baseline) + windowBytes <= boundMb * 2 ** 20 ? 'within' : 'OVER'}`
        : '  (run with node --expose-gc for the heap held after GC)',
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The same file through Kafka (KAFKA_BENCH_BROKERS, default the services tier's broker;
 * REPLAY_BENCH_KAFKA=0 skips it): a producer and an in-process sink on fresh topics, timed
 * until bronze.trades holds every valid trade. Returns the seconds, or why it was skipped.
 */
async function throughKafka(dir: string, file: string, valid: number): Promise<number | string> {
  if (process.env.REPLAY_BENCH_KAFKA === '0') return 'REPLAY_BENCH_KAFKA=0';
  const brokers =
    process.env.KAFKA_BENCH_BROKERS ?? `127.0.0.1:${process.env.ALPHALAKE_KAFKA_PORT ?? '19092'}`;
  let platform: Awaited<ReturnType<typeof createPlatform>>;
  try {
    platform = await createPlatform(
      loadConfig({
        ALPHALAKE_HOME: path.join(dir, 'kafka-home'),
        SIM_ENABLED: 'false',
        KAFKA_BROKERS: brokers,
        KAFKA_TOPIC_PREFIX: `alphalake-bench-replay-${Date.now()}.`,
        ALPHALAKE_ROLE: 'ingest,sink',
      }),
    );
  } catch (error) {
    return `Kafka at ${brokers} did not answer (${(error as Error).message})`;
  }
  try {
    await platform.start({ live: false });
    const source = await FileSource.open({ path: file, format: 'polygon-trades' });
    const written = async () =>
      Number(
        /^alphalake_lake_rows_written_total\{table="bronze\/trades"\} (\d+)$/m.exec(
          await platform.api.metrics.render(),
        )?.[1] ?? 0,
      );
    let batches = 0;
    const started = performance.now();
    await ingestSource({
      source,
      ingestor: platform.ingestor,
      signal: new AbortController().signal,
      afterBatch: async () => {
        if (++batches % 20 === 0) await platform.sink.flush();
      },
    });
    let still = 0;
    let seen = -1;
    let count = await written();
    while (count < valid && still < 100) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      await platform.sink.flush();
      count = await written();
      still = count === seen ? still + 1 : 0;
      seen = count;
    }
    if (count < valid) return `the sink stopped at ${count} of ${valid} trades`;
    return (performance.now() - started) / 1000;
  } finally {
    await platform.stop();
  }
}
