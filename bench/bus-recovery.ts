import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Trade } from '../src/domain/index.js';
import {
  KAFKA_BUS_DEFAULTS,
  KafkaBus,
  TOPICS,
  type KafkaBusOptions,
  type Topic,
} from '../src/stream/index.js';
import { privateServer } from '../test/support/private-services.js';
import { envNumber } from './lake-data.js';

/**
 * How soon the Kafka bus is back after its broker was away (the distributed-faults
 * acceptance stops Kafka for 30 s): a private broker (scripts/services with its own home
 * and ports; the shared broker is never stopped) is stopped for RECOVERY_BENCH_OUTAGE_MS
 * (default 30,000) while a producer publishes a trade every 50 ms and RECOVERY_BENCH_CONSUMERS
 * consumers (default 2, each in its own group, as the speed layer, the sink and an api's
 * relay are) read them. Once `scripts/services/up` says the broker answers again, the time
 * until the producer's first publish after that is acknowledged, and until every consumer
 * has handled it.
 *
 * Beside it, the peer: the same bus with kafkajs' own defaults for the two settings that
 * decide it (backoff up to 30 s, session timeout 30 s), the bus's settings before they were
 * configurable, measured in the same run. The 1-minute load average is printed: the machine
 * is shared.
 */
export async function run(): Promise<void> {
  const outageMs = envNumber('RECOVERY_BENCH_OUTAGE_MS', 30_000);
  const consumers = envNumber('RECOVERY_BENCH_CONSUMERS', 2);
  const setups: [string, Partial<KafkaBusOptions>][] = [
    [
      `bus defaults (retryMaxMs ${KAFKA_BUS_DEFAULTS.retryMaxMs}, sessionTimeoutMs ${KAFKA_BUS_DEFAULTS.sessionTimeoutMs})`,
      {},
    ],
    ["kafkajs' defaults (retryMaxMs 30000, sessionTimeoutMs 30000)", KAFKAJS_DEFAULTS],
  ];
  const results: { name: string; producerMs: number; consumersMs: number[] }[] = [];
  for (const [name, options] of setups) {
    const result = await outage(options, outageMs, consumers);
    console.log(
      `${name}: producer acknowledged after ${result.producerMs} ms, consumers caught up after ` +
        `${result.consumersMs.join(', ')} ms (load ${load()})`,
    );
    results.push({ name, ...result });
  }
  const [ours, peer] = results.map((r) => Math.max(...r.consumersMs));
  console.log(
    `consumers back ${(ours! / 1_000).toFixed(1)} s after the broker, against ${(peer! / 1_000).toFixed(1)} s: ` +
      `${(ours! / peer!).toFixed(2)}x`,
  );
}

/** kafkajs' defaults: `retry.maxRetryTime` and the consumer's `sessionTimeout`. */
const KAFKAJS_DEFAULTS: Partial<KafkaBusOptions> = { retryMaxMs: 30_000, sessionTimeoutMs: 30_000 };

async function outage(
  options: Partial<KafkaBusOptions>,
  outageMs: number,
  consumerCount: number,
): Promise<{ producerMs: number; consumersMs: number[] }> {
  const kafka = await privateServer('kafka', { heap: '384m' });
  const buses: KafkaBus[] = [];
  const stop = new AbortController();
  try {
    await kafka.up();
    const bus = (): Promise<KafkaBus> =>
      KafkaBus.connect({
        ...options,
        brokers: [kafka.address],
        topicNames: Object.fromEntries(TOPICS.map((t) => [t, `recovery-${t}`])) as Record<
          Topic,
          string
        >,
        partitions: 3,
        replicationFactor: 1,
        logLevel: 'nothing',
      }).then((b) => (buses.push(b), b));
    const producer = await bus();
    const newest = Array.from({ length: consumerCount }, () => -1);
    for (let c = 0; c < consumerCount; c++) {
      await (
        await bus()
      ).subscribe<Trade>(
        'trades',
        async (records) => {
          for (const r of records) newest[c] = Math.max(newest[c]!, r.value.seq);
        },
        { group: `recovery-${c}`, fromBeginning: true, signal: stop.signal },
      );
    }
    let serial = 0;
    let acknowledged = -1;
    const publishing = (async () => {
      while (!stop.signal.aborted) {
        const seq = serial++;
        const trade: Trade = {
          symbol: ['AAPL', 'MSFT', 'NVDA'][seq % 3]!,
          ts: 1_764_547_200_000_000 + seq,
          seq,
          price: 100,
          size: 1,
          id: `recovery-${seq}`,
          exchange: 'XNAS',
        };
        void producer
          .publish('trades', [{ key: trade.symbol, value: trade }])
          .then(() => (acknowledged = Math.max(acknowledged, seq)))
          .catch(() => undefined);
        await sleep(50);
      }
    })();
    await sleep(5_000);
    await kafka.down();
    await sleep(outageMs);
    await kafka.up();
    const back = Date.now();
    const first = serial;
    let producerMs = -1;
    const consumersMs = newest.map(() => -1);
    while (producerMs < 0 || consumersMs.some((ms) => ms < 0)) {
      const now = Date.now() - back;
      if (producerMs < 0 && acknowledged >= first) producerMs = now;
      newest.forEach((seq, c) => {
        if (consumersMs[c]! < 0 && seq >= first) consumersMs[c] = now;
      });
      if (now > 600_000) throw new Error('the bus did not recover within 10 minutes');
      await sleep(50);
    }
    stop.abort();
    await publishing;
    return { producerMs, consumersMs };
  } finally {
    stop.abort();
    for (const b of buses) await b.close().catch(() => undefined);
    await kafka.remove();
  }
}

function load(): string {
  return loadavg()[0]!.toFixed(1);
}
