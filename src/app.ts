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
import type { Config, LakeProfile, SpeedStoreProfile } from './config/index.js';
import {
  calendarNamed,
  floorToMinute,
  MINUTE_US,
  SECOND_US,
  systemClock,
  type Clock,
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
import { MemoryBus, type StreamBus } from './stream/index.js';
import type { ApiServices } from './graphql/index.js';

/**
 * The composition root: the only place that picks adapters. Everything else
 * receives ports (StreamBus, SpeedStore, ObjectStore, SymbolDirectory) and a Clock.
 */
export interface Platform {
  readonly config: Config;
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
  /**
   * Backfills history, starts the consumers and, unless `live` is false, the
   * timers (simulator feed, sink flushes, speed eviction). Tests drive a platform
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
  const store = openLakeStore(config.profile.lake);
  const bus: StreamBus = new MemoryBus();
  const speedStore = await openSpeedStore(config.profile.speedStore, clock);
  const hub = new LiveHub();
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
  const view = new LambdaView(tables, speedStore, () => sink.watermark());
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

    async start(options = {}) {
      const live = options.live ?? true;
      const signal = lifetime.signal;
      let backfill: BackfillResult | undefined;
      if (simulator) {
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
      await speed.start(signal);
      await sink.start(bus, signal, { timer: live });
      if (simulator) {
        // The lake holds everything before the watermark; the live tape starts there.
        feed = new SimulatorFeed(
          simulator,
          ingestor,
          clock,
          sink.watermark() ?? floorToMinute(clock.now()),
        );
        if (live) void feed.run(signal);
      }
      if (live && config.maintenanceIntervalMinutes > 0) {
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
      if (live) {
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
      await sink.flush().catch((error) => console.error('final lake flush failed:', error));
      await bus.close();
      await speedStore.close();
    },
  };
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
