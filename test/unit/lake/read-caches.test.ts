import { describe, expect, it } from 'vitest';
import {
  configureDuckDB,
  DEFAULT_DUCKDB_POOL,
  DeltaTable,
  duckdbPoolStats,
  QueryCache,
  type ObjectStore,
} from '../../../src/lake/index.js';
import { TRADE_SCHEMA, trades, useTempStore } from './helpers.js';

/**
 * The read path's sharing: one snapshot per table version for every reader, a cheap
 * check for commits by other processes, a byte-bounded cache of results per version,
 * and a bounded pool of DuckDB connections. No timings: what is asserted is what each
 * reader sees and what the store was asked.
 */

/** The real store, with its calls counted (HEAD of one key, LIST of the log). */
function counting(store: ObjectStore): ObjectStore & { heads: number; lists: number } {
  const counted = Object.create(store) as ObjectStore & { heads: number; lists: number };
  counted.heads = 0;
  counted.lists = 0;
  counted.head = (key, signal) => {
    counted.heads++;
    return store.head(key, signal);
  };
  counted.list = (prefix, signal) => {
    counted.lists++;
    return store.list(prefix, signal);
  };
  return counted;
}

const DAY = '2024-01-02';
const FILTERS = [
  { column: 'symbol', op: '=' as const, value: 'AAPL' },
  { column: 'date', op: '=' as const, value: DAY },
];

describe('shared snapshots', () => {
  const temp = useTempStore();

  async function create(store: ObjectStore, refreshIntervalMs: number): Promise<DeltaTable> {
    return DeltaTable.create(store, 'trades', {
      schema: TRADE_SCHEMA,
      partitionColumns: ['date'],
      read: { refreshIntervalMs },
    });
  }

  it('serves one snapshot object to every reader while no newer commit exists', async () => {
    const store = counting(temp.store);
    const table = await create(store, 0);
    await table.append(trades('AAPL', DAY, 10));
    const first = await table.snapshot();
    const listsBefore = store.lists;
    const again = await Promise.all([table.snapshot(), table.snapshot(), table.snapshot()]);
    for (const snapshot of again) expect(snapshot).toBe(first);
    // Nothing new: a check of the next commit's key, never a listing of the log.
    expect(store.lists).toBe(listsBefore);
  });

  it('lets concurrent readers share one check for a newer commit', async () => {
    const store = counting(temp.store);
    const table = await create(store, 0);
    const headsBefore = store.heads;
    await Promise.all(Array.from({ length: 10 }, () => table.snapshot()));
    expect(store.heads - headsBefore).toBe(1);
  });

  it('sees a commit made through the same table at once, whatever the refresh interval', async () => {
    const table = await create(temp.store, 3_600_000);
    const before = await table.snapshot();
    const { version } = await table.append(trades('AAPL', DAY, 10));
    const after = await table.snapshot();
    expect(after.version).toBe(version);
    expect(after.version).toBe(before.version + 1);
    const result = await table.query({ filters: FILTERS });
    expect(result.rows).toHaveLength(10);
  });

  it('sees a commit by another process on the next check (refresh interval 0)', async () => {
    const reader = await create(temp.store, 0);
    expect((await reader.query({ filters: FILTERS })).rows).toHaveLength(0);
    const writer = await DeltaTable.open(temp.store, 'trades');
    await writer.append(trades('AAPL', DAY, 7));
    const snapshot = await reader.snapshot();
    expect(snapshot.version).toBe(1);
    expect((await reader.query({ filters: FILTERS })).rows).toHaveLength(7);
  });

  it('within the refresh interval serves the snapshot it has, without asking the store', async () => {
    const store = counting(temp.store);
    const reader = await create(store, 3_600_000);
    const held = await reader.snapshot();
    const writer = await DeltaTable.open(temp.store, 'trades');
    await writer.append(trades('AAPL', DAY, 7));
    const calls = store.heads + store.lists;
    expect(await reader.snapshot()).toBe(held);
    expect(store.heads + store.lists).toBe(calls);
    // A writer always checks: its commit is based on the newest version.
    const { version } = await reader.append(trades('AAPL', DAY, 3, 100));
    expect(version).toBe(2);
    expect((await reader.query({ filters: FILTERS })).rows).toHaveLength(10);
  });
});

describe('query cache', () => {
  const temp = useTempStore();

  async function tables(cache: QueryCache): Promise<{ cached: DeltaTable; fresh: DeltaTable }> {
    const cached = await DeltaTable.create(temp.store, 'trades', {
      schema: TRADE_SCHEMA,
      partitionColumns: ['date'],
      read: { queryCache: cache },
    });
    const fresh = await DeltaTable.open(temp.store, 'trades');
    return { cached, fresh };
  }

  it('answers a repeated query from the cache, equal to a fresh read', async () => {
    const cache = new QueryCache({ maxBytes: 1 << 20 });
    const { cached, fresh } = await tables(cache);
    await cached.append([...trades('AAPL', DAY, 50), ...trades('MSFT', DAY, 20, 1000)]);
    const options = { filters: FILTERS, orderBy: [{ column: 'ts' }] };
    const first = await cached.queryColumns(options);
    const second = await cached.queryColumns(options);
    expect(second).toBe(first);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, entries: 1 });
    expect(second).toEqual(await fresh.queryColumns(options));
    expect((await cached.query(options)).rows).toEqual((await fresh.query(options)).rows);
  });

  it('keys results by table version: a new commit is seen', async () => {
    const cache = new QueryCache({ maxBytes: 1 << 20 });
    const { cached } = await tables(cache);
    await cached.append(trades('AAPL', DAY, 5));
    expect((await cached.queryColumns({ filters: FILTERS })).length).toBe(5);
    await cached.append(trades('AAPL', DAY, 4, 500));
    expect((await cached.queryColumns({ filters: FILTERS })).length).toBe(9);
    // The old version's answer is still the old version's answer (time travel).
    const old = await cached.snapshot({ version: 1 });
    expect((await cached.queryColumns({ snapshot: old, filters: FILTERS })).length).toBe(5);
  });

  it('shares one query among concurrent misses of the same key', async () => {
    const cache = new QueryCache({ maxBytes: 1 << 20 });
    const { cached } = await tables(cache);
    await cached.append(trades('AAPL', DAY, 30));
    const results = await Promise.all(
      Array.from({ length: 5 }, () => cached.queryColumns({ filters: FILTERS })),
    );
    for (const result of results) expect(result).toBe(results[0]);
    expect(cache.stats().misses).toBe(1);
  });

  it('holds its bound in bytes, dropping the least recently used results', async () => {
    const cache = new QueryCache({ maxBytes: 16 * 1024 });
    const { cached, fresh } = await tables(cache);
    await cached.append(trades('AAPL', DAY, 200));
    for (let limit = 1; limit <= 120; limit++) {
      const result = await cached.queryColumns({ filters: FILTERS, limit });
      expect(result.length).toBe(limit);
      expect(cache.stats().bytes).toBeLessThanOrEqual(16 * 1024);
    }
    const stats = cache.stats();
    expect(stats.entries).toBeGreaterThan(0);
    expect(stats.entries).toBeLessThan(120);
    // An evicted result is computed again, equal to a fresh read.
    const again = await cached.queryColumns({ filters: FILTERS, limit: 1 });
    expect(again).toEqual(await fresh.queryColumns({ filters: FILTERS, limit: 1 }));
  });

  it('does not keep a result larger than its bound', async () => {
    const cache = new QueryCache({ maxBytes: 512 });
    const { cached } = await tables(cache);
    await cached.append(trades('AAPL', DAY, 200));
    expect((await cached.queryColumns({ filters: FILTERS })).length).toBe(200);
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0 });
  });
});

describe('DuckDB pool', () => {
  const temp = useTempStore();

  it('runs at most maxConnections statements at once; the others wait their turn', async () => {
    const table = await DeltaTable.create(temp.store, 'trades', {
      schema: TRADE_SCHEMA,
      partitionColumns: ['date'],
    });
    await table.append(trades('AAPL', DAY, 100));
    const snapshot = await table.snapshot();
    configureDuckDB({ maxConnections: 1 });
    try {
      let done = false;
      const reads = Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          table.queryColumns({ snapshot, filters: FILTERS, limit: i + 1 }),
        ),
      ).finally(() => (done = true));
      let peakBusy = 0;
      while (!done) {
        peakBusy = Math.max(peakBusy, duckdbPoolStats().busy);
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(peakBusy).toBe(1);
      const results = await reads;
      expect(results.map((r) => r.length)).toEqual([1, 2, 3, 4, 5]);
      expect(duckdbPoolStats()).toMatchObject({ busy: 0, waiting: 0 });
    } finally {
      configureDuckDB(DEFAULT_DUCKDB_POOL);
    }
  });
});
