import cassandra from 'cassandra-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlphalakeError, type Bar, type Trade } from '../../src/domain/index.js';
import {
  CASSANDRA_SPEED_STORE_DEFAULTS,
  CassandraSpeedStore,
  currentThenLive,
  LiveHub,
  MICROS_PER_TIME_UNIT,
  SPEED_SCHEMA_VERSION,
  type CassandraClient,
  type CassandraSpeedStoreOptions,
} from '../../src/speed/index.js';
import { speedStoreContract, type SpeedStoreBackend } from '../contracts/speed-store.js';
import { endpoints, requireService } from './endpoints.js';

/** A keyspace of this run alone (the server is shared), dropped at the end. */
const run = `${process.pid}_${Date.now().toString(36)}`;
const contractKeyspace = `alphalake_speed_contract_${run}`;
const keyspace = `alphalake_speed_${run}`;
const made = new Set<string>();

const options = (
  overrides: Partial<CassandraSpeedStoreOptions> = {},
): CassandraSpeedStoreOptions => {
  const chosen = overrides.keyspace ?? keyspace;
  made.add(chosen);
  return {
    contactPoints: endpoints.cassandra.contactPoints,
    localDataCenter: endpoints.cassandra.localDataCenter,
    keyspace: chosen,
    replication: { class: 'SimpleStrategy', factor: 1 },
    ...overrides,
  };
};

const admin = new cassandra.Client({
  contactPoints: [...endpoints.cassandra.contactPoints],
  localDataCenter: endpoints.cassandra.localDataCenter,
});

async function dropKeyspaces(): Promise<void> {
  for (const name of made) await admin.execute(`DROP KEYSPACE IF EXISTS ${name}`);
  made.clear();
}

/** Both ways of reading many tickers (`batchedReads`), each in a keyspace of its own. */
const BACKENDS: readonly SpeedStoreBackend[] = (['concurrent', 'partition-in'] as const).map(
  (batchedReads) => ({
    name: `cassandra (batchedReads ${batchedReads})`,
    open: () =>
      CassandraSpeedStore.open(
        options({ keyspace: `${contractKeyspace}_${batchedReads[0]}`, batchedReads }),
      ),
    openExpiring: (seconds) =>
      CassandraSpeedStore.open(
        options({
          keyspace: `${contractKeyspace}_${batchedReads[0]}`,
          batchedReads,
          ttlSeconds: seconds,
        }),
      ),
  }),
);

beforeAll(async () => {
  await requireService('cassandra');
  await admin.connect();
});

afterAll(async () => {
  await dropKeyspaces();
  await admin.shutdown();
});

speedStoreContract(BACKENDS);

const T0_MS = Date.UTC(2026, 0, 2, 14, 30) + 123;
const T0 = (T0_MS * 1_000) / MICROS_PER_TIME_UNIT;
const trade = (symbol: string, offset: number, id: string): Trade => ({
  symbol,
  ts: T0 + offset,
  seq: offset,
  price: 190.25,
  size: 100,
  id,
  exchange: 'XNAS',
});

describe('Cassandra speed store (services tier)', () => {
  let store: CassandraSpeedStore;

  beforeAll(async () => {
    store = await CassandraSpeedStore.open(options());
  });

  afterAll(async () => {
    await store?.close();
  });

  it('holds time as bigint epoch microseconds in (symbol, day) partitions', async () => {
    await store.appendTrades([trade('RAW', 0, 'raw-1')]);
    const columns = await admin.execute(
      `SELECT column_name, type, kind FROM system_schema.columns WHERE keyspace_name = ? AND table_name = 'trades'`,
      [keyspace],
    );
    const described = Object.fromEntries(
      columns.rows.map((row) => [row.get('column_name'), `${row.get('kind')} ${row.get('type')}`]),
    );
    expect(described).toMatchObject({
      symbol: 'partition_key text',
      day: 'partition_key int',
      ts: 'clustering bigint',
      id: 'clustering text',
    });
    const day = Math.floor(T0_MS / 86_400_000);
    const raw = await admin.execute(
      `SELECT ts FROM ${keyspace}.trades WHERE symbol = ? AND day = ?`,
      ['RAW', day],
      { prepare: true },
    );
    expect(raw.rows.map((row) => String(row.get('ts')))).toEqual([String(BigInt(T0_MS) * 1000n)]);
  });

  it('writes every row with the TTL, by default two days', async () => {
    expect(CASSANDRA_SPEED_STORE_DEFAULTS.ttlSeconds).toBe(2 * 24 * 3600);
    await store.appendTrades([trade('TTL', 0, 'ttl-1')]);
    const day = Math.floor(T0_MS / 86_400_000);
    const result = await admin.execute(
      `SELECT TTL(price) AS ttl FROM ${keyspace}.trades WHERE symbol = ? AND day = ?`,
      ['TTL', day],
      { prepare: true },
    );
    const ttl = result.first().get('ttl') as number;
    expect(ttl).toBeGreaterThan(2 * 24 * 3600 - 600);
    expect(ttl).toBeLessThanOrEqual(2 * 24 * 3600);
  });

  it('notes its schema version, reopens an existing keyspace, refuses another version', async () => {
    const noted = await admin.execute(
      `SELECT version FROM ${keyspace}.schema_version WHERE component = 'speed-store'`,
    );
    expect(noted.first().get('version')).toBe(SPEED_SCHEMA_VERSION);
    const again = await CassandraSpeedStore.open(options());
    expect(await again.trades('RAW', { from: T0, to: T0 + 1 }, 10)).toHaveLength(1);
    await again.close();

    const future = `alphalake_speed_future_${run}`;
    const first = await CassandraSpeedStore.open(options({ keyspace: future }));
    await first.close();
    await admin.execute(
      `UPDATE ${future}.schema_version SET version = ? WHERE component = 'speed-store'`,
      [SPEED_SCHEMA_VERSION + 1],
      { prepare: true },
    );
    const refused = await CassandraSpeedStore.open(options({ keyspace: future })).catch(
      (error: unknown) => error,
    );
    expect(isAlphalakeError(refused, 'SCHEMA_MISMATCH')).toBe(true);
  });

  it('keeps at most maxInFlight requests in flight, and loses no row', async () => {
    const client = new cassandra.Client({
      contactPoints: [...endpoints.cassandra.contactPoints],
      localDataCenter: endpoints.cassandra.localDataCenter,
    });
    let inFlight = 0;
    let peak = 0;
    const counted = <T>(request: Promise<T>): Promise<T> => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      return request.finally(() => (inFlight -= 1));
    };
    // The real client, with its in-flight requests counted.
    const counting: CassandraClient = {
      connect: () => client.connect(),
      execute: (query, params, queryOptions) =>
        counted(client.execute(query, params, queryOptions)),
      batch: (queries, queryOptions) => counted(client.batch(queries, queryOptions)),
      shutdown: () => client.shutdown(),
    };
    const limited = await CassandraSpeedStore.open(
      options({ client: () => counting, maxInFlight: 3, rowsPerBatch: 5 }),
    );
    try {
      const symbols = Array.from({ length: 20 }, (_, i) => `INF${i}`);
      const trades = symbols.flatMap((symbol) =>
        Array.from({ length: 40 }, (_, i) => trade(symbol, i, `${symbol}-${i}`)),
      );
      peak = 0;
      await Promise.all([
        limited.appendTrades(trades.slice(0, 400)),
        limited.appendTrades(trades.slice(400)),
      ]);
      expect(peak).toBeGreaterThan(1);
      expect(peak).toBeLessThanOrEqual(3);
      for (const symbol of symbols) {
        expect(await limited.trades(symbol, { from: T0, to: T0 + 1_000 }, 100)).toEqual(
          trades.filter((t) => t.symbol === symbol),
        );
      }
    } finally {
      await limited.close();
    }
  });

  it('refuses a time it cannot hold exactly, before writing anything', async () => {
    const error = await store
      .appendTrades([trade('BIG', 0, 'ok'), { ...trade('BIG', 0, 'huge'), ts: 2 ** 60 }])
      .catch((e: unknown) => e);
    expect(isAlphalakeError(error, 'BAD_USER_INPUT')).toBe(true);
    expect(await store.trades('BIG', { from: T0 - 1, to: T0 + 1 }, 10)).toEqual([]);
  });

  it("gives a new live subscriber Cassandra's current bar, then the hub's updates", async () => {
    const start = T0 - (T0 % ((60_000 * 1_000) / MICROS_PER_TIME_UNIT));
    const minute = (tradeCount: number, close: number): Bar => ({
      symbol: 'LIVE',
      interval: '1m',
      ts: start,
      open: 190,
      high: 192,
      low: 189,
      close,
      volume: 10 * tradeCount,
      vwap: 190.5,
      tradeCount,
    });
    await store.upsertBars([minute(4, 191)]);
    const hub = new LiveHub();
    const bars = currentThenLive(hub, ['LIVE'], (symbol) => store.currentBar(symbol, '1m'));
    hub.publish('bar', [minute(4, 191), minute(5, 191.5)]);
    expect((await bars.next()).value).toEqual(minute(4, 191));
    expect((await bars.next()).value).toEqual(minute(5, 191.5));
    await bars.return?.();
  });

  it('says UNAVAILABLE, naming the address, when Cassandra is not there', async () => {
    const error = await CassandraSpeedStore.open(
      options({ contactPoints: ['127.0.0.1:1'], keyspace: 'alphalake_never_made' }),
    ).catch((e: unknown) => e);
    made.delete('alphalake_never_made');
    expect(isAlphalakeError(error, 'UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toContain('127.0.0.1:1');
  });
});
