import { describe, expect, it } from 'vitest';
import { isAlphalakeError } from '../../../src/domain/index.js';
import { CassandraSpeedStore, type CassandraSpeedStoreOptions } from '../../../src/speed/index.js';

/** Options are checked before any connection is made, so these need no server. */
describe('Cassandra speed store options', () => {
  const base: CassandraSpeedStoreOptions = { contactPoints: ['127.0.0.1:1'] };
  const refused: [string, CassandraSpeedStoreOptions, string][] = [
    ['a keyspace that is not a CQL identifier', { ...base, keyspace: 'speed-store' }, 'keyspace'],
    ['a keyspace that could inject CQL', { ...base, keyspace: 'ks; DROP KEYSPACE x' }, 'keyspace'],
    ['a data centre with a quote', { ...base, localDataCenter: "dc1'" }, 'localDataCenter'],
    [
      'an unknown replication class',
      { ...base, replication: { class: 'Everywhere' as 'SimpleStrategy', factor: 1 } },
      'replication.class',
    ],
    [
      'a replication factor of 0',
      { ...base, replication: { class: 'SimpleStrategy', factor: 0 } },
      'replication.factor',
    ],
    ['a TTL of 0', { ...base, ttlSeconds: 0 }, 'ttlSeconds'],
    ['a fractional TTL', { ...base, ttlSeconds: 1.5 }, 'ttlSeconds'],
    ['no requests in flight', { ...base, maxInFlight: 0 }, 'maxInFlight'],
    ['a reconnect cap under the first delay', { ...base, reconnectMaxMs: 999 }, 'reconnectMaxMs'],
    ['no contact points and no client', { contactPoints: [] }, 'contactPoints'],
  ];
  for (const [what, options, option] of refused) {
    it(`refuses ${what} with BAD_USER_INPUT naming ${option}`, async () => {
      const error = await CassandraSpeedStore.open(options).catch((e: unknown) => e);
      expect(isAlphalakeError(error, 'BAD_USER_INPUT')).toBe(true);
      expect((error as Error).message).toContain(`option ${option}=`);
    });
  }
});
