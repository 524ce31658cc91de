import path from 'node:path';
import { redactCredentials, type CassandraReplication, type LakeLocation } from './parsers.js';

/**
 * Which backend each concern uses, derived from the settings alone: a Kafka broker list
 * picks the Kafka bus, Cassandra contact points the Cassandra speed store, an `s3://`
 * LAKE_URI the lake on S3, a MONGODB_URI MongoDB for master data. Each is independent of
 * the others; src/app.ts builds the adapters this names and nothing else does.
 */
export interface Profile {
  /** `embedded` when every concern is in-process or local, `distributed` when none is. */
  readonly kind: 'embedded' | 'distributed' | 'mixed';
  readonly bus: BusProfile;
  readonly speedStore: SpeedStoreProfile;
  readonly lake: LakeProfile;
  readonly mdm: MdmProfile;
  readonly jobs: JobsProfile;
}

/** The bus topics, each named `KAFKA_TOPIC_PREFIX` + this name on Kafka. */
export const BUS_TOPICS = ['trades', 'quotes', 'bars', 'news', 'rejects'] as const;
export type BusTopic = (typeof BUS_TOPICS)[number];

export type BusProfile =
  | { readonly backend: 'memory' }
  | {
      readonly backend: 'kafka';
      readonly brokers: readonly string[];
      readonly clientId: string;
      /** Kafka topic name of each bus topic. */
      readonly topics: Readonly<Record<BusTopic, string>>;
      /** For topics created on start when absent. */
      readonly partitions: number;
      readonly replicationFactor: number;
      readonly compression: KafkaCompression;
      /** Longest pause between attempts to reach a broker (KAFKA_RETRY_MAX_MS). */
      readonly retryMaxMs: number;
      /** Consumer group session timeout (KAFKA_SESSION_TIMEOUT_MS). */
      readonly sessionTimeoutMs: number;
    };

export type KafkaCompression = 'none' | 'gzip';

export type SpeedStoreProfile =
  | { readonly backend: 'memory'; readonly retentionMinutes: number }
  | {
      readonly backend: 'cassandra';
      readonly contactPoints: readonly string[];
      readonly localDataCenter: string;
      readonly keyspace: string;
      /** The CQL replication map, e.g. `{ class: 'SimpleStrategy', replication_factor: 1 }`. */
      readonly replication: CassandraReplication;
      /** `USING TTL` of every row written. */
      readonly ttlSeconds: number;
      /** Longest pause between reconnects to a node marked down (CASSANDRA_RECONNECT_MAX_MS). */
      readonly reconnectMaxMs: number;
    };

export type LakeProfile =
  | { readonly backend: 'local'; readonly root: string }
  | {
      readonly backend: 's3';
      readonly bucket: string;
      /** Key prefix of the tables inside the bucket ('' for the bucket's root). */
      readonly prefix: string;
      readonly endpoint?: string;
      readonly region: string;
      readonly forcePathStyle: boolean;
      /** Local folder for the cache of immutable objects (data files, checkpoints). */
      readonly cacheDir: string;
      readonly cacheMaxBytes: number;
    };

export type MdmProfile =
  | {
      readonly backend: 'embedded';
      /** The folder of the embedded store's files: `mdm/` under ALPHALAKE_HOME. */
      readonly dir: string;
    }
  | {
      readonly backend: 'mongodb';
      /** Holds credentials when the URI does: log `describeProfile`, never this. */
      readonly uri: string;
    };

/** Where jobs, their locks and history live: a folder under ALPHALAKE_HOME, or MongoDB (MONGODB_URI). */
export type JobsProfile =
  | { readonly backend: 'embedded'; readonly folder: string }
  | {
      readonly backend: 'mongodb';
      /** Holds credentials when the URI does: log `describeProfile`, never this. */
      readonly uri: string;
    };

/** The settings a profile is derived from (a slice of Config, so configWith can re-derive). */
export interface ProfileSettings {
  readonly home: string;
  readonly kafkaBrokers: readonly string[] | undefined;
  readonly kafkaClientId: string;
  readonly kafkaTopicPrefix: string;
  readonly kafkaPartitions: number;
  readonly kafkaReplicationFactor: number;
  readonly kafkaCompression: KafkaCompression;
  readonly kafkaRetryMaxMs: number;
  readonly kafkaSessionTimeoutMs: number;
  readonly cassandraContactPoints: readonly string[] | undefined;
  readonly cassandraLocalDataCenter: string;
  readonly cassandraKeyspace: string;
  readonly cassandraReplication: CassandraReplication;
  readonly cassandraReconnectMaxMs: number;
  readonly speedTtlSeconds: number;
  readonly speedRetentionMinutes: number;
  readonly lakeUri: LakeLocation | undefined;
  readonly lakeCacheBytes: number;
  readonly s3Endpoint: string | undefined;
  readonly s3Region: string;
  readonly s3ForcePathStyle: boolean;
  readonly mongodbUri: string | undefined;
}

export function deriveProfile(settings: ProfileSettings): Profile {
  const bus: BusProfile = settings.kafkaBrokers
    ? {
        backend: 'kafka',
        brokers: settings.kafkaBrokers,
        clientId: settings.kafkaClientId,
        topics: Object.freeze(
          Object.fromEntries(BUS_TOPICS.map((t) => [t, `${settings.kafkaTopicPrefix}${t}`])),
        ) as Record<BusTopic, string>,
        partitions: settings.kafkaPartitions,
        replicationFactor: settings.kafkaReplicationFactor,
        compression: settings.kafkaCompression,
        retryMaxMs: settings.kafkaRetryMaxMs,
        sessionTimeoutMs: settings.kafkaSessionTimeoutMs,
      }
    : { backend: 'memory' };
  const speedStore: SpeedStoreProfile = settings.cassandraContactPoints
    ? {
        backend: 'cassandra',
        contactPoints: settings.cassandraContactPoints,
        localDataCenter: settings.cassandraLocalDataCenter,
        keyspace: settings.cassandraKeyspace,
        replication: settings.cassandraReplication,
        ttlSeconds: settings.speedTtlSeconds,
        reconnectMaxMs: settings.cassandraReconnectMaxMs,
      }
    : { backend: 'memory', retentionMinutes: settings.speedRetentionMinutes };
  const location = settings.lakeUri ?? { backend: 'local', root: path.join(settings.home, 'lake') };
  const lake: LakeProfile =
    location.backend === 'local'
      ? { backend: 'local', root: location.root }
      : {
          backend: 's3',
          bucket: location.bucket,
          prefix: location.prefix,
          ...(settings.s3Endpoint ? { endpoint: settings.s3Endpoint } : {}),
          region: settings.s3Region,
          forcePathStyle: settings.s3ForcePathStyle,
          cacheDir: path.join(settings.home, 'cache'),
          cacheMaxBytes: settings.lakeCacheBytes,
        };
  const mdm: MdmProfile = settings.mongodbUri
    ? { backend: 'mongodb', uri: settings.mongodbUri }
    : { backend: 'embedded', dir: path.join(settings.home, 'mdm') };
  const jobs: JobsProfile = settings.mongodbUri
    ? { backend: 'mongodb', uri: settings.mongodbUri }
    : { backend: 'embedded', folder: path.join(settings.home, 'jobs') };
  const distributed = [
    bus.backend === 'kafka',
    speedStore.backend === 'cassandra',
    lake.backend === 's3',
    mdm.backend === 'mongodb',
  ];
  const kind = distributed.every(Boolean)
    ? 'distributed'
    : distributed.some(Boolean)
      ? 'mixed'
      : 'embedded';
  return deepFreeze({ kind, bus, speedStore, lake, mdm, jobs });
}

export type Concern = 'bus' | 'speedStore' | 'lake' | 'mdm' | 'jobs';

/** What /readyz and the logs show of a profile: backends and where they are, no secrets. */
export interface ProfileDescription {
  readonly kind: Profile['kind'];
  readonly backends: Readonly<
    Record<Concern, { readonly backend: string; readonly location: string }>
  >;
}

export function describeProfile(profile: Profile): ProfileDescription {
  const { bus, speedStore, lake, mdm, jobs } = profile;
  return deepFreeze({
    kind: profile.kind,
    backends: {
      bus:
        bus.backend === 'kafka'
          ? {
              backend: 'kafka',
              location: `${bus.brokers.join(',')} (topics ${bus.topics.trades}, …)`,
            }
          : { backend: 'memory', location: 'in-process' },
      speedStore:
        speedStore.backend === 'cassandra'
          ? {
              backend: 'cassandra',
              location: `${speedStore.contactPoints.join(',')} (data centre ${speedStore.localDataCenter}, keyspace ${speedStore.keyspace})`,
            }
          : { backend: 'memory', location: 'in-process' },
      lake:
        lake.backend === 's3'
          ? {
              backend: 's3',
              location: `s3://${[lake.bucket, lake.prefix].filter(Boolean).join('/')}${lake.endpoint ? ` at ${lake.endpoint}` : ''}`,
            }
          : { backend: 'local', location: lake.root },
      mdm:
        mdm.backend === 'mongodb'
          ? { backend: 'mongodb', location: redactCredentials(mdm.uri) }
          : { backend: 'embedded', location: mdm.dir },
      jobs:
        jobs.backend === 'mongodb'
          ? { backend: 'mongodb', location: redactCredentials(jobs.uri) }
          : { backend: 'embedded', location: jobs.folder },
    },
  });
}

/** One line for the logs: `distributed: bus=kafka(…) speedStore=cassandra(…) …`. */
export function profileSummary(profile: Profile): string {
  const { kind, backends } = describeProfile(profile);
  const parts = Object.entries(backends).map(
    ([concern, { backend, location }]) => `${concern}=${backend}(${location})`,
  );
  return `${kind}: ${parts.join(' ')}`;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
