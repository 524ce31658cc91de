import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  configWith,
  describeProfile,
  loadConfig,
  profileSummary,
  SETTINGS,
} from '../../../src/config/index.js';
import { isAlphalakeError } from '../../../src/domain/index.js';

/** The error loadConfig throws for this environment (fails the test if it throws none). */
function refusal(env: Record<string, string>): Error & { code?: string } {
  try {
    loadConfig(env);
  } catch (error) {
    expect(isAlphalakeError(error, 'BAD_USER_INPUT')).toBe(true);
    return error as Error;
  }
  return expect.unreachable(`loadConfig accepted ${JSON.stringify(env)}`);
}

const DISTRIBUTED = {
  ALPHALAKE_HOME: '/var/lib/alphalake',
  KAFKA_BROKERS: 'kafka-1:9092, kafka-2:9092,kafka-1:9092',
  KAFKA_CLIENT_ID: 'alphalake-api',
  KAFKA_SESSION_TIMEOUT_MS: '20000',
  CASSANDRA_CONTACT_POINTS: 'cassandra-1,cassandra-2:9142',
  CASSANDRA_LOCAL_DC: 'dc1',
  CASSANDRA_KEYSPACE: 'Market_Data',
  CASSANDRA_REPLICATION: 'NetworkTopologyStrategy:dc1=3, dc2=2',
  LAKE_URI: 's3://alphalake/prod/lake/',
  LAKE_CACHE_BYTES: '512MiB',
  S3_ENDPOINT: 'http://minio:9000',
  S3_FORCE_PATH_STYLE: 'true',
  MONGODB_URI: 'mongodb://lake:s3cret@mongo-1:27017,mongo-2:27017/alphalake?replicaSet=rs0',
  ALPHALAKE_ROLE: 'api',
};

describe('config', () => {
  it('has documented defaults and is frozen', () => {
    const config = loadConfig({});
    expect(config.port).toBe(4000);
    expect(config.simulatorSymbols).toEqual(['AAPL', 'AMZN', 'GOOGL', 'MSFT', 'NVDA', 'TSLA']);
    expect(config.simulatorCalendar).toBe('24x7');
    expect(config.roles).toEqual(['api', 'sink', 'speed', 'ingest']);
    expect(config.speedTtlSeconds).toBe(2 * 24 * 60 * 60);
    expect(config.lakeCacheBytes).toBe(10 * 1024 ** 3);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('parses overrides', () => {
    const config = loadConfig({
      PORT: '4100',
      SIM_SYMBOLS: 'spy, qqq',
      SIM_CALENDAR: 'nyse',
      SIM_ENABLED: 'false',
    });
    expect([
      config.port,
      config.simulatorSymbols,
      config.simulatorCalendar,
      config.simulatorEnabled,
    ]).toEqual([4100, ['SPY', 'QQQ'], 'nyse', false]);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['SIM_CALENDAR', 'lse'],
    ['SIM_ENABLED', 'maybe'],
    ['SIM_SYMBOLS', ' , '],
    ['SIM_TRADES_PER_SECOND', '-1'],
    ['ALPHALAKE_ROLE', 'worker'],
    ['ALPHALAKE_ROLE', 'api,,bogus'],
    ['ALPHALAKE_ROLE', ' , '],
    ['KAFKA_BROKERS', 'localhost'],
    ['KAFKA_BROKERS', 'localhost:0'],
    ['KAFKA_BROKERS', 'localhost:65536'],
    ['KAFKA_BROKERS', 'kafka:9092,bad host:9092'],
    ['KAFKA_BROKERS', 'PLAINTEXT://kafka:9092'],
    ['KAFKA_BROKERS', ' , '],
    ['KAFKA_CLIENT_ID', 'alpha lake'],
    ['KAFKA_TOPIC_PREFIX', 'alphalake/'],
    ['KAFKA_TOPIC_PREFIX', 'x'.repeat(243)],
    ['KAFKA_PARTITIONS', '0'],
    ['KAFKA_PARTITIONS', '1.5'],
    ['KAFKA_PARTITIONS', ' '],
    ['KAFKA_REPLICATION_FACTOR', '0'],
    ['KAFKA_REPLICATION_FACTOR', '-1'],
    ['KAFKA_COMPRESSION', 'brotli'],
    ['KAFKA_COMPRESSION', 'GZIP'],
    ['KAFKA_RETRY_MAX_MS', '0'],
    ['KAFKA_RETRY_MAX_MS', '1.5'],
    ['KAFKA_SESSION_TIMEOUT_MS', '999'],
    ['CASSANDRA_CONTACT_POINTS', 'cassandra:cql'],
    ['CASSANDRA_CONTACT_POINTS', 'cassandra:9042:1'],
    ['CASSANDRA_LOCAL_DC', 'dc 1'],
    ['CASSANDRA_KEYSPACE', '1alphalake'],
    ['CASSANDRA_KEYSPACE', 'alpha-lake'],
    ['CASSANDRA_KEYSPACE', 'k'.repeat(49)],
    ['CASSANDRA_REPLICATION', 'SimpleStrategy'],
    ['CASSANDRA_REPLICATION', 'SimpleStrategy:0'],
    ['CASSANDRA_REPLICATION', 'SimpleStrategy:1.5'],
    ['CASSANDRA_REPLICATION', 'SimpleStrategy:1:2'],
    ['CASSANDRA_REPLICATION', 'NetworkTopologyStrategy:'],
    ['CASSANDRA_REPLICATION', 'NetworkTopologyStrategy:datacenter1'],
    ['CASSANDRA_REPLICATION', 'NetworkTopologyStrategy:datacenter1=3,datacenter1=2'],
    ['CASSANDRA_REPLICATION', 'NetworkTopologyStrategy:datacenter1=3=4'],
    ['CASSANDRA_REPLICATION', 'EverywhereStrategy:1'],
    ['SPEED_TTL_SECONDS', '59'],
    ['SPEED_TTL_SECONDS', '630720001'],
    ['SPEED_TTL_SECONDS', '2d'],
    ['LAKE_URI', 'gs://bucket/lake'],
    ['LAKE_URI', 's3://'],
    ['LAKE_URI', 's3:///lake'],
    ['LAKE_URI', 's3://Alphalake/lake'],
    ['LAKE_URI', 's3://ab/lake'],
    ['LAKE_URI', 's3://alpha..lake/lake'],
    ['LAKE_URI', 's3://alphalake/a//b'],
    ['LAKE_URI', 's3://alphalake/a/../b'],
    ['LAKE_URI', 'file://relative/lake'],
    ['LAKE_CACHE_BYTES', 'ten'],
    ['LAKE_CACHE_BYTES', '1KiB'],
    ['LAKE_CACHE_BYTES', '10 parsecs'],
    ['LAKE_CACHE_BYTES', '-1GiB'],
    ['LAKE_CACHE_BYTES', '1e12'],
    ['MONGODB_URI', 'postgres://db:5432/alphalake'],
    ['MONGODB_URI', 'mongodb://'],
  ])('refuses %s=%s naming the variable', (env, value) => {
    const error = refusal({ [env]: value });
    expect(error.message).toContain(`${env}=${JSON.stringify(value)} is invalid`);
  });

  it('keeps a MongoDB password out of its error message', () => {
    const error = refusal({ MONGODB_URI: 'mongodb://lake:s3cret@mongo:27017/db?x y' });
    expect(error.message).toContain('MONGODB_URI="mongodb://***@mongo:27017/db?x y" is invalid');
    expect(error.message).not.toContain('s3cret');
  });

  it('picks every backend in-process or local when nothing is set: the embedded profile', () => {
    const config = loadConfig({ ALPHALAKE_HOME: '/srv/alphalake' });
    expect(config.profile).toEqual({
      kind: 'embedded',
      bus: { backend: 'memory' },
      speedStore: { backend: 'memory', retentionMinutes: 120 },
      lake: { backend: 'local', root: '/srv/alphalake/lake' },
      mdm: { backend: 'embedded', dir: '/srv/alphalake/mdm' },
      jobs: { backend: 'embedded', folder: '/srv/alphalake/jobs' },
    });
  });

  it('picks Kafka, Cassandra, S3 and MongoDB from their variables: the distributed profile', () => {
    const config = loadConfig(DISTRIBUTED);
    expect(config.roles).toEqual(['api']);
    expect(config.profile).toEqual({
      kind: 'distributed',
      bus: {
        backend: 'kafka',
        brokers: ['kafka-1:9092', 'kafka-2:9092'],
        clientId: 'alphalake-api',
        topics: {
          trades: 'alphalake.trades',
          quotes: 'alphalake.quotes',
          bars: 'alphalake.bars',
          news: 'alphalake.news',
          rejects: 'alphalake.rejects',
        },
        partitions: 6,
        replicationFactor: 1,
        compression: 'none',
        retryMaxMs: 1000,
        sessionTimeoutMs: 20_000,
      },
      speedStore: {
        backend: 'cassandra',
        contactPoints: ['cassandra-1', 'cassandra-2:9142'],
        localDataCenter: 'dc1',
        keyspace: 'market_data',
        replication: { class: 'NetworkTopologyStrategy', dc1: 3, dc2: 2 },
        ttlSeconds: 172800,
        reconnectMaxMs: 2000,
      },
      lake: {
        backend: 's3',
        bucket: 'alphalake',
        prefix: 'prod/lake',
        endpoint: 'http://minio:9000',
        region: 'us-east-1',
        forcePathStyle: true,
        cacheDir: '/var/lib/alphalake/cache',
        cacheMaxBytes: 512 * 1024 ** 2,
      },
      mdm: {
        backend: 'mongodb',
        uri: 'mongodb://lake:s3cret@mongo-1:27017,mongo-2:27017/alphalake?replicaSet=rs0',
      },
      jobs: {
        backend: 'mongodb',
        uri: 'mongodb://lake:s3cret@mongo-1:27017,mongo-2:27017/alphalake?replicaSet=rs0',
      },
    });
    expect(Object.isFrozen(config.profile.bus)).toBe(true);
    expect(
      config.profile.bus.backend === 'kafka' && Object.isFrozen(config.profile.bus.topics),
    ).toBe(true);
  });

  it('chooses each backend independently: a mixed profile', () => {
    const profile = loadConfig({
      KAFKA_BROKERS: '127.0.0.1:19092',
      KAFKA_TOPIC_PREFIX: 'staging_',
    }).profile;
    expect(profile.kind).toBe('mixed');
    expect(profile.bus.backend === 'kafka' && profile.bus.topics.rejects).toBe('staging_rejects');
    expect([profile.speedStore.backend, profile.lake.backend, profile.mdm.backend]).toEqual([
      'memory',
      'local',
      'embedded',
    ]);
  });

  it.each([
    ['s3://alphalake', { backend: 's3', bucket: 'alphalake', prefix: '' }],
    ['s3a://alpha.lake-1/tables', { backend: 's3', bucket: 'alpha.lake-1', prefix: 'tables' }],
    ['file:///mnt/lake%20one', { backend: 'local', root: '/mnt/lake one' }],
    ['/mnt/lake/', { backend: 'local', root: '/mnt/lake' }],
    ['lake', { backend: 'local', root: path.resolve('lake') }],
  ])('reads LAKE_URI=%s', (uri, expected) => {
    const { lake } = loadConfig({ LAKE_URI: uri }).profile;
    const { backend } = lake;
    const slice =
      lake.backend === 's3'
        ? { backend, bucket: lake.bucket, prefix: lake.prefix }
        : { backend, root: lake.root };
    expect(slice).toEqual(expected);
  });

  it.each([
    ['16777216', 16 * 1024 ** 2],
    ['512MiB', 512 * 1024 ** 2],
    ['1.5 GiB', 1.5 * 1024 ** 3],
    ['2GB', 2e9],
    ['1tib', 1024 ** 4],
  ])('reads LAKE_CACHE_BYTES=%s', (raw, bytes) => {
    expect(loadConfig({ LAKE_CACHE_BYTES: raw }).lakeCacheBytes).toBe(bytes);
  });

  it.each([
    ['all', ['api', 'sink', 'speed', 'ingest']],
    ['ingest, sink', ['sink', 'ingest']],
    ['speed,all', ['api', 'sink', 'speed', 'ingest']],
  ])('reads ALPHALAKE_ROLE=%s in a fixed order', (raw, roles) => {
    const env = { ALPHALAKE_ROLE: raw, KAFKA_BROKERS: 'kafka:9092' };
    expect(loadConfig(env).roles).toEqual(roles);
  });

  it('reads IPv6 brokers and contact points in brackets', () => {
    const config = loadConfig({
      KAFKA_BROKERS: '[::1]:9092',
      CASSANDRA_CONTACT_POINTS: '[fe80::1]',
    });
    expect([config.kafkaBrokers, config.cassandraContactPoints]).toEqual([
      ['[::1]:9092'],
      ['[fe80::1]'],
    ]);
  });

  it.each([
    [{ ALPHALAKE_ROLE: 'sink' }, ['ALPHALAKE_ROLE=sink', 'KAFKA_BROKERS']],
    [
      { ALPHALAKE_ROLE: 'api', KAFKA_BROKERS: 'kafka:9092' },
      ['ALPHALAKE_ROLE=api', 'CASSANDRA_CONTACT_POINTS'],
    ],
    [
      { ALPHALAKE_ROLE: 'speed,sink', KAFKA_BROKERS: 'kafka:9092' },
      ['ALPHALAKE_ROLE=sink,speed', 'CASSANDRA_CONTACT_POINTS'],
    ],
    [
      { CASSANDRA_REPLICATION: 'NetworkTopologyStrategy:dc1=3' },
      ['CASSANDRA_REPLICATION', 'CASSANDRA_LOCAL_DC=datacenter1'],
    ],
  ])('refuses settings that contradict each other: %j', (env, named) => {
    const error = refusal(env);
    for (const name of named) expect(error.message).toContain(name);
  });

  it('runs roles apart once the bus and the speed store are shared', () => {
    const shared = { KAFKA_BROKERS: 'kafka:9092', CASSANDRA_CONTACT_POINTS: 'cassandra' };
    for (const role of ['api', 'sink', 'speed', 'ingest', 'api,speed']) {
      expect(loadConfig({ ...shared, ALPHALAKE_ROLE: role }).roles.join(',')).toBe(role);
    }
    // api and speed together share the in-process speed store; sink alone needs only Kafka.
    expect(loadConfig({ KAFKA_BROKERS: 'kafka:9092', ALPHALAKE_ROLE: 'api,speed' }).roles).toEqual([
      'api',
      'speed',
    ]);
    expect(loadConfig({ KAFKA_BROKERS: 'kafka:9092', ALPHALAKE_ROLE: 'sink' }).roles).toEqual([
      'sink',
    ]);
  });

  it('describes the profile for /readyz and logs without credentials', () => {
    const { profile } = loadConfig(DISTRIBUTED);
    expect(describeProfile(profile)).toEqual({
      kind: 'distributed',
      backends: {
        bus: {
          backend: 'kafka',
          location: 'kafka-1:9092,kafka-2:9092 (topics alphalake.trades, …)',
        },
        speedStore: {
          backend: 'cassandra',
          location: 'cassandra-1,cassandra-2:9142 (data centre dc1, keyspace market_data)',
        },
        lake: { backend: 's3', location: 's3://alphalake/prod/lake at http://minio:9000' },
        mdm: {
          backend: 'mongodb',
          location: 'mongodb://***@mongo-1:27017,mongo-2:27017/alphalake?replicaSet=rs0',
        },
        jobs: {
          backend: 'mongodb',
          location: 'mongodb://***@mongo-1:27017,mongo-2:27017/alphalake?replicaSet=rs0',
        },
      },
    });
    expect(profileSummary(loadConfig({ ALPHALAKE_HOME: '/srv/a' }).profile)).toBe(
      'embedded: bus=memory(in-process) speedStore=memory(in-process) lake=local(/srv/a/lake) mdm=embedded(/srv/a/mdm) jobs=embedded(/srv/a/jobs)',
    );
  });

  it('derives the profile again when configWith overrides a setting', () => {
    const config = configWith({ home: '/tmp/alphalake-x', kafkaBrokers: ['127.0.0.1:19092'] });
    expect(config.profile.lake).toEqual({ backend: 'local', root: '/tmp/alphalake-x/lake' });
    expect(config.profile.bus.backend).toBe('kafka');
    expect(() => configWith({ roles: ['sink'] })).toThrow(/KAFKA_BROKERS/);
  });

  it('matches the configuration table in the README, name for name and default for default', () => {
    const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');
    const section = readme.split(/^## Configuration$/m)[1]?.split(/^## /m)[0] ?? '';
    const rows = [...section.matchAll(/^\| `([A-Z0-9_]+)` \| `([^`]*)` \|/gm)].map((m) => [
      m[1],
      m[2],
    ]);
    const expected = Object.values(SETTINGS).map((s) => [s.env, s.default]);
    expect(rows).toEqual(expected);
  });
});
