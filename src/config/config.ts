import path from 'node:path';
import { AlphalakeError } from '../domain/index.js';
import {
  boolean,
  brokerList,
  byteSize,
  cassandraReplication,
  clientId,
  contactPointList,
  dataCenterName,
  integer,
  keyspaceName,
  lakeLocation,
  mongoUri,
  oneOf,
  optional,
  optionalText,
  positiveNumber,
  symbolList,
  text,
  topicPrefix,
  url,
} from './parsers.js';
import { BUS_TOPICS, deriveProfile, type Profile } from './profile.js';
import { ROLES, roleList } from './roles.js';

/**
 * Every setting alphalake reads from the environment, in one list. The README's
 * configuration table is checked against this list by a test, so a setting that is
 * added here without documentation fails the build.
 */
export interface Setting<T> {
  readonly env: string;
  readonly default: string;
  readonly description: string;
  readonly parse: (raw: string, env: string) => T;
}

export const SETTINGS = {
  home: {
    env: 'ALPHALAKE_HOME',
    default: './data',
    description:
      'Folder for local state: the Delta Lake tables under `lake/` (unless `LAKE_URI` names another place) and the cache of S3 objects under `cache/`.',
    parse: (raw: string) => path.resolve(raw),
  },
  host: {
    env: 'HOST',
    default: '127.0.0.1',
    description: 'Interface the HTTP/WebSocket server binds (`0.0.0.0` in containers).',
    parse: text,
  },
  port: {
    env: 'PORT',
    default: '4000',
    description: 'Port of GraphQL (HTTP and WebSocket), GraphiQL and `/healthz`.',
    parse: integer(0, 65535),
  },
  environment: {
    env: 'NODE_ENV',
    default: 'production',
    description:
      '`development` shows internal error messages to clients; anything else masks them.',
    parse: text,
  },
  simulatorEnabled: {
    env: 'SIM_ENABLED',
    default: 'true',
    description: 'Run the market simulator as a live source.',
    parse: boolean,
  },
  simulatorSeed: {
    env: 'SIM_SEED',
    default: '42',
    description: 'Seed of the simulator: the same seed gives the same market, tick for tick.',
    parse: integer(0, 2 ** 31 - 1),
  },
  simulatorSymbols: {
    env: 'SIM_SYMBOLS',
    default: 'AAPL,AMZN,GOOGL,MSFT,NVDA,TSLA',
    description: 'Comma-separated symbols the simulator trades.',
    parse: symbolList,
  },
  simulatorCalendar: {
    env: 'SIM_CALENDAR',
    default: '24x7',
    description:
      '`24x7`: trade around the clock, one session per UTC day; `nyse`: NYSE hours and holidays.',
    parse: oneOf('24x7', 'nyse'),
  },
  simulatorTradesPerSecond: {
    env: 'SIM_TRADES_PER_SECOND',
    default: '0.5',
    description: 'Average trades per second per symbol (intraday volume is U-shaped around it).',
    parse: positiveNumber,
  },
  backfillSessions: {
    env: 'SIM_BACKFILL_SESSIONS',
    default: '5',
    description: 'Completed sessions the simulator writes into the lake on first start.',
    parse: integer(0, 60),
  },
  batchIntervalSeconds: {
    env: 'BATCH_INTERVAL_SECONDS',
    default: '15',
    description: 'How often the batch sink moves completed minutes from the stream into the lake.',
    parse: positiveNumber,
  },
  maintenanceIntervalMinutes: {
    env: 'LAKE_MAINTENANCE_INTERVAL_MINUTES',
    default: '60',
    description:
      'How often the lake tables are compacted (OPTIMIZE) and vacuumed (files replaced over 7 days ago); `0` turns it off.',
    parse: integer(0, 60 * 24 * 7),
  },
  speedRetentionMinutes: {
    env: 'SPEED_RETENTION_MINUTES',
    default: '120',
    description:
      'How long the speed store keeps bars and trades before the lake alone serves them.',
    parse: integer(5, 60 * 24 * 7),
  },
  lakeSnapshotRefreshMs: {
    env: 'LAKE_SNAPSHOT_REFRESH_MS',
    default: '1000',
    description:
      'How long a table snapshot is served before the lake checks for a newer commit by another process (commits made in this process are seen at once).',
    parse: integer(0, 3_600_000),
  },
  lakeQueryCacheMb: {
    env: 'LAKE_QUERY_CACHE_MB',
    default: '256',
    description:
      'Memory bound (MiB) of the cache of lake query results per table version; `0` turns it off.',
    parse: integer(0, 1_048_576),
  },
  responseCacheMb: {
    env: 'API_RESPONSE_CACHE_MB',
    default: '64',
    description:
      'Memory bound (MiB) of the cache of GraphQL responses that lie wholly below the watermark; `0` turns it off.',
    parse: integer(0, 1_048_576),
  },
  liveQueueLimit: {
    env: 'LIVE_QUEUE_LIMIT',
    default: '10000',
    description:
      'Updates a live subscriber may have waiting to be sent; one further behind is closed with SLOW_CONSUMER (close code 4010).',
    parse: integer(1, 10_000_000),
  },
  duckdbConnections: {
    env: 'DUCKDB_CONNECTIONS',
    default: '4',
    description:
      'DuckDB statements that may run at once (the connection pool); more wait their turn.',
    parse: integer(1, 256),
  },
  s3Endpoint: {
    env: 'S3_ENDPOINT',
    default: '',
    description:
      'S3-compatible endpoint for `s3://` table locations (empty: AWS). Credentials come from the AWS SDK chain (`AWS_ACCESS_KEY_ID`, ...).',
    parse: optionalText,
  },
  s3Region: {
    env: 'S3_REGION',
    default: 'us-east-1',
    description: 'Region of the S3 bucket.',
    parse: text,
  },
  s3ForcePathStyle: {
    env: 'S3_FORCE_PATH_STYLE',
    default: 'false',
    description:
      'Address buckets by path (`endpoint/bucket/key`), as most S3-compatible servers need.',
    parse: boolean,
  },
  roles: {
    env: 'ALPHALAKE_ROLE',
    default: 'all',
    description:
      'What `alphalake serve` runs: `all` (every role, one process), or a comma-separated list of `api`, `sink`, `speed`, `ingest`. Split roles need Kafka; `api` and `speed` apart need Cassandra. `serve --role` overrides it.',
    parse: roleList,
  },
  lakeUri: {
    env: 'LAKE_URI',
    default: '',
    description:
      'Where the Delta tables live: `s3://bucket/prefix` for S3 (see `S3_*`), or a folder (empty: `lake/` under `ALPHALAKE_HOME`).',
    parse: optional(lakeLocation),
  },
  lakeCacheBytes: {
    env: 'LAKE_CACHE_BYTES',
    default: '10GiB',
    description:
      'Bound of the local cache (under `ALPHALAKE_HOME/cache`) of immutable S3 objects that DuckDB reads, least recently used first out; bytes or `MiB`, `GiB`, `GB`, ….',
    parse: byteSize(16 * 1024 ** 2),
  },
  kafkaBrokers: {
    env: 'KAFKA_BROKERS',
    default: '',
    description:
      'Comma-separated Kafka bootstrap brokers (`host:port`) for the stream bus (empty: the in-process bus).',
    parse: optional(brokerList),
  },
  kafkaClientId: {
    env: 'KAFKA_CLIENT_ID',
    default: 'alphalake',
    description: 'Client id the Kafka brokers see in their logs, metrics and quotas.',
    parse: clientId,
  },
  kafkaTopicPrefix: {
    env: 'KAFKA_TOPIC_PREFIX',
    default: 'alphalake.',
    description: `Prefix of the bus topics' names on Kafka: ${BUS_TOPICS.map((t) => `\`${t}\``).join(', ')} become \`alphalake.trades\`, … (one prefixed ACL covers them).`,
    parse: topicPrefix(Math.max(...BUS_TOPICS.map((t) => t.length))),
  },
  kafkaPartitions: {
    env: 'KAFKA_PARTITIONS',
    default: '6',
    description:
      'Partitions of each topic created on start when absent: the most sink or speed workers that share a topic.',
    parse: integer(1, 10_000),
  },
  kafkaReplicationFactor: {
    env: 'KAFKA_REPLICATION_FACTOR',
    default: '1',
    description:
      'Replicas of each topic created on start when absent (1 for a single broker; 3 in production).',
    parse: integer(1, 32_767),
  },
  kafkaCompression: {
    env: 'KAFKA_COMPRESSION',
    default: 'none',
    description:
      'Compression of produced record batches: `none` or `gzip` (worth its CPU when the network, not the machine, is the limit).',
    parse: oneOf('none', 'gzip'),
  },
  cassandraContactPoints: {
    env: 'CASSANDRA_CONTACT_POINTS',
    default: '',
    description:
      'Comma-separated Cassandra contact points (`host` or `host:port`, port 9042 by default) for the speed store (empty: the in-process speed store).',
    parse: optional(contactPointList),
  },
  cassandraLocalDataCenter: {
    env: 'CASSANDRA_LOCAL_DC',
    default: 'datacenter1',
    description:
      'The data centre the driver treats as local (its load-balancing policy needs it): the name in `nodetool status`.',
    parse: dataCenterName,
  },
  cassandraKeyspace: {
    env: 'CASSANDRA_KEYSPACE',
    default: 'alphalake',
    description: 'Keyspace of the speed store, created with its tables on start when absent.',
    parse: keyspaceName,
  },
  cassandraReplication: {
    env: 'CASSANDRA_REPLICATION',
    default: 'SimpleStrategy:1',
    description:
      'Replication of the keyspace when it is created: `SimpleStrategy:<factor>` or `NetworkTopologyStrategy:<dc>=<factor>,…` (which must name `CASSANDRA_LOCAL_DC`).',
    parse: cassandraReplication,
  },
  speedTtlSeconds: {
    env: 'SPEED_TTL_SECONDS',
    default: '172800',
    description:
      'Time to live of the rows the Cassandra speed store writes (2 days); Cassandra expires them itself.',
    // Cassandra refuses TTLs over 20 years (`MAX_TTL`, CQL "Data manipulation": USING TTL).
    parse: integer(60, 630_720_000),
  },
  mongodbUri: {
    env: 'MONGODB_URI',
    default: '',
    description:
      'MongoDB connection string for master data and job state (empty: embedded, in-process).',
    parse: optional(mongoUri),
  },
  polygonApiKey: {
    env: 'POLYGON_API_KEY',
    default: '',
    description:
      'API key of Polygon (Massive) for `ingest --source polygon` and `polygon-ws`; sent only in the `Authorization` header and the WebSocket `auth` action, never logged.',
    parse: optionalText,
  },
  polygonApiUrl: {
    env: 'POLYGON_API_URL',
    default: 'https://api.polygon.io',
    description: 'Base URL of the Polygon REST API (a proxy, or a test server).',
    parse: url('http', 'https'),
  },
  polygonWsUrl: {
    env: 'POLYGON_WS_URL',
    default: 'wss://socket.polygon.io/stocks',
    description:
      'Polygon stocks WebSocket (`wss://delayed.polygon.io/stocks` for the 15-minute delayed feed).',
    parse: url('ws', 'wss'),
  },
  polygonCallsPerMinute: {
    env: 'POLYGON_CALLS_PER_MINUTE',
    default: '5',
    description:
      'Client-side limit of Polygon REST calls per sliding minute (the free tier allows 5); `0` turns it off for paid plans.',
    parse: integer(0, 1_000_000),
  },
  polygonMaxRetries: {
    env: 'POLYGON_MAX_RETRIES',
    default: '5',
    description:
      'Retries of a Polygon REST call answered 429 (after `Retry-After`), 5xx or not at all (exponential backoff with jitter).',
    parse: integer(0, 100),
  },
  polygonBackoffMs: {
    env: 'POLYGON_BACKOFF_MS',
    default: '1000',
    description:
      'First backoff of a Polygon retry or WebSocket reconnect, ms; it doubles each attempt (capped at 60 s for REST, 30 s for the socket).',
    parse: integer(1, 600_000),
  },
  yahooApiUrl: {
    env: 'YAHOO_API_URL',
    default: 'https://query1.finance.yahoo.com',
    description: 'Base URL of the Yahoo Finance chart endpoint (`/v8/finance/chart/{symbol}`).',
    parse: url('http', 'https'),
  },
} as const satisfies Record<string, Setting<unknown>>;

/**
 * Variables alphalake never reads but the libraries it uses do, so a deployment may set
 * them: the AWS SDK for JavaScript's default credential chain (environment, then shared
 * files, then container and instance metadata) for `s3://` lakes, and Node.js itself.
 * They are listed so that a deployment's environment can be checked against the code.
 */
export const LIBRARY_VARIABLES = Object.freeze([
  { env: 'AWS_ACCESS_KEY_ID', readBy: 'AWS SDK credential chain' },
  { env: 'AWS_SECRET_ACCESS_KEY', readBy: 'AWS SDK credential chain' },
  { env: 'AWS_SESSION_TOKEN', readBy: 'AWS SDK credential chain' },
  { env: 'AWS_PROFILE', readBy: 'AWS SDK credential chain' },
  { env: 'NODE_OPTIONS', readBy: 'Node.js' },
] as const);

type Settings = typeof SETTINGS;
export type SettingValues = { readonly [K in keyof Settings]: ReturnType<Settings[K]['parse']> };

/** The settings, parsed, and the profile derived from them. */
export type Config = SettingValues & {
  /** Which backend each concern uses (see profile.ts); `describeProfile` for logs. */
  readonly profile: Profile;
};

/**
 * Builds the frozen config from an environment (process.env by default). Throws
 * BAD_USER_INPUT naming the variable when a value does not parse, or naming both
 * variables when two settings contradict each other.
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Config {
  const entries = Object.entries(SETTINGS).map(([key, setting]) => {
    const raw = env[setting.env];
    const value = raw === undefined || raw === '' ? setting.default : raw;
    return [key, (setting.parse as (raw: string, env: string) => unknown)(value, setting.env)];
  });
  const values = Object.fromEntries(entries) as SettingValues;
  checkConsistency(values);
  return Object.freeze({ ...values, profile: deriveProfile(values) });
}

/**
 * A config for tests and tools: defaults, overridden by the given values. The profile is
 * derived again from the result unless it is overridden too.
 */
export function configWith(overrides: Partial<Config>, env: Record<string, string> = {}): Config {
  const values = { ...loadConfig(env), ...overrides };
  checkConsistency(values);
  return Object.freeze({ ...values, profile: overrides.profile ?? deriveProfile(values) });
}

/** Rules across settings: each names the variables involved and how to fix it. */
function checkConsistency(values: SettingValues): void {
  const roles = values.roles;
  const split = roles.length < ROLES.length;
  const shown = roles.join(',');
  if (split && values.kafkaBrokers === undefined) {
    throw inconsistent(
      `ALPHALAKE_ROLE=${shown} runs part of the platform, but KAFKA_BROKERS is empty: the in-process bus cannot reach the other roles. Set KAFKA_BROKERS, or run every role (ALPHALAKE_ROLE=all).`,
      ['ALPHALAKE_ROLE', 'KAFKA_BROKERS'],
    );
  }
  if (
    roles.includes('api') !== roles.includes('speed') &&
    values.cassandraContactPoints === undefined
  ) {
    throw inconsistent(
      `ALPHALAKE_ROLE=${shown} runs the ${roles.includes('api') ? 'api without the speed' : 'speed layer without the api'} role, but CASSANDRA_CONTACT_POINTS is empty: the api reads what the speed layer writes, so they must share a speed store. Set CASSANDRA_CONTACT_POINTS, or run api and speed together.`,
      ['ALPHALAKE_ROLE', 'CASSANDRA_CONTACT_POINTS'],
    );
  }
  const replication = values.cassandraReplication;
  if (
    replication.class === 'NetworkTopologyStrategy' &&
    !(values.cassandraLocalDataCenter in replication)
  ) {
    throw inconsistent(
      `CASSANDRA_REPLICATION places no replica in CASSANDRA_LOCAL_DC=${values.cassandraLocalDataCenter}: every read would leave the local data centre. Name it in CASSANDRA_REPLICATION or pick another local data centre.`,
      ['CASSANDRA_REPLICATION', 'CASSANDRA_LOCAL_DC'],
    );
  }
}

function inconsistent(message: string, envs: readonly string[]): AlphalakeError {
  return new AlphalakeError('BAD_USER_INPUT', message, { env: envs.join(',') });
}
