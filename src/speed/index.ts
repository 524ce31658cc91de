/** Public surface of src/speed: the speed store port and adapters, the live hub, the layer. */
export type {
  SpeedStore,
  SpeedStoreCapabilities,
  SpeedStoreHealth,
  TimeRange,
} from './speed-store.js';
export { MemorySpeedStore } from './memory-speed-store.js';
export {
  CassandraSpeedStore,
  CASSANDRA_SPEED_STORE_DEFAULTS,
  MICROS_PER_TIME_UNIT,
  SPEED_SCHEMA_VERSION,
  type CassandraClient,
  type CassandraQueryOptions,
  type CassandraReplication,
  type CassandraResultSet,
  type CassandraRow,
  type BatchedReads,
  type CassandraSpeedStoreOptions,
} from './cassandra-speed-store.js';
export {
  BarRollup,
  LIVE_BAR_INTERVALS,
  liveBucketOf,
  ROLLED_BAR_INTERVALS,
  type LiveBar,
  type LiveBarInterval,
  type LiveBucket,
  type RolledBarInterval,
} from './bar-rollup.js';
export {
  currentThenLive,
  LIVE_BAR_CHANNELS,
  LiveHub,
  SLOW_CONSUMER_CLOSE_CODE,
  type LiveChannels,
  type LiveHubOptions,
} from './live-hub.js';
export { SpeedLayer, type SpeedLayerRestore } from './speed-layer.js';
