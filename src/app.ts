import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  LakeBrowser,
  maintainLake,
  LakeSink,
  LambdaView,
  MarketData,
  openMedallion,
  type Medallion,
} from './batch/index.js';
import type { BusProfile, Config, LakeProfile, Role, SpeedStoreProfile } from './config/index.js';
import {
  calendarNamed,
  floorToMinute,
  isoOfMicros,
  MINUTE_US,
  SECOND_US,
  systemClock,
  type Clock,
  type Trade,
} from './domain/index.js';
import {
  backfillFromSimulator,
  Ingestor,
  MarketSimulator,
  SimulatorFeed,
  type BackfillResult,
} from './ingest/index.js';
import {
  configureDuckDB,
  localObjectStore,
  QueryCache,
  s3ObjectStore,
  type ObjectStore,
} from './lake/index.js';
import { MemorySymbolDirectory, type SymbolDirectory } from './mdm/index.js';
import {
  CassandraSpeedStore,
  LiveHub,
  MemorySpeedStore,
  SpeedLayer,
  type CassandraReplication,
  type SpeedStore,
} from './speed/index.js';
import { MetricsRegistry } from './metrics/index.js';
import { KafkaBus, MemoryBus, type StreamBus } from './stream/index.js';
import type { ApiServices, BackendHealth } from './graphql/index.js';

/**
 * The composition root: the only place that picks adapters. Everything else
 * receives ports (StreamBus, SpeedStore, ObjectStore, SymbolDirectory) and a Clock.
 */
export interface Platform {
  readonly config: Config;
  /** The roles this process runs (config.roles): `start` starts only their parts. */
  readonly roles: readonly Role[];
  readonly clock: Clock;
  readonly store: ObjectStore;
  readonly bus: StreamBus;
  readonly speedStore: SpeedStore;
  readonly hub: LiveHub;
  readonly tables: Medallion;
  readonly sink: LakeSink;
  readonly view: LambdaView;
  readonly market: MarketData;
  readonly directory: SymbolDirectory;
  readonly ingestor: Ingestor;
  readonly simulator: MarketSimulator | undefined;
  /** The simulator as a live source, once started. */
  readonly feed: SimulatorFeed | undefined;
  readonly api: ApiServices;
  readonly ready: boolean;
  /** Each configured backend and whether it answers now (for `/readyz`). */
  backends(signal?: AbortSignal): Promise<Readonly<Record<string, BackendHealth>>>;
  /**
   * Starts the parts of this process's roles: `ingest` backfills history and runs the
   * simulator feed; `sink` consumes the bus into the lake; `speed` consumes it into the
   * speed store and live hub; `api` follows the lake's watermark from the table (when
   * the sink runs elsewhere). Unless `live` is false it also starts the timers
   * (simulator feed, sink flushes, speed eviction, maintenance). Tests drive a platform
   * with `live: false` and call `feed.pump` and `sink.flush` themselves.
   */
  start(options?: { live?: boolean }): Promise<StartReport>;
  stop(): Promise<void>;
}

export interface StartReport {
  readonly backfill: BackfillResult | undefined;
  readonly watermark: number | undefined;
}

const MEBIBYTE = 1024 * 1024;

export interface PlatformDependencies {
  readonly clock?: Clock;
}

export async function createPlatform(
  config: Config,
  deps: PlatformDependencies = {},
): Promise<Platform> {
  const clock = deps.clock ?? systemClock;
  const roles = config.roles;
  const runs = (role: Role) => roles.includes(role);
  const store = openLakeStore(config.profile.lake);
  const bus = await openBus(config.profile.bus);
  // Only the api and the speed layer use the speed store: a sink or a producer alone
  // does not connect to Cassandra (an unused in-process store stands in).
  const speedStore =
    runs('api') || runs('speed')
      ? await openSpeedStore(config.profile.speedStore, clock)
      : new MemorySpeedStore();
  const hub = new LiveHub({ queueLimit: config.liveQueueLimit });
  const directory = new MemorySymbolDirectory(config.simulatorSymbols);
  configureDuckDB({ maxConnections: config.duckdbConnections });
  const queryCache =
    config.lakeQueryCacheMb > 0
      ? new QueryCache({ maxBytes: config.lakeQueryCacheMb * MEBIBYTE })
      : undefined;
  const tables = await openMedallion(store, {
    refreshIntervalMs: config.lakeSnapshotRefreshMs,
    ...(queryCache ? { queryCache } : {}),
  });
  const metrics = new MetricsRegistry();
  const sink = await LakeSink.open(tables, clock, {
    intervalMs: config.batchIntervalSeconds * 1000,
    allowedLatenessUs: 2 * SECOND_US,
    rowsWritten: metrics.counter(
      'alphalake_lake_rows_written_total',
      'Rows committed to the lake, by table.',
    ),
  });
  // Daily bars follow the sessions of the market's calendar (the simulator's market).
  const view = new LambdaView(
    tables,
    speedStore,
    () => sink.watermark(),
    calendarNamed(config.simulatorCalendar),
  );
  const market = new MarketData(directory, view, clock);
  const ingestor = new Ingestor(
    bus,
    directory,
    clock,
    metrics.counter(
      'alphalake_ingested_records_total',
      'Records from sources, by source, kind and outcome (accepted or rejected).',
    ),
  );
  metrics.gauge(
    'alphalake_lake_watermark_seconds',
    'Event time up to which the lake is complete.',
    () => {
      const watermark = sink.watermark();
      return watermark === undefined ? undefined : watermark / SECOND_US;
    },
  );
  metrics.gauge(
    'alphalake_lake_watermark_lag_seconds',
    'How far the lake watermark trails the clock.',
    () => {
      const watermark = sink.watermark();
      return watermark === undefined ? undefined : (clock.now() - watermark) / SECOND_US;
    },
  );
  metrics.gauge(
    'alphalake_live_subscribers',
    'Open live subscriptions (trades and bars).',
    () => hub.subscriberCount('trade') + hub.subscriberCount('bar'),
  );
  // Event-loop delay since the previous scrape: a request handler that blocks the loop
  // (a large synchronous serialization, say) shows here before anywhere else.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const loopDelaySeconds = (read: () => number) => () => (loopDelay.count > 0 ? read() / 1e9 : 0);
  metrics.gauge(
    'alphalake_event_loop_delay_p99_seconds',
    'Event-loop delay, 99th percentile since the previous scrape.',
    loopDelaySeconds(() => loopDelay.percentile(99)),
  );
  metrics.gauge(
    'alphalake_event_loop_delay_max_seconds',
    'Event-loop delay, maximum since the previous scrape (reset by each scrape).',
    loopDelaySeconds(() => {
      const max = loopDelay.max;
      loopDelay.reset();
      return max;
    }),
  );
  if (queryCache) {
    metrics.gauge(
      'alphalake_lake_query_cache_bytes',
      'Estimated size of the cached lake query results (bounded by LAKE_QUERY_CACHE_MB).',
      () => queryCache.stats().bytes,
    );
    metrics.gauge(
      'alphalake_lake_query_cache_hits',
      'Lake queries answered from the cache since start.',
      () => queryCache.stats().hits,
    );
    metrics.gauge(
      'alphalake_lake_query_cache_misses',
      'Lake queries run in DuckDB since start (cache misses).',
      () => queryCache.stats().misses,
    );
  }
  metrics.gauge('process_resident_memory_bytes', 'Resident memory of this process.', () =>
    process.memoryUsage.rss(),
  );
  const calendar = calendarNamed(config.simulatorCalendar);
  const simulator = config.simulatorEnabled
    ? new MarketSimulator({
        seed: config.simulatorSeed,
        symbols: config.simulatorSymbols,
        calendar,
        tradesPerSecond: config.simulatorTradesPerSecond,
      })
    : undefined;
  const speed = new SpeedLayer(bus, speedStore, hub);
  const lifetime = new AbortController();
  let feed: SimulatorFeed | undefined;
  let ready = false;

  return {
    config,
    roles,
    clock,
    store,
    bus,
    speedStore,
    hub,
    tables,
    sink,
    view,
    market,
    directory,
    ingestor,
    simulator,
    get feed() {
      return feed;
    },
    api: {
      market,
      hub,
      lake: new LakeBrowser(store),
      watermark: () => sink.watermark(),
      metrics,
      async dataVersion() {
        const snapshots = await Promise.all([tables.trades.snapshot(), tables.bars1m.snapshot()]);
        const versions = snapshots.map((s) => `${s.metadata.id}@${s.version}`);
        return `${sink.watermark() ?? '-'}/${versions.join('/')}`;
      },
    },
    get ready() {
      return ready;
    },

    async backends(signal) {
      const down = (error: unknown) => ({ ready: false, detail: (error as Error).message });
      const usesSpeedStore = runs('api') || runs('speed');
      const [busHealth, lakeHealth, speedHealth] = await Promise.all([
        bus.health(signal).catch(down),
        tables.bars1m.snapshot(undefined, signal).then((snapshot) => {
          const watermark = sink.watermark();
          const age = watermark === undefined ? null : (clock.now() - watermark) / SECOND_US;
          return {
            ready: true,
            detail: `${tables.bars1m.tablePath} at version ${snapshot.version}; watermark ${
              watermark === undefined ? 'none yet' : `${isoOfMicros(watermark)}, ${age} s old`
            }`,
            version: snapshot.version,
            watermarkAgeSeconds: age,
          };
        }, down),
        usesSpeedStore ? speedStore.health(signal).catch(down) : undefined,
      ]);
      return {
        bus: { backend: config.profile.bus.backend, ...busHealth },
        lake: { backend: config.profile.lake.backend, ...lakeHealth },
        // A sink or a producer alone never opens the speed store: nothing to list.
        ...(speedHealth
          ? { speedStore: { backend: config.profile.speedStore.backend, ...speedHealth } }
          : {}),
      };
    },

    async start(options = {}) {
      const live = options.live ?? true;
      const signal = lifetime.signal;
      let backfill: BackfillResult | undefined;
      if (simulator && runs('ingest')) {
        // History is the producer's to fill: it writes through the sink's commit path.
        backfill = await backfillFromSimulator({
          simulator,
          ingestor,
          sink,
          calendar,
          now: clock.now(),
          sessions: config.backfillSessions,
          signal,
        });
      }
      if (runs('speed')) await speed.start(signal);
      else if (runs('api')) await relayLiveTrades(bus, hub, signal);
      if (runs('sink')) await sink.start(bus, signal, { timer: live });
      else if (live) {
        // The sink runs in another process: follow its committed watermark in the table.
        const follow = setInterval(() => {
          sink
            .refreshWatermark()
            .catch((error) => console.error('watermark refresh failed:', error));
        }, config.batchIntervalSeconds * 1000);
        signal.addEventListener('abort', () => clearInterval(follow), { once: true });
      }
      if (simulator && runs('ingest')) {
        // The lake holds everything before the watermark; the live tape starts there.
        feed = new SimulatorFeed(
          simulator,
          ingestor,
          clock,
          sink.watermark() ?? floorToMinute(clock.now()),
        );
        if (live) void feed.run(signal);
      }
      if (live && runs('sink') && config.maintenanceIntervalMinutes > 0) {
        const maintenance = setInterval(() => {
          maintainLake(tables, signal)
            .then(({ results }) => {
              for (const r of results.filter((r) => r.status !== 'unchanged')) {
                console.log(
                  `alphalake: maintenance of ${r.table}: ${r.status}`,
                  r.error ??
                    `${r.filesRemoved} → ${r.filesAdded} files, ${r.filesVacuumed} vacuumed`,
                );
              }
            })
            .catch((error) => console.error('lake maintenance failed:', error));
        }, config.maintenanceIntervalMinutes * 60_000);
        signal.addEventListener('abort', () => clearInterval(maintenance), { once: true });
      }
      if (live && runs('speed')) {
        const retention = config.speedRetentionMinutes * MINUTE_US;
        const evict = setInterval(() => {
          const watermark = sink.watermark() ?? clock.now();
          // Keep a margin below the watermark so a query that read the old watermark still finds its rows.
          const before = Math.min(watermark - 5 * MINUTE_US, clock.now() - retention);
          speed
            .evictBefore(before)
            .catch((error) => console.error('speed eviction failed:', error));
        }, 30_000);
        signal.addEventListener('abort', () => clearInterval(evict), { once: true });
      }
      ready = true;
      return { backfill, watermark: sink.watermark() };
    },

    async stop() {
      lifetime.abort();
      loopDelay.disable();
      if (runs('sink')) {
        await sink.flush().catch((error) => console.error('final lake flush failed:', error));
      }
      await bus.close();
      await speedStore.close();
    },
  };
}

/**
 * An api process without the speed layer still serves live trade subscriptions: it reads
 * the trades topic in a group of its own (every api process sees every trade, from the
 * end as of its start) and hands them to its live hub. Live bars need the speed layer's
 * aggregation, so an api alone does not push them.
 */
async function relayLiveTrades(bus: StreamBus, hub: LiveHub, signal: AbortSignal): Promise<void> {
  await bus.subscribe<Trade>(
    'trades',
    async (records) =>
      hub.publish(
        'trade',
        records.map((record) => record.value),
      ),
    { group: `api-live-${randomUUID()}`, signal },
  );
}

/** The stream bus: in-process, or Kafka (KAFKA_BROKERS). */
async function openBus(profile: BusProfile): Promise<StreamBus> {
  if (profile.backend === 'memory') return new MemoryBus();
  return KafkaBus.connect({
    brokers: profile.brokers,
    clientId: profile.clientId,
    topicNames: profile.topics,
    partitions: profile.partitions,
    replicationFactor: profile.replicationFactor,
    compression: profile.compression,
  });
}

/** The object store the lake lives on: a local folder, or S3 (LAKE_URI=s3://…). */
function openLakeStore(lake: LakeProfile): ObjectStore {
  if (lake.backend === 'local') return localObjectStore(lake.root);
  return s3ObjectStore({
    bucket: lake.bucket,
    prefix: lake.prefix,
    ...(lake.endpoint ? { endpoint: lake.endpoint } : {}),
    region: lake.region,
    forcePathStyle: lake.forcePathStyle,
    cacheDir: lake.cacheDir,
    cacheMaxBytes: lake.cacheMaxBytes,
  });
}

/** The speed store: in-process, or Cassandra (CASSANDRA_CONTACT_POINTS). */
async function openSpeedStore(profile: SpeedStoreProfile, clock: Clock): Promise<SpeedStore> {
  if (profile.backend === 'memory') return new MemorySpeedStore();
  return CassandraSpeedStore.open({
    contactPoints: profile.contactPoints,
    localDataCenter: profile.localDataCenter,
    keyspace: profile.keyspace,
    replication: replicationOf(profile.replication),
    ttlSeconds: profile.ttlSeconds,
    clock,
  });
}

/** Config's CQL replication map (`{ class, replication_factor }` or `{ class, dc: n, … }`) for the store. */
function replicationOf(map: Readonly<Record<string, string | number>>): CassandraReplication {
  const { class: strategy, replication_factor: factor, ...dataCenters } = map;
  if (strategy === 'SimpleStrategy') return { class: 'SimpleStrategy', factor: Number(factor) };
  const perDc = Object.fromEntries(Object.entries(dataCenters).map(([dc, n]) => [dc, Number(n)]));
  return {
    class: 'NetworkTopologyStrategy',
    factor: Math.max(...Object.values(perDc)),
    dataCenters: perDc,
  };
}
