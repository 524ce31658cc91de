import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import cassandra from 'cassandra-driver';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { createPlatform } from '../src/app.js';
import { configWith, type Config } from '../src/config/index.js';
import type { Trade } from '../src/domain/index.js';
import { startApiServer } from '../src/graphql/index.js';
import { envNumber } from './lake-data.js';

/**
 * Subscription delivery latency: a trade published on the stream bus → the speed layer
 * (speed store written, then the live hub) → a GraphQL subscription client over
 * graphql-ws (the `ws` package), in one process. Each trade is stamped with the wall time
 * it was published (its `ts`, µs); the client subtracts that from the time its `next`
 * arrives. Beside it, the ceiling measured on the same trades in the same run: a plain
 * consumer group of the same bus (produce → consume, no speed store, no GraphQL).
 *
 * SUB_BENCH_RATE trades/s (default 1000) over SUB_BENCH_SECONDS (default 10, after 2 s of
 * warm-up), in publishes every SUB_BENCH_TICK_MS (default 10). Profiles: `simulator`
 * (embedded, the trades of the live simulator feed as `alphalake serve` runs it, each
 * measured from its event time on the tape), `embedded` (in-process bus and speed store,
 * this bench publishing), then `distributed` (Kafka + Cassandra of the services
 * tier: ALPHALAKE_SERVICES_HOST, ALPHALAKE_KAFKA_PORT, ALPHALAKE_CASSANDRA_PORT; topics and
 * keyspace of its own, the keyspace dropped after) unless SUB_BENCH_PROFILES names
 * fewer. Goal: p99 ≤ 100 ms. The 1-minute load average is printed: the machine
 * is shared.
 */
export async function run(): Promise<void> {
  const rate = envNumber('SUB_BENCH_RATE', 1_000);
  const seconds = envNumber('SUB_BENCH_SECONDS', 10);
  const tickMs = envNumber('SUB_BENCH_TICK_MS', 10);
  const profiles = (process.env.SUB_BENCH_PROFILES ?? 'simulator,embedded,distributed').split(',');
  const host = process.env.ALPHALAKE_SERVICES_HOST ?? '127.0.0.1';
  console.log(
    `produce → GraphQL subscription (graphql-ws) latency at ${rate.toLocaleString()} trades/s for ${seconds} s ` +
      `(publishes every ${tickMs} ms, after 2 s of warm-up); goal p99 ≤ 100 ms`,
  );
  for (const profile of profiles) {
    const simulated = profile === 'simulator';
    const run = randomUUID().slice(0, 8);
    const home = await mkdtemp(path.join(tmpdir(), 'alphalake-sub-bench-'));
    const keyspace = `alphalake_sub_bench_${run}`;
    const contactPoint = `${host}:${envNumber('ALPHALAKE_CASSANDRA_PORT', 19042)}`;
    const distributed: Partial<Config> =
      profile === 'distributed'
        ? {
            kafkaBrokers: [`${host}:${envNumber('ALPHALAKE_KAFKA_PORT', 19092)}`],
            kafkaTopicPrefix: `alphalake-sub-bench-${run}.`,
            kafkaPartitions: 3,
            cassandraContactPoints: [contactPoint],
            cassandraLocalDataCenter: 'datacenter1',
            cassandraKeyspace: keyspace,
          }
        : {};
    try {
      const figure = await measure(
        {
          home,
          port: 0,
          simulatorEnabled: simulated,
          backfillSessions: 0,
          simulatorSymbols: SYMBOLS,
          simulatorTradesPerSecond: rate / SYMBOLS.length,
          ...distributed,
        },
        { rate, seconds, tickMs },
        simulated ? 'simulator' : 'bench',
      );
      const ms = (n: number) => `${n.toFixed(1)} ms`;
      console.log(
        `  ${profile.padEnd(11)} subscription p50 ${ms(figure.client.p50)} p99 ${ms(figure.client.p99)} ` +
          `max ${ms(figure.client.max)} (p99 ${(figure.client.p99 / 100).toFixed(2)}x the goal)  n=${figure.client.n}` +
          `\n  ${''.padEnd(11)} live hub     p50 ${ms(figure.hub.p50)} p99 ${ms(figure.hub.p99)} ` +
          `max ${ms(figure.hub.max)}  n=${figure.hub.n}` +
          `\n  ${''.padEnd(11)} bus ceiling  p50 ${ms(figure.bus.p50)} p99 ${ms(figure.bus.p99)} ` +
          `max ${ms(figure.bus.max)}  n=${figure.bus.n}` +
          `\n  ${''.padEnd(11)} subscription ÷ ceiling: p50 ${ratio(figure.client.p50, figure.bus.p50)}, ` +
          `p99 ${ratio(figure.client.p99, figure.bus.p99)}  load ${figure.load}`,
      );
    } finally {
      await rm(home, { recursive: true, force: true });
      if (profile === 'distributed') {
        const admin = new cassandra.Client({
          contactPoints: [contactPoint],
          localDataCenter: 'datacenter1',
        });
        await admin.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
        await admin.shutdown();
      }
    }
  }
}

interface Pace {
  readonly rate: number;
  readonly seconds: number;
  readonly tickMs: number;
}

interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly n: number;
}

/** Wall time in epoch µs, with sub-millisecond resolution. */
const nowMicros = () => (performance.timeOrigin + performance.now()) * 1_000;

const SYMBOLS = ['AAPL', 'AMZN', 'GOOGL', 'MSFT', 'NVDA', 'TSLA'];

async function measure(
  overrides: Partial<Config>,
  pace: Pace,
  source: 'bench' | 'simulator',
): Promise<{ client: Percentiles; hub: Percentiles; bus: Percentiles; load: string }> {
  // Auth off: the bench measures delivery, not token checks (docs/auth.md).
  const platform = await createPlatform(configWith({ authMode: 'off', ...overrides }));
  const stop = new AbortController();
  let server: Awaited<ReturnType<typeof startApiServer>> | undefined;
  const client: { dispose(): void | Promise<void> }[] = [];
  try {
    // The simulator runs as in `alphalake serve`: its feed on the wall clock (live).
    await platform.start({ live: source === 'simulator' });
    server = await startApiServer(platform.api, {
      host: '127.0.0.1',
      port: 0,
      development: false,
      ready: () => platform.ready,
      auth: platform.auth,
    });
    // Only trades stamped in [measuring, until) count, so warm-up trades are left out.
    let measuring = Number.POSITIVE_INFINITY;
    let until = Number.POSITIVE_INFINITY;
    const counts = (ts: number) => ts >= measuring && ts < until;
    const clientLatencies: number[] = [];
    const busLatencies: number[] = [];
    await platform.bus.subscribe<Trade>(
      'trades',
      async (records) => {
        const at = nowMicros();
        for (const r of records) if (counts(r.value.ts)) busLatencies.push(at - r.value.ts);
      },
      { group: `sub-bench-ceiling-${randomUUID()}`, signal: stop.signal },
    );
    // The live hub, in process: the speed layer publishes to it once the store has the trades.
    const hubLatencies: number[] = [];
    void (async () => {
      for await (const trade of platform.hub.subscribe('trade', SYMBOLS, stop.signal)) {
        if (counts(trade.ts)) hubLatencies.push(nowMicros() - trade.ts);
      }
    })();
    const ws = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, lazy: false });
    client.push(ws);
    let received = 0;
    ws.subscribe<{ trades: { tsMicros: number } }>(
      { query: `subscription { trades(symbols: ${JSON.stringify(SYMBOLS)}) { tsMicros } }` },
      {
        next: (message) => {
          const at = nowMicros();
          const ts = message.data?.trades.tsMicros;
          if (ts === undefined) return;
          received += 1;
          if (counts(ts)) clientLatencies.push(at - ts);
        },
        error: (error) => console.error('subscription failed:', error),
        complete: () => undefined,
      },
    );
    let serial = 0;
    const publishTick = async (count: number) => {
      const ts = Math.floor(nowMicros());
      const trades: Trade[] = Array.from({ length: count }, () => {
        const i = serial++;
        return {
          symbol: SYMBOLS[i % SYMBOLS.length]!,
          ts,
          seq: i,
          price: 100 + (i % 1000) / 100,
          size: 1 + (i % 100),
          id: `sub-bench-${i}`,
          exchange: 'XNAS',
        };
      });
      await platform.bus.publish(
        'trades',
        trades.map((t) => ({ key: t.symbol, value: t })),
      );
    };
    if (source === 'simulator') {
      // A trade's `ts` is its event time on the simulated tape; the feed publishes it.
      while (received === 0) await new Promise((resolve) => setTimeout(resolve, 100));
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      measuring = Math.floor(nowMicros());
      await new Promise((resolve) => setTimeout(resolve, pace.seconds * 1_000));
      until = Math.floor(nowMicros());
      // Every trade stamped before `until` is published within a second and a tick.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      if (clientLatencies.length !== busLatencies.length || busLatencies.length === 0) {
        throw new Error(
          `the subscription had ${clientLatencies.length} trades, the bus ${busLatencies.length}`,
        );
      }
      return {
        client: percentiles(clientLatencies),
        hub: percentiles(hubLatencies),
        bus: percentiles(busLatencies),
        load: loadavg()[0]!.toFixed(2),
      };
    }
    // The subscription is live once a trade comes through.
    while (received === 0) {
      await publishTick(SYMBOLS.length);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const perTick = Math.max(1, Math.round((pace.rate * pace.tickMs) / 1_000));
    const publishes: Promise<void>[] = [];
    const paced = async (ms: number) => {
      const start = performance.now();
      for (let tick = 0; performance.now() - start < ms; tick++) {
        const due = start + tick * pace.tickMs;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        // Not awaited one by one: a publish waits for Kafka's acknowledgement, which would
        // slow the pace; records of one key keep their order across publishes.
        publishes.push(publishTick(perTick));
      }
      await Promise.all(publishes.splice(0));
    };
    await paced(2_000);
    measuring = Math.floor(nowMicros());
    const first = serial;
    await paced(pace.seconds * 1_000);
    const expected = serial - first;
    const deadline = performance.now() + 30_000;
    while (
      (clientLatencies.length < expected || busLatencies.length < expected) &&
      performance.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (clientLatencies.length < expected || busLatencies.length < expected) {
      throw new Error(
        `after 30 s the subscription had ${clientLatencies.length} and the bus ${busLatencies.length} of ${expected} trades`,
      );
    }
    return {
      client: percentiles(clientLatencies),
      hub: percentiles(hubLatencies),
      bus: percentiles(busLatencies),
      load: loadavg()[0]!.toFixed(2),
    };
  } finally {
    stop.abort();
    for (const c of client) await c.dispose();
    await server?.close();
    await platform.stop();
  }
}

/** Latencies in µs → ms percentiles (nearest rank). */
function percentiles(micros: readonly number[]): Percentiles {
  const sorted = [...micros].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return {
    p50: at(0.5) / 1_000,
    p99: at(0.99) / 1_000,
    max: sorted.at(-1)! / 1_000,
    n: sorted.length,
  };
}

function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(1)}x`;
}
