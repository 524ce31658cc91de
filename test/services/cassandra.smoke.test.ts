import { setTimeout as sleep } from 'node:timers/promises';
import cassandra from 'cassandra-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoints, requireService } from './endpoints.js';

describe('Cassandra (services tier)', () => {
  const keyspace = 'alphalake_smoke';
  const client = new cassandra.Client({
    contactPoints: [...endpoints.cassandra.contactPoints],
    localDataCenter: endpoints.cassandra.localDataCenter,
  });

  beforeAll(async () => {
    await requireService('cassandra');
    await client.connect();
    await client.execute(
      `CREATE KEYSPACE IF NOT EXISTS ${keyspace}
       WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
    );
    await client.execute(
      `CREATE TABLE IF NOT EXISTS ${keyspace}.bars_1s (
         symbol text, ts timestamp, close double, volume bigint,
         PRIMARY KEY ((symbol), ts)) WITH CLUSTERING ORDER BY (ts DESC)`,
    );
    await client.execute(`TRUNCATE ${keyspace}.bars_1s`);
  });

  afterAll(async () => {
    await client.shutdown();
  });

  it('inserts and selects rows in clustering order', async () => {
    const insert = `INSERT INTO ${keyspace}.bars_1s (symbol, ts, close, volume) VALUES (?, ?, ?, ?)`;
    const t0 = Date.UTC(2026, 0, 2, 14, 30);
    for (let i = 0; i < 3; i += 1) {
      await client.execute(insert, ['AAPL', new Date(t0 + i * 1000), 190 + i, 100 * (i + 1)], {
        prepare: true,
      });
    }
    const result = await client.execute(
      `SELECT ts, close, volume FROM ${keyspace}.bars_1s WHERE symbol = ?`,
      ['AAPL'],
      { prepare: true },
    );
    expect(result.rows.map((row) => row.get('close') as number)).toEqual([192, 191, 190]);
    expect(String(result.first()?.get('volume'))).toBe('300');
  });

  it('expires rows written with a TTL', async () => {
    await client.execute(
      `INSERT INTO ${keyspace}.bars_1s (symbol, ts, close, volume) VALUES (?, ?, ?, ?) USING TTL 2`,
      ['MSFT', new Date(), 410.5, 7],
      { prepare: true },
    );
    const fresh = await client.execute(
      `SELECT close, TTL(close) AS ttl FROM ${keyspace}.bars_1s WHERE symbol = ?`,
      ['MSFT'],
      { prepare: true },
    );
    expect(fresh.rowLength).toBe(1);
    const ttl = fresh.first()?.get('ttl') as number;
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(2);

    await sleep(3000);
    const expired = await client.execute(
      `SELECT close FROM ${keyspace}.bars_1s WHERE symbol = ?`,
      ['MSFT'],
      { prepare: true },
    );
    expect(expired.rowLength).toBe(0);
  });
});
