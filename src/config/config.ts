import path from 'node:path';
import { AlphalakeError } from '../domain/index.js';
import {
  boolean,
  brokerList,
  cronSchedule,
  byteSize,
  cassandraReplication,
  claimName,
  clientId,
  contactPointList,
  dataCenterName,
  integer,
  jwtSecret,
  keyspaceName,
  lakeLocation,
  mongoUri,
  nonNegativeNumber,
  oneOf,
  optional,
  optionalText,
  positiveNumber,
  fraction,
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
      'Folder for local state: the Delta Lake tables under `lake/` (unless `LAKE_URI` names another place), the cache of S3 objects under `cache/`, and master data under `mdm/` and the embedded job store under `jobs/` (unless `MONGODB_URI` is set), and the checkpoints of file replays through Kafka under `ingest/`.',
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
    description:
      'Comma-separated symbols the simulator trades; master data starts with them (created once, as `ACTIVE`), so they are known to every source.',
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
  simulatorSplitsPerYear: {
    env: 'SIM_SPLITS_PER_YEAR',
    default: '0.1',
    description:
      'Expected stock splits per simulated symbol per 252 sessions: the tape divides prices by the ratio from the ex-date on, and each split goes to master data as a corporate action.',
    parse: nonNegativeNumber(252),
  },
  simulatorDividendsPerYear: {
    env: 'SIM_DIVIDENDS_PER_YEAR',
    default: '4',
    description:
      'Expected cash dividends per simulated symbol per 252 sessions: the tape drops by the dividend on the ex-date, and each goes to master data as a corporate action.',
    parse: nonNegativeNumber(252),
  },
  simulatorNewsPerSession: {
    env: 'SIM_NEWS_PER_SESSION',
    default: '1',
    description:
      'Expected simulated news items per symbol per session, published to the news topic and into bronze.news.',
    parse: nonNegativeNumber(1000),
  },
  simulatorNewsSignal: {
    env: 'SIM_NEWS_SIGNAL',
    default: '0.3',
    description:
      "How strongly a simulated news item's sentiment predicts its symbol's next-day return, from 0 (noise) to 1.",
    parse: nonNegativeNumber(1),
  },
  simulatorHaltsPerSession: {
    env: 'SIM_HALTS_PER_SESSION',
    default: '0.02',
    description:
      'Expected trading halts (5 to 30 minutes, no trades or quotes) per simulated symbol per session.',
    parse: nonNegativeNumber(100),
  },
  simulatorDuplicateRate: {
    env: 'SIM_DUPLICATE_RATE',
    default: '0',
    description:
      'Share of simulator trades sent twice, live and in backfills (the ingest path drops the copies as DUPLICATE rejects).',
    parse: fraction,
  },
  simulatorOutOfOrderRate: {
    env: 'SIM_OUT_OF_ORDER_RATE',
    default: '0',
    description: 'Share of live simulator trades swapped with their neighbour in a batch.',
    parse: fraction,
  },
  simulatorLateRate: {
    env: 'SIM_LATE_RATE',
    default: '0',
    description:
      'Share of live simulator trades held back and sent three batches late (the sink keeps those behind its watermark as LATE_EVENT).',
    parse: fraction,
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
  duckdbStatementTimeoutMs: {
    env: 'DUCKDB_STATEMENT_TIMEOUT_MS',
    default: '30000',
    description:
      'How long one DuckDB query of the lake may run before its connection is interrupted and the request fails with `QUERY_TIMEOUT`; `0`: no limit.',
    parse: integer(0, 86_400_000),
  },
  logLevel: {
    env: 'LOG_LEVEL',
    default: 'info',
    description:
      'Lowest level of the JSON log lines written to stdout: `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`.',
    parse: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
  },
  maxQueryDepth: {
    env: 'API_MAX_DEPTH',
    default: '12',
    description:
      'Deepest selection a GraphQL operation may have (fragments count as they expand); deeper ones are refused before execution with `QUERY_TOO_DEEP`.',
    parse: integer(1, 1_000),
  },
  maxAliases: {
    env: 'API_MAX_ALIASES',
    default: '30',
    description:
      'Most aliases in one GraphQL operation; more are refused before execution with `TOO_MANY_ALIASES`.',
    parse: integer(0, 100_000),
  },
  maxDirectives: {
    env: 'API_MAX_DIRECTIVES',
    default: '50',
    description:
      'Most directives in one GraphQL operation; more are refused before execution with `TOO_MANY_DIRECTIVES`.',
    parse: integer(0, 100_000),
  },
  maxQueryCost: {
    env: 'API_MAX_COST',
    default: '200000',
    description:
      'Most rows one GraphQL operation may ask for (each history field counts its `limit` or default, times the lists above it); more is refused before execution with `QUERY_TOO_COMPLEX`.',
    parse: integer(1, 1_000_000_000),
  },
  maxPageSize: {
    env: 'API_MAX_PAGE_SIZE',
    default: '100000',
    description:
      'Largest `limit` one field may ask for; a larger one is refused before execution with `PAGE_TOO_LARGE`.',
    parse: integer(1, 10_000_000),
  },
  maxScanRows: {
    env: 'API_MAX_SCAN_ROWS',
    default: '50000000',
    description:
      "Most rows a lake query may scan, estimated before it runs from the Delta log's per-file `numRecords` of the files it would read; a query over it is refused with `QUERY_TOO_EXPENSIVE`; `0`: no limit.",
    parse: integer(0, Number.MAX_SAFE_INTEGER),
  },
  rateLimitRequests: {
    env: 'RATE_LIMIT_REQUESTS',
    default: '1200',
    description:
      'GraphQL requests one client (each credential, a token or an API key, when auth is on; else its IP address) may make per `RATE_LIMIT_WINDOW_SECONDS`; more are answered 429 `RATE_LIMITED` with `Retry-After`; `0` turns the limit off.',
    parse: integer(0, 100_000_000),
  },
  rateLimitWindowSeconds: {
    env: 'RATE_LIMIT_WINDOW_SECONDS',
    default: '60',
    description: 'The window of `RATE_LIMIT_REQUESTS`.',
    parse: integer(1, 86_400),
  },
  persistedQueries: {
    env: 'PERSISTED_QUERIES',
    default: 'auto',
    description:
      "`auto`: Apollo automatic persisted queries (a client may send a query's SHA-256 instead of its text); `allowlist`: only the operations in `PERSISTED_QUERIES_FILE` run, by hash or text; `off`: queries are sent as text.",
    parse: oneOf('off', 'auto', 'allowlist'),
  },
  persistedQueriesFile: {
    env: 'PERSISTED_QUERIES_FILE',
    default: '',
    description:
      'The allow-list for `PERSISTED_QUERIES=allowlist`: an Apollo persisted query manifest (JSON, `operations: [{ id, body }]`).',
    parse: optionalText,
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
  kafkaRetryMaxMs: {
    env: 'KAFKA_RETRY_MAX_MS',
    default: '1000',
    description:
      'Longest pause (ms) between attempts to reach a Kafka broker: reconnects, retried requests and resends, and the restart of a consumer that gave up; after an outage consumers and producers are back within about this long of the broker.',
    parse: integer(1, 60_000),
  },
  kafkaSessionTimeoutMs: {
    env: 'KAFKA_SESSION_TIMEOUT_MS',
    default: '10000',
    description:
      'Consumer group session timeout (ms): a consumer not heard from for this long loses its partitions, and after a broker outage a consumer rejoining its group waits up to this long for its old member to expire. Heartbeats go every third of it; the broker allows 6 s to 30 min by default.',
    parse: integer(1_000, 3_600_000),
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
  cassandraReconnectMaxMs: {
    env: 'CASSANDRA_RECONNECT_MAX_MS',
    default: '2000',
    description:
      "Longest pause (ms) between the Cassandra driver's attempts to reconnect to a node it marked down (from 1 s, doubling); the driver's own cap is 10 minutes, which could leave the speed store unused for minutes after a node was back.",
    parse: integer(1_000, 600_000),
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
  authMode: {
    env: 'AUTH_MODE',
    default: 'jwt',
    description:
      '`jwt`: every GraphQL request needs a JWT (`Authorization: Bearer`) or an API key, and a server refuses to start unless `AUTH_JWT_SECRET` or `AUTH_JWKS_URL` is set; `off`: no authentication, everyone is an admin (local use only; `npm start` runs so, and says so).',
    parse: oneOf('jwt', 'off'),
  },
  authJwtSecret: {
    env: 'AUTH_JWT_SECRET',
    default: '',
    description:
      'Shared secret (32+ bytes) that signs and verifies HS256 tokens, and with which `alphalake auth token` mints them.',
    parse: optional(jwtSecret),
  },
  authJwksUrl: {
    env: 'AUTH_JWKS_URL',
    default: '',
    description:
      "An identity provider's JSON Web Key Set URL: RS256 and ES256 tokens are verified with its keys (fetched and cached by `jose`).",
    parse: optional(url('http', 'https')),
  },
  authJwtIssuer: {
    env: 'AUTH_JWT_ISSUER',
    default: 'alphalake',
    description: 'The `iss` claim every token must carry (and minted tokens do).',
    parse: text,
  },
  authJwtAudience: {
    env: 'AUTH_JWT_AUDIENCE',
    default: 'alphalake',
    description: 'An `aud` value every token must carry (and minted tokens do).',
    parse: text,
  },
  authRoleClaim: {
    env: 'AUTH_ROLE_CLAIM',
    default: 'role',
    description:
      'The token claim that names the role: `viewer`, `analyst` or `admin`, or an array of them (the highest counts).',
    parse: claimName,
  },
  authRecheckSeconds: {
    env: 'AUTH_RECHECK_SECONDS',
    default: '60',
    description:
      'How often the credentials of each open WebSocket are verified again (an API key revoked, a user removed): one that no longer verifies is closed with code 4401; 0: never. A token is also closed at its `exp`.',
    parse: integer(0, 86_400),
  },
  jobsSyncCron: {
    env: 'JOBS_SYNC_CRON',
    default: '',
    description:
      'Cron schedule (UTC) of the stream → lake sync job (`lake.sync`, a sink flush); empty: none, as the sink flushes every `BATCH_INTERVAL_SECONDS` itself.',
    parse: cronSchedule,
  },
  jobsCompactCron: {
    env: 'JOBS_COMPACT_CRON',
    default: '0 * * * *',
    description:
      'Cron schedule (UTC) of compaction (`lake.compact`, OPTIMIZE of every table); empty: none.',
    parse: cronSchedule,
  },
  jobsVacuumCron: {
    env: 'JOBS_VACUUM_CRON',
    default: '30 3 * * *',
    description:
      'Cron schedule (UTC) of `lake.vacuum` (files replaced over 7 days ago deleted); empty: none.',
    parse: cronSchedule,
  },
  jobsCheckpointCron: {
    env: 'JOBS_CHECKPOINT_CRON',
    default: '15 4 * * *',
    description:
      'Cron schedule (UTC) of `lake.checkpoint` (a checkpoint of each table, besides the one every 10 commits); empty: none.',
    parse: cronSchedule,
  },
  jobsMdmRefreshCron: {
    env: 'JOBS_MDM_REFRESH_CRON',
    default: '0 6 * * 1-5',
    description:
      'Cron schedule (UTC) of `mdm.refresh` (symbols, splits and dividends from Polygon); off without `POLYGON_API_KEY`; empty: none.',
    parse: cronSchedule,
  },
  jobsPollMs: {
    env: 'JOBS_POLL_MS',
    default: '1000',
    description:
      'How often a worker looks for due jobs, and how often `jobProgress` reads a job’s progress (ms).',
    parse: integer(10, 600_000),
  },
  jobsLockLifetimeMs: {
    env: 'JOBS_LOCK_LIFETIME_MS',
    default: '300000',
    description:
      "How long a running job's lock outlives its worker (ms): the worker renews it every third of this while the job runs (and on every progress report), so a job whose lock is older (its worker died) is run again by another worker.",
    parse: integer(500, 86_400_000),
  },
  jobsMaxRetries: {
    env: 'JOBS_MAX_RETRIES',
    default: '3',
    description:
      'Retries of a failed job (exponential backoff) before it stays failed; `BAD_USER_INPUT` and `NOT_IMPLEMENTED` are never retried.',
    parse: integer(0, 100),
  },
  jobsRetryDelayMs: {
    env: 'JOBS_RETRY_DELAY_MS',
    default: '5000',
    description: 'Delay before the first retry (ms); each next one doubles, up to an hour.',
    parse: integer(0, 3_600_000),
  },
  jobsServeWorker: {
    env: 'JOBS_SERVE_WORKER',
    default: 'auto',
    description:
      'Whether `alphalake serve` runs a job worker in-process: `auto` does with the embedded job store (no other process may open it) and does not with MongoDB (run `alphalake worker`s); `on`, `off`.',
    parse: oneOf('auto', 'on', 'off'),
  },
  mdmUnknownSymbols: {
    env: 'MDM_UNKNOWN_SYMBOLS',
    default: 'reject',
    description:
      'What ingest does with a ticker master data does not know: `reject` it to `bronze.rejects` with `UNKNOWN_SYMBOL`, or create it as a `PENDING` symbol and accept the record (`pending`).',
    parse: oneOf('reject', 'pending'),
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
  if (values.persistedQueries === 'allowlist' && values.persistedQueriesFile === undefined) {
    throw inconsistent(
      'PERSISTED_QUERIES=allowlist runs only the operations of an allow-list, but PERSISTED_QUERIES_FILE is empty: name the manifest file, or use PERSISTED_QUERIES=auto.',
      ['PERSISTED_QUERIES', 'PERSISTED_QUERIES_FILE'],
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
