/**
 * The consuming side of bench/bus-kafka.ts, in a worker thread so producer and consumer
 * each have a JS thread, as they would in two processes. Reads `expected` trades from the
 * beginning of the topic and posts when it has them: the wall time of the first and last
 * batch and, for the latency run, each trade's produce-to-handler latency (its `ts` is the
 * epoch-µs wall time at which the producer made it).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Trade } from '../src/domain/index.js';
import { KafkaBus, type KafkaBusOptions } from '../src/stream/index.js';

export interface ConsumerTask {
  readonly bus: KafkaBusOptions;
  readonly group: string;
  readonly expected: number;
  /** Latencies of the first `skip` trades are not kept (warm-up). */
  readonly latency?: { readonly skip: number };
}

export interface ConsumerReport {
  readonly count: number;
  readonly firstMs: number;
  readonly lastMs: number;
  readonly latenciesMs: number[];
}

const wallMs = () => performance.timeOrigin + performance.now();

const task = workerData as ConsumerTask;
const bus = await KafkaBus.connect(task.bus);
let count = 0;
let firstMs = 0;
let lastMs = 0;
const latencies: number[] = [];
let finished = false;
await bus.subscribe<Trade>(
  'trades',
  async (records) => {
    const now = wallMs();
    if (count === 0) firstMs = now;
    if (task.latency) {
      for (let i = 0; i < records.length; i++) {
        if (count + i >= task.latency.skip) latencies.push(now - records[i]!.value.ts / 1000);
      }
    }
    count += records.length;
    lastMs = now;
    if (count >= task.expected && !finished) {
      finished = true;
      const report: ConsumerReport = { count, firstMs, lastMs, latenciesMs: latencies };
      parentPort?.postMessage({ done: report });
      setImmediate(() => void bus.close());
    }
  },
  { group: task.group, fromBeginning: true },
);
parentPort?.postMessage({ ready: true });
