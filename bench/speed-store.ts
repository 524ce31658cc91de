import { loadavg } from 'node:os';
import cassandra from 'cassandra-driver';
import type { Bar, Quote, Trade } from '../src/domain/index.js';
import {
  CASSANDRA_SPEED_STORE_DEFAULTS,
  CassandraSpeedStore,
  MemorySpeedStore,
  MICROS_PER_TIME_UNIT,
  type BatchedReads,
  type SpeedStore,
} from '../src/speed/index.js';
import { envNumber } from './lake-data.js';

/**
 * Speed store write throughput: trades and 1-second bars written the way the speed layer
 * writes them (`SPEED_BENCH_CALLERS` callers, default 1, each awaiting its calls of
 * `SPEED_BENCH_CALL_ROWS` rows across `SPEED_BENCH_SYMBOLS` symbols; the speed layer has
 * one caller per Kafka partition it handles at once), into the real Cassandra of the
 * services tier (`ALPHALAKE_SERVICES_HOST`, `ALPHALAKE_CASSANDRA_PORT`; a keyspace of its
 * own, dropped at the end) — against the goal (50K rows/s) and the memory store as the
 * ceiling. SPEED_BENCH_ROWS (default 500K) rows of each kind;
 * SPEED_BENCH_MAX_IN_FLIGHT and SPEED_BENCH_ROWS_PER_BATCH tune the adapter (defaults:
 * the adapter's). The machine's load average is printed before and after: it is shared.
 */
export async function run(): Promise<void> {
  const part = process.env.SPEED_BENCH_PART ?? 'all';
  if (part === 'all' || part === 'writes') await writes();
  if (part === 'all' || part === 'reads') await batchedReads();
}

async function writes(): Promise<void> {
  const rows = envNumber('SPEED_BENCH_ROWS', 500_000);
  const symbols = envNumber('SPEED_BENCH_SYMBOLS', 100);
  const callRows = envNumber('SPEED_BENCH_CALL_ROWS', 5_000);
  const callers = envNumber('SPEED_BENCH_CALLERS', 1);
  const maxInFlight = envNumber(
    'SPEED_BENCH_MAX_IN_FLIGHT',
    CASSANDRA_SPEED_STORE_DEFAULTS.maxInFlight,
  );
  const rowsPerBatch = envNumber(
    'SPEED_BENCH_ROWS_PER_BATCH',
    CASSANDRA_SPEED_STORE_DEFAULTS.rowsPerBatch,
  );
  const goal = 50_000;
  const host = process.env.ALPHALAKE_SERVICES_HOST ?? '127.0.0.1';
  const contactPoint = `${host}:${envNumber('ALPHALAKE_CASSANDRA_PORT', 19042)}`;
  const keyspace = `alphalake_bench_${process.pid}_${Date.now().toString(36)}`;

  const trades = makeTrades(rows, symbols);
  const bars = makeBars(rows, symbols);
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  console.log(
    `speed store writes: ${rows.toLocaleString()} trades and ${rows.toLocaleString()} 1s bars, ${symbols} symbols, ${callRows.toLocaleString()} rows per call, ${callers} caller(s)`,
  );
  console.log(
    `  Cassandra ${contactPoint}, keyspace ${keyspace}, maxInFlight ${maxInFlight}, rowsPerBatch ${rowsPerBatch}`,
  );
  console.log(`  load average (1/5/15 min) before: ${load()}`);

  const cassandraStore = await CassandraSpeedStore.open({
    contactPoints: [contactPoint],
    localDataCenter: 'datacenter1',
    keyspace,
    replication: { class: 'SimpleStrategy', factor: 1 },
    maxInFlight,
    rowsPerBatch,
  });
  const memoryStore = new MemorySpeedStore();
  try {
    const timed = async <T>(rowsOf: readonly T[], write: (part: T[]) => Promise<void>) => {
      const cpu = process.cpuUsage();
      const start = performance.now();
      // `callers` loops, each awaiting its own calls, take the next slice of rows in turn.
      let next = 0;
      const caller = async () => {
        for (let i = next; i < rowsOf.length; i = next) {
          next += callRows;
          await write(rowsOf.slice(i, i + callRows));
        }
      };
      await Promise.all(Array.from({ length: callers }, caller));
      const used = process.cpuUsage(cpu);
      return { seconds: (performance.now() - start) / 1000, cpu: (used.user + used.system) / 1e6 };
    };
    // Warm-up, not timed: statements prepared, code paths compiled (rewritten below; idempotent).
    await cassandraStore.appendTrades(trades.slice(0, 2 * callRows));
    await cassandraStore.upsertBars(bars.slice(0, 2 * callRows));
    const results: [string, Timing, Timing][] = [
      [
        'trades',
        await timed(trades, (part) => cassandraStore.appendTrades(part)),
        await timed(trades, (part) => memoryStore.appendTrades(part)),
      ],
      [
        '1s bars',
        await timed(bars, (part) => cassandraStore.upsertBars(part)),
        await timed(bars, (part) => memoryStore.upsertBars(part)),
      ],
    ];
    const rate = (seconds: number) => rows / seconds;
    const fmt = (perSecond: number) => `${Math.round(perSecond).toLocaleString()} rows/s`;
    for (const [kind, onCassandra, inMemory] of results) {
      const cassandraRate = rate(onCassandra.seconds);
      const memoryRate = rate(inMemory.seconds);
      console.log(
        `  ${kind.padEnd(8)} Cassandra ${onCassandra.seconds.toFixed(2)} s ${fmt(cassandraRate).padStart(16)}` +
          `   goal: ${(cassandraRate / goal).toFixed(2)}x of ${fmt(goal)}` +
          `   memory (ceiling) ${fmt(memoryRate)}: ${(cassandraRate / memoryRate).toFixed(3)}x` +
          `   (CPU of this process while writing to Cassandra: ${onCassandra.cpu.toFixed(2)} s)`,
      );
    }
    console.log(`  load average (1/5/15 min) after: ${load()}`);
  } finally {
    await cassandraStore.close();
    await memoryStore.close();
    const admin = new cassandra.Client({
      contactPoints: [contactPoint],
      localDataCenter: 'datacenter1',
    });
    await admin.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
    await admin.shutdown();
  }
}

/**
 * Batched reads (`SpeedStore.latestQuotes`, `barsMany`) of N tickers on the real Cassandra,
 * both ways the adapter can do them (`batchedReads`: `partition-in`, one query per day
 * partition with the tickers in an IN; `concurrent`, the one-ticker reads at once, at most
 * maxInFlight) beside the way the loaders read before the port had them (one
 * `latestQuote`/`bars` call per ticker, all at once: the peer) and the memory store (the
 * ceiling). SPEED_BENCH_READ_SYMBOLS (default 500) tickers hold quotes and 1-minute bars
 * (SPEED_BENCH_READ_BARS per ticker, default 60, one day partition); each figure is the
 * mean of SPEED_BENCH_READ_ROUNDS (default 30) calls of N tickers, N in 10, 100, 500, the
 * ways interleaved call by call.
 */
async function batchedReads(): Promise<void> {
  const symbols = envNumber('SPEED_BENCH_READ_SYMBOLS', 500);
  const barsPerSymbol = envNumber('SPEED_BENCH_READ_BARS', 60);
  const rounds = envNumber('SPEED_BENCH_READ_ROUNDS', 30);
  const host = process.env.ALPHALAKE_SERVICES_HOST ?? '127.0.0.1';
  const contactPoint = `${host}:${envNumber('ALPHALAKE_CASSANDRA_PORT', 19042)}`;
  const keyspace = `alphalake_bench_reads_${process.pid}_${Date.now().toString(36)}`;
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  const t0 = (Date.UTC(2026, 0, 2, 14, 30) * 1_000) / MICROS_PER_TIME_UNIT;
  const minute = 60_000_000 / MICROS_PER_TIME_UNIT;
  const tickers = Array.from({ length: symbols }, (_, i) => `R${String(i).padStart(4, '0')}`);
  const quotes: Quote[] = tickers.flatMap((symbol, s) =>
    Array.from({ length: 10 }, (_, i) => ({
      symbol,
      ts: t0 + i * 1_000 + s,
      bidPrice: 100 + s / 100 + i / 1000,
      bidSize: 100 + i,
      askPrice: 100.01 + s / 100 + i / 1000,
      askSize: 200 + i,
    })),
  );
  const bars: Bar[] = tickers.flatMap((symbol, s) =>
    Array.from({ length: barsPerSymbol }, (_, i) => ({
      symbol,
      interval: '1m' as const,
      ts: t0 + i * minute,
      open: 100 + s,
      high: 101 + s,
      low: 99 + s,
      close: 100.5 + s + i / 100,
      volume: 1_000 + i,
      vwap: 100.25 + s,
      tradeCount: 10 + i,
    })),
  );
  const range = { from: t0, to: t0 + barsPerSymbol * minute };
  console.log(
    `speed store batched reads: ${symbols} tickers with quotes and ${barsPerSymbol} 1m bars each; ${rounds} calls per figure`,
  );
  console.log(`  Cassandra ${contactPoint}, keyspace ${keyspace}`);
  console.log(`  load average (1/5/15 min) before: ${load()}`);
  const open = (batchedReads: BatchedReads) =>
    CassandraSpeedStore.open({
      contactPoints: [contactPoint],
      localDataCenter: 'datacenter1',
      keyspace,
      replication: { class: 'SimpleStrategy', factor: 1 },
      batchedReads,
    });
  const byIn = await open('partition-in');
  const concurrent = await open('concurrent');
  const memory = new MemorySpeedStore();
  try {
    for (const store of [byIn, memory]) {
      await store.putQuotes(quotes);
      await store.upsertBars(bars);
    }
    const perTicker = (store: SpeedStore) => ({
      quotes: (some: string[]) => Promise.all(some.map((symbol) => store.latestQuote(symbol))),
      bars: (some: string[]) =>
        Promise.all(some.map((symbol) => store.bars(symbol, '1m', range, barsPerSymbol))),
    });
    const batched = (store: SpeedStore) => ({
      quotes: (some: string[]) => store.latestQuotes(some),
      bars: (some: string[]) => store.barsMany(some, '1m', range, barsPerSymbol),
    });
    const ways: [string, ReturnType<typeof batched>][] = [
      ['one call per ticker (peer)', perTicker(concurrent)],
      ['batchedReads concurrent', batched(concurrent)],
      ['batchedReads partition-in', batched(byIn)],
      ['memory store (ceiling)', batched(memory)],
    ];
    for (const read of ['quotes', 'bars'] as const) {
      for (const n of [10, 100, 500].filter((n) => n <= symbols)) {
        const some = tickers.slice(0, n);
        // Interleaved: each round times every way once, so load and order fall on all alike.
        const totals = ways.map(() => 0);
        for (const [, way] of ways) await way[read](some); // warm-up: statements prepared
        for (let round = 0; round < rounds; round++) {
          for (const [w, [, way]] of ways.entries()) {
            const start = performance.now();
            await way[read](some);
            totals[w]! += performance.now() - start;
          }
        }
        const figures: [string, number][] = ways.map(([name], w) => [name, totals[w]! / rounds]);
        const peer = figures[0]![1];
        console.log(
          `  ${read === 'quotes' ? 'latestQuotes' : 'barsMany'} of ${n} tickers: ` +
            figures
              .map(([name, ms]) => `${name} ${ms.toFixed(2)} ms (${(peer / ms).toFixed(2)}x)`)
              .join('; '),
        );
      }
    }
    console.log(`  load average (1/5/15 min) after: ${load()}`);
  } finally {
    await byIn.close();
    await concurrent.close();
    await memory.close();
    const admin = new cassandra.Client({
      contactPoints: [contactPoint],
      localDataCenter: 'datacenter1',
    });
    await admin.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
    await admin.shutdown();
  }
}

interface Timing {
  readonly seconds: number;
  /** CPU seconds this process used (user + system). */
  readonly cpu: number;
}

/** One session of trades round-robin over the symbols, µs apart, in time order. */
function makeTrades(rows: number, symbols: number): Trade[] {
  const t0 = (Date.UTC(2026, 0, 2, 14, 30) * 1_000) / MICROS_PER_TIME_UNIT;
  const step = Math.max(1, Math.floor((23_400_000 * 1_000) / MICROS_PER_TIME_UNIT / rows));
  return Array.from({ length: rows }, (_, i) => ({
    symbol: `S${String(i % symbols).padStart(4, '0')}`,
    ts: t0 + i * step,
    seq: i,
    price: 100 + ((i * 7919) % 1000) / 100,
    size: 1 + (i % 500),
    id: String(i),
    exchange: 'XNAS',
  }));
}

/** Consecutive 1-second bars per symbol, the symbols interleaved as the speed layer emits them. */
function makeBars(rows: number, symbols: number): Bar[] {
  const t0 = (Date.UTC(2026, 0, 2, 14, 30) * 1_000) / MICROS_PER_TIME_UNIT;
  const second = 1_000_000 / MICROS_PER_TIME_UNIT;
  return Array.from({ length: rows }, (_, i) => {
    const close = 100 + ((i * 7919) % 1000) / 100;
    return {
      symbol: `S${String(i % symbols).padStart(4, '0')}`,
      interval: '1s',
      ts: t0 + Math.floor(i / symbols) * second,
      open: close - 0.05,
      high: close + 0.1,
      low: close - 0.1,
      close,
      volume: 100 + (i % 900),
      vwap: close - 0.01,
      tradeCount: 1 + (i % 20),
    };
  });
}
