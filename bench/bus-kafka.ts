import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Kafka, logLevel } from 'kafkajs';
import type { Trade } from '../src/domain/index.js';
import {
  codecFor,
  decodeMessage,
  KafkaBus,
  TOPICS,
  type Encoding,
  type KafkaBusOptions,
  type Topic,
} from '../src/stream/index.js';
import type { ConsumerReport, ConsumerTask } from './bus-kafka-consumer.js';
import { envNumber } from './lake-data.js';

/**
 * The stream bus on Kafka: producer → Kafka → consumer, JSON against the columnar encoding.
 *
 * 1. Codec alone (no Kafka): bytes a trade, encode and decode ns a trade.
 * 2. Latency, first (on a quiet broker): BUS_BENCH_LATENCY_RATE trades/s (default 10K)
 *    paced over BUS_BENCH_LATENCY_SECONDS (default 10, after 2 s of warm-up), each stamped
 *    with the wall time it was made; p50/p99/max from that to the consumer's handler (goal
 *    p99 ≤ 50 ms), and how long publish took to be acknowledged.
 * 3. Sustained throughput: BUS_BENCH_TRADES trades (default 2M, 6 symbols) published as
 *    fast as the bus takes them (publishes of BUS_BENCH_PUBLISH trades, default 6000, the
 *    bus' buffer bound holding the producer back), consumed from the beginning by a group
 *    in a worker thread; trades/s from the first publish to the last trade handled;
 *    BUS_BENCH_REPEAT rounds (default 3) alternating the encodings, medians compared.
 *    Against the seed's Spark/Scala pipeline (~200K rows/s, the floor) and the 1M aim.
 *
 * Brokers: KAFKA_BENCH_BROKERS (default 127.0.0.1:$ALPHALAKE_KAFKA_PORT or 19092). Topics are
 * made per run under a fresh name and deleted after, so the shared broker keeps nothing.
 * The 1-minute load average is printed with each figure: the machine is shared.
 */
export async function run(): Promise<void> {
  const brokers = (
    process.env.KAFKA_BENCH_BROKERS ?? `127.0.0.1:${process.env.ALPHALAKE_KAFKA_PORT ?? '19092'}`
  ).split(',');
  const total = envNumber('BUS_BENCH_TRADES', 2_000_000);
  const perPublish = envNumber('BUS_BENCH_PUBLISH', 6_000);
  const rate = envNumber('BUS_BENCH_LATENCY_RATE', 10_000);
  const seconds = envNumber('BUS_BENCH_LATENCY_SECONDS', 10);
  const repeat = envNumber('BUS_BENCH_REPEAT', 3);
  console.log(`machine: ${cpus().length} cores; load (1-min) at start ${load()}`);

  codecFigures();

  const configs: Setup[] = [
    { label: 'JSON, 1 trade/message', encoding: 'json', recordsPerMessage: 1 },
    { label: 'JSON, ≤1000 trades/message', encoding: 'json', recordsPerMessage: 1000 },
    { label: 'columnar, ≤1000 trades/message', encoding: 'columnar', recordsPerMessage: 1000 },
    {
      label: 'columnar, ≤1000/message, gzip',
      encoding: 'columnar',
      recordsPerMessage: 1000,
      compression: 'gzip',
    },
  ];
  console.log(
    `\nproduce-to-consume latency at ${fmt(rate)} trades/s for ${seconds} s (after 2 s warm-up); goal p99 ≤ 50 ms`,
  );
  // First, on a quiet broker: the throughput runs leave it deleting their logs for a while
  // (file.delete.delay.ms, 60 s), which shows in a latency tail.
  for (const setup of [configs[0]!, configs[2]!]) {
    const figure = await latency(brokers, setup, rate, seconds);
    console.log(
      `  ${setup.label.padEnd(32)} p50 ${figure.p50.toFixed(1)} ms  p99 ${figure.p99.toFixed(1)} ms ` +
        `(${(figure.p99 / 50).toFixed(2)}x the goal)  max ${figure.max.toFixed(1)} ms  ` +
        `n=${fmt(figure.n)}; publish acked after p50 ${figure.ackP50.toFixed(1)} ms, ` +
        `p99 ${figure.ackP99.toFixed(1)} ms  load ${figure.load}`,
    );
  }
  console.log(
    `\nsustained producer → Kafka → consumer (worker thread), ${total.toLocaleString()} trades, 6 symbols, 6 partitions; median of ${repeat}`,
  );
  // Rounds alternate the encodings, so a change in the machine's load hits each alike;
  // the median of the rounds is compared.
  const runs = new Map<string, Awaited<ReturnType<typeof throughput>>[]>();
  for (let round = 0; round < repeat; round++) {
    for (const setup of configs) {
      const figure = await throughput(brokers, setup, total, perPublish);
      runs.set(setup.label, [...(runs.get(setup.label) ?? []), figure]);
    }
  }
  const rates = new Map<string, number>();
  for (const setup of configs) {
    const all = runs.get(setup.label)!;
    const figure = [...all].sort((x, y) => x.tradesPerSecond - y.tradesPerSecond)[
      Math.floor(all.length / 2)
    ]!;
    rates.set(setup.label, figure.tradesPerSecond);
    const floor = figure.tradesPerSecond / 200_000;
    console.log(
      `  ${setup.label.padEnd(32)} ${fmt(figure.tradesPerSecond)} trades/s end to end ` +
        `(produce ${fmt(figure.producedPerSecond)}/s)  ${floor.toFixed(2)}x the 200K floor, ` +
        `${(figure.tradesPerSecond / 1e6).toFixed(2)}x the 1M aim   load ${figure.load}` +
        (all.length > 1
          ? `   (runs: ${all.map((r) => `${fmt(r.tradesPerSecond)} at ${r.load}`).join(', ')})`
          : ''),
    );
  }
  const json = rates.get(configs[0]!.label)!;
  const columnar = rates.get(configs[2]!.label)!;
  console.log(
    `  columnar/JSON (1 trade/message): ${(columnar / json).toFixed(1)}x; columnar/JSON batched: ${(columnar / rates.get(configs[1]!.label)!).toFixed(1)}x`,
  );
}

interface Setup {
  readonly label: string;
  readonly encoding: Encoding;
  readonly recordsPerMessage: number;
  readonly compression?: 'none' | 'gzip';
}

const SYMBOLS = ['AAPL', 'AMZN', 'GOOGL', 'MSFT', 'NVDA', 'TSLA'];
const T0 = 1_764_547_200_000_000;

/** `n` trades round-robin over the symbols, µs timestamps from `ts`, cents, serial ids. */
function makeTrades(n: number, ts: number, serial: number): Trade[] {
  const trades = new Array<Trade>(n);
  for (let i = 0; i < n; i++) {
    const k = serial + i;
    trades[i] = {
      symbol: SYMBOLS[k % SYMBOLS.length]!,
      ts: ts + i * 37,
      seq: k,
      price: 100 + ((k * 7_919) % 10_000) / 100,
      size: 1 + ((k * 104_729) % 500),
      id: `20251201-${k}`,
      exchange: k % 3 === 0 ? 'XNYS' : 'XNAS',
    };
  }
  return trades;
}

function codecFigures(): void {
  const trades = makeTrades(60_000, T0, 0);
  const bySymbol = SYMBOLS.map((s) => trades.filter((t) => t.symbol === s));
  console.log('\ncodec alone, 60,000 trades of 6 symbols (no Kafka)');
  const rows: [string, Encoding, number][] = [
    ['JSON, 1 trade/message', 'json', 1],
    ['JSON, ≤1000 trades/message', 'json', 1000],
    ['columnar, ≤1000 trades/message', 'columnar', 1000],
  ];
  let jsonBytes = 0;
  for (const [label, encoding, per] of rows) {
    const codec = codecFor('trades', encoding);
    const encodeAll = () => {
      const messages: Buffer[] = [];
      for (const group of bySymbol) {
        for (let i = 0; i < group.length; i += per)
          messages.push(codec.encode(group.slice(i, i + per)));
      }
      return messages;
    };
    let messages = encodeAll();
    const encodeNs = best(() => (messages = encodeAll())) / trades.length;
    const decodeNs =
      best(() => messages.forEach((m) => decodeMessage('trades', m))) / trades.length;
    const bytes = messages.reduce((sum, m) => sum + m.length, 0) / trades.length;
    if (encoding === 'json' && per === 1) jsonBytes = bytes;
    console.log(
      `  ${label.padEnd(32)} ${bytes.toFixed(1)} bytes/trade (${(jsonBytes / bytes).toFixed(1)}x smaller than JSON)  ` +
        `encode ${encodeNs.toFixed(0)} ns/trade  decode ${decodeNs.toFixed(0)} ns/trade`,
    );
  }
}

/** Best of 5 runs of `work`, in ns. */
function best(work: () => void): number {
  let fastest = Infinity;
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    work();
    fastest = Math.min(fastest, performance.now() - start);
  }
  return fastest * 1e6;
}

async function throughput(
  brokers: string[],
  setup: Setup,
  total: number,
  perPublish: number,
): Promise<{ tradesPerSecond: number; producedPerSecond: number; load: string }> {
  return withTopics(brokers, setup, async (options) => {
    const consumer = await startConsumer({
      bus: options,
      group: `bench-${randomUUID()}`,
      expected: total,
    });
    const producer = await KafkaBus.connect(options);
    const pool = Array.from({ length: 50 }, (_, i) =>
      makeTrades(perPublish, T0 + i * perPublish * 37, i * perPublish).map((t) => ({
        key: t.symbol,
        value: t,
      })),
    );
    const loadBefore = loadavg()[0]!;
    const start = wallMs();
    const pending = new Set<Promise<void>>();
    for (let sent = 0, i = 0; sent < total; i++) {
      const records = pool[i % pool.length]!.slice(0, Math.min(perPublish, total - sent));
      const publish = producer.publish('trades', records).finally(() => pending.delete(publish));
      pending.add(publish);
      sent += records.length;
      // The bus bounds its own buffer; this only bounds the promises held here.
      if (pending.size >= 64) await Promise.race(pending);
    }
    await Promise.all(pending);
    const produced = wallMs();
    const report = await consumer.done;
    await producer.close();
    return {
      tradesPerSecond: total / ((report.lastMs - start) / 1000),
      producedPerSecond: total / ((produced - start) / 1000),
      load: `${loadBefore.toFixed(1)}→${loadavg()[0]!.toFixed(1)}`,
    };
  });
}

async function latency(
  brokers: string[],
  setup: Setup,
  rate: number,
  seconds: number,
): Promise<{
  p50: number;
  p99: number;
  ackP50: number;
  ackP99: number;
  max: number;
  n: number;
  load: string;
}> {
  const warmup = 2 * rate;
  const total = warmup + seconds * rate;
  return withTopics(brokers, setup, async (options) => {
    const consumer = await startConsumer({
      bus: options,
      group: `bench-${randomUUID()}`,
      expected: total,
      latency: { skip: warmup },
    });
    const producer = await KafkaBus.connect(options);
    const loadBefore = loadavg()[0]!;
    const start = performance.now();
    const pending = new Set<Promise<void>>();
    const acks: number[] = [];
    let sent = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000));
      if (due > sent) {
        const made = wallMs();
        const trades = makeTrades(due - sent, Math.round(made * 1000), sent);
        const counted = sent >= warmup;
        const publish = producer
          .publish(
            'trades',
            trades.map((t) => ({ key: t.symbol, value: t })),
          )
          .then(() => {
            if (counted) acks.push(wallMs() - made);
          })
          .finally(() => pending.delete(publish));
        pending.add(publish);
        sent = due;
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all(pending);
    const report = await consumer.done;
    await producer.close();
    const sorted = Float64Array.from(report.latenciesMs).sort();
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    const ackSorted = Float64Array.from(acks).sort();
    const ackAt = (q: number) => ackSorted[Math.floor(q * (ackSorted.length - 1))]!;
    return {
      p50: at(0.5),
      p99: at(0.99),
      ackP50: ackAt(0.5),
      ackP99: ackAt(0.99),
      max: sorted[sorted.length - 1]!,
      n: sorted.length,
      load: `${loadBefore.toFixed(1)}→${loadavg()[0]!.toFixed(1)}`,
    };
  });
}

const wallMs = () => performance.timeOrigin + performance.now();

function load(): string {
  return loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');
}

/** Runs `work` on topics made for it (6 partitions), deleted afterwards. */
async function withTopics<T>(
  brokers: string[],
  setup: Setup,
  work: (options: KafkaBusOptions) => Promise<T>,
): Promise<T> {
  const run = randomUUID().slice(0, 8);
  const topicNames = Object.fromEntries(TOPICS.map((t) => [t, `bench-${run}-${t}`])) as Record<
    Topic,
    string
  >;
  const options: KafkaBusOptions = {
    brokers,
    clientId: `alphalake-bench-${run}`,
    topicNames,
    partitions: 6,
    replicationFactor: 1,
    encoding: setup.encoding,
    recordsPerMessage: setup.recordsPerMessage,
    compression: setup.compression ?? 'none',
  };
  try {
    return await work(options);
  } finally {
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: Object.values(topicNames) }).catch(() => undefined);
    await admin.disconnect();
  }
}

function startConsumer(task: ConsumerTask): Promise<{ done: Promise<ConsumerReport> }> {
  const worker = new Worker(new URL('./bus-kafka-consumer.js', import.meta.url), {
    workerData: task,
  });
  return new Promise((resolveReady, rejectReady) => {
    const done = new Promise<ConsumerReport>((resolveDone, rejectDone) => {
      worker.on('message', (message: { ready?: true; done?: ConsumerReport }) => {
        if (message.ready) resolveReady({ done });
        if (message.done) {
          resolveDone(message.done);
          void worker.terminate();
        }
      });
      worker.on('error', (error) => {
        rejectReady(error);
        rejectDone(error);
      });
    });
    done.catch(() => undefined);
  });
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
