import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  LakeBrowser,
  LakeCheckpointSink,
  RejectsLog,
  VendorBarsLog,
  LakeSink,
  LambdaView,
  MarketData,
  NewsWriter,
  openMedallion,
  type Medallion,
} from './batch/index.js';
import {
  Accounts,
  FileUserStore,
  jwtAuthenticator,
  MongoUserStore,
  OPEN_DOOR,
  type AccountAudit,
  type Authenticator,
  type AuthSettings,
  type UserStore,
} from './auth/index.js';
import {
  ROLES,
  type BusProfile,
  type Config,
  type JobsProfile,
  type MdmProfile,
  type LakeProfile,
  type Role,
  type SpeedStoreProfile,
} from './config/index.js';
import {
  AlphalakeError,
  calendarNamed,
  floorToMinute,
  DEFAULT_CONDITION_RULES,
  invariant,
  isAlphalakeError,
  isoOfMicros,
  MINUTE_US,
  SECOND_US,
  systemClock,
  type Clock,
  type ConditionRules,
  type CorporateAction,
  type Trade,
} from './domain/index.js';
import {
  backfillFromSimulator,
  FeedImperfector,
  Ingestor,
  MarketSimulator,
  PolygonReferenceData,
  PolygonRestClient,
  SimulatorFeed,
  YahooChartClient,
  YahooReferenceData,
  type BackfillResult,
  type SimulatorEventSink,
} from './ingest/index.js';
import {
  configureDuckDB,
  localObjectStore,
  QueryCache,
  s3ObjectStore,
  type ObjectStore,
} from './lake/index.js';
import {
  EmbeddedJobBackend,
  JobService,
  type JobAuditLog,
  JobWorker,
  MongoJobBackend,
  simulatorBackfill,
  type BackfillSource,
  type JobBackend,
  type JobResources,
  type MaintainedTable,
} from './jobs/index.js';
import {
  assertRefreshComplete,
  changedRecords,
  EmbeddedMasterDataStore,
  MasterData,
  MongoMasterDataStore,
  refreshReferenceData,
  tickersToRefresh,
  lacksListingDate,
  type MasterDataStore,
  type ReferenceDataSource,
  type SymbolDirectory,
} from './mdm/index.js';
import {
  CassandraSpeedStore,
  LiveHub,
  MemorySpeedStore,
  SpeedLayer,
  type CassandraReplication,
  type SpeedStore,
} from './speed/index.js';
import { createLogger, setProcessLogger, type Logger } from './logging/index.js';
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
  /** Master data over the embedded store or MongoDB (MONGODB_URI): the directory above. */
  readonly masterData: MasterData;
  readonly ingestor: Ingestor;
  readonly simulator: MarketSimulator | undefined;
  /** The simulator as a live source, once started. */
  readonly feed: SimulatorFeed | undefined;
  readonly api: ApiServices;
  /**
   * Who a request is (AUTH_MODE): the GraphQL server asks it for every request's
   * principal before anything runs.
   */
  readonly auth: Authenticator;
  /**
   * Jobs as the API sees them, when this process opened the job store: the embedded
   * store only in a process that runs every role (it is one process's), MongoDB in any
   * api process. Undefined elsewhere.
   */
  readonly jobs: JobService | undefined;
  /** The process's structured log (JSON lines). */
  readonly logger: Logger;
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
  /**
   * Runs a job worker in this process (`alphalake worker`, or `start` per
   * JOBS_SERVE_WORKER): it opens the job store if the platform has not.
   */
  startJobWorker(): Promise<JobWorker>;
  stop(): Promise<void>;
}

export interface StartReport {
  readonly backfill: BackfillResult | undefined;
  readonly watermark: number | undefined;
}

const MEBIBYTE = 1024 * 1024;

export interface PlatformDependencies {
  readonly clock?: Clock;
  /** Open the job store even where the API would not (the `alphalake worker` process). */
  readonly jobStore?: boolean;
  /** Where the platform logs. @default JSON lines on stdout at LOG_LEVEL */
  readonly logger?: Logger;
}

export async function createPlatform(
  config: Config,
  deps: PlatformDependencies = {},
): Promise<Platform> {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? createLogger({ level: config.logLevel });
  setProcessLogger(logger);
  configureDuckDB({ maxConnections: config.duckdbConnections });
  const roles = config.roles;
  const runs = (role: Role) => roles.includes(role);
  // A server that could verify no token refuses to start (`serve` checks it first, with
  // requireVerifiableTokens); a process that answers no request (a worker, a producer)
  // may run every role without token settings.
  const authSettings = authSettingsOf(config);
  const store = openLakeStore(config.profile.lake);
  const bus = await openBus(config.profile.bus);
  // Only the api and the speed layer use the speed store: a sink or a producer alone
  // does not connect to Cassandra (an unused in-process store stands in).
  const speedStore =
    runs('api') || runs('speed')
      ? await openSpeedStore(config.profile.speedStore, clock)
      : new MemorySpeedStore();
  const hub = new LiveHub({ queueLimit: config.liveQueueLimit });
  // Only the api (reads, edits) and ingest (validation) use master data: a sink or a speed
  // process alone keeps none, so it neither opens MongoDB nor shares the embedded folder.
  // A job worker keeps it too: `mdm.refresh` writes master data.
  const masterDataStore =
    runs('api') || runs('ingest') || deps.jobStore === true
      ? await openMasterDataStore(config.profile.mdm)
      : await EmbeddedMasterDataStore.open(undefined);
  const masterData = await MasterData.open(masterDataStore, {
    clock,
    unknownSymbols: config.mdmUnknownSymbols,
  });
  // SIM_SYMBOLS exist from the first start on (created once, audited as `system`): the
  // simulator's tickers, and the universe a fresh home starts with for any source.
  if (runs('api') || runs('ingest')) {
    await masterData.ensureSymbols(config.simulatorSymbols, 'system');
  }
  const directory: SymbolDirectory = masterData;
  const queryCache =
    config.lakeQueryCacheMb > 0
      ? new QueryCache({ maxBytes: config.lakeQueryCacheMb * MEBIBYTE })
      : undefined;
  const tables = await openMedallion(store, {
    refreshIntervalMs: config.lakeSnapshotRefreshMs,
    ...(queryCache ? { queryCache } : {}),
    ...queryBounds(config),
  });
  const metrics = new MetricsRegistry();
  // Only the api reads users and keys: other roles get an unopened embedded store.
  const users = runs('api') ? await openUserStore(config) : FileUserStore.inHome(config.home);
  // User and key changes go to master data's audit log, beside symbol edits.
  const accounts = new Accounts(users, clock, accountAuditOf(masterData));
  // Records a process left in the user store's outbox (killed mid-change, or the CLI's).
  if (runs('api')) await accounts.drainAudit();
  const auth = authSettings.mode === 'off' ? OPEN_DOOR : jwtAuthenticator(authSettings, accounts);
  const conditionRules = await conditionRulesFor(config, logger);
  const sink = await LakeSink.open(tables, clock, {
    conditionRules,
    intervalMs: config.batchIntervalSeconds * 1000,
    allowedLatenessUs: 2 * SECOND_US,
    rowsWritten: metrics.counter(
      'alphalake_lake_rows_written_total',
      'Rows committed to the lake, by table.',
      ['table'],
    ),
    onAssigned: (partitions) =>
      console.log(`lake sink: trades partitions [${partitions.join(',')}] assigned`),
  });
  // Daily bars follow the sessions of the market's calendar (the simulator's market).
  const view = new LambdaView(
    tables,
    speedStore,
    () => sink.watermark(),
    calendarNamed(config.simulatorCalendar),
    conditionRules,
  );
  const market = new MarketData(directory, view, clock, new VendorBarsLog(tables.vendorBars));
  const ingestor = ingestorOf(bus, directory, clock, metrics);
  registerPlatformMetrics(metrics, { clock, sink, hub, tables, queryCache });
  const calendar = calendarNamed(config.simulatorCalendar);
  const simulator = config.simulatorEnabled
    ? new MarketSimulator({
        seed: config.simulatorSeed,
        symbols: config.simulatorSymbols,
        calendar,
        tradesPerSecond: config.simulatorTradesPerSecond,
        events: {
          splitsPerYear: config.simulatorSplitsPerYear,
          dividendsPerYear: config.simulatorDividendsPerYear,
          newsPerSession: config.simulatorNewsPerSession,
          newsSignalStrength: config.simulatorNewsSignal,
          haltsPerSession: config.simulatorHaltsPerSession,
        },
      })
    : undefined;
  // The simulator's splits, dividends and news reach master data and bronze.news where
  // this process keeps master data (an api or ingest role); its halts are in its tape.
  const simulatorEvents =
    simulator && (runs('api') || runs('ingest'))
      ? simulatorEventSink(
          masterData,
          ingestor,
          bus,
          new NewsWriter(tables.news, tables.rejects),
          clock,
        )
      : undefined;
  // History is written range by range: of a feed's imperfections, only duplicates apply.
  const historyImperfector =
    config.simulatorDuplicateRate > 0
      ? new FeedImperfector(
          {
            duplicateRate: config.simulatorDuplicateRate,
            outOfOrderRate: 0,
            lateRate: 0,
            lateBatches: 0,
          },
          config.simulatorSeed,
        )
      : undefined;
  const historyExtras = {
    ...(simulatorEvents ? { events: simulatorEvents } : {}),
    ...(historyImperfector ? { imperfector: historyImperfector } : {}),
  };
  const speed = new SpeedLayer(bus, speedStore, hub, calendar, conditionRules);
  const lakeTables: Record<string, MaintainedTable> = Object.fromEntries(
    [tables.trades, tables.bars1m, tables.rejects].map((t) => [t.tablePath.replace('/', '.'), t]),
  );
  const backfillSources: Record<string, BackfillSource> = simulator
    ? {
        simulator: simulatorBackfill({
          simulator,
          ingestor,
          sink,
          now: () => clock.now(),
          ...historyExtras,
        }),
      }
    : {};
  const jobResources: JobResources = {
    tables: lakeTables,
    ...(runs('sink') ? { syncLake: () => sink.flush() } : {}),
    backfillSources,
    // `mdm.refresh`: every change audited as the job (`job:<id>`); records in error fail
    // the job with INCOMPLETE after the rest are applied (docs/mdm.md "Reference data").
    refreshMasterData: async (data, context) => {
      const source = referenceSourceOf(
        config,
        data.source ?? defaultReferenceSource(config),
        masterData,
        data.symbols,
        clock,
      );
      const result = await refreshReferenceData(
        masterData,
        source,
        `job:${context.jobId}`,
        context.signal,
      );
      await context.progress({ percent: 100, rows: changedRecords(result) });
      assertRefreshComplete(result);
    },
  };
  // The embedded job store belongs to one process: the one that runs every role.
  const opensJobStore =
    deps.jobStore === true ||
    (runs('api') && (config.profile.jobs.backend === 'mongodb' || roles.length === ROLES.length));
  const jobBackend = opensJobStore ? openJobBackend(config.profile.jobs) : undefined;
  if (jobBackend) await jobBackend.connect();
  const jobs = jobBackend
    ? new JobService(
        jobBackend,
        {
          tables: Object.keys(lakeTables),
          backfillSources: Object.keys(backfillSources),
          referenceSources: referenceSourceNames(config),
        },
        {
          pollMs: config.jobsPollMs,
          // A mutation's enqueue is audited in the job's own write, then moved here.
          audit: jobAuditOf(masterData),
          now: () => clock.now(),
        },
      )
    : undefined;
  // Enqueue audit records a process left in a job's data (killed before its drain).
  if (jobs) await jobs.drainAudit();
  let worker: JobWorker | undefined;
  const startJobWorker = async (): Promise<JobWorker> => {
    if (worker) return worker;
    invariant(jobBackend, 'the job store is open wherever a worker may start');
    worker = new JobWorker(jobBackend, jobResources, {
      name: `${hostname()}:${process.pid}`,
      pollMs: config.jobsPollMs,
      lockLifetimeMs: config.jobsLockLifetimeMs,
      maxRetries: config.jobsMaxRetries,
      retryDelayMs: config.jobsRetryDelayMs,
      schedules: {
        sync: config.jobsSyncCron,
        compact: config.jobsCompactCron,
        vacuum: config.jobsVacuumCron,
        checkpoint: config.jobsCheckpointCron,
        // Off without a Polygon key (Yahoo is asked only on request).
        refreshMasterData: config.polygonApiKey ? config.jobsMdmRefreshCron : '',
      },
    });
    await worker.start();
    return worker;
  };
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
    masterData,
    ingestor,
    simulator,
    get feed() {
      return feed;
    },
    logger,
    api: {
      market,
      masterData,
      hub,
      lake: new LakeBrowser(
        store,
        config.duckdbStatementTimeoutMs > 0
          ? { statementTimeoutMs: config.duckdbStatementTimeoutMs }
          : {},
      ),
      rejects: new RejectsLog(tables.rejects),
      watermark: () => sink.watermark(),
      metrics,
      accounts,
      ...(jobs ? { jobs } : {}),
      async dataVersion() {
        const snapshots = await Promise.all([tables.trades.snapshot(), tables.bars1m.snapshot()]);
        const versions = snapshots.map((s) => `${s.metadata.id}@${s.version}`);
        // Adjusted reads depend on corporate actions and ticker changes too.
        return `${sink.watermark() ?? '-'}/${versions.join('/')}/mdm@${masterData.revision}`;
      },
    },
    auth,
    jobs,
    get ready() {
      return ready;
    },
    startJobWorker,

    async backends(signal) {
      const down = (error: unknown) => ({ ready: false, detail: (error as Error).message });
      const usesSpeedStore = runs('api') || runs('speed');
      const usesMasterData = runs('api') || runs('ingest');
      const [busHealth, lakeHealth, speedHealth, masterDataHealth] = await Promise.all([
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
        usesMasterData ? masterData.health(signal).catch(down) : undefined,
      ]);
      return {
        bus: { backend: config.profile.bus.backend, ...busHealth },
        lake: { backend: config.profile.lake.backend, ...lakeHealth },
        // A sink or a producer alone never opens the speed store: nothing to list.
        ...(speedHealth
          ? { speedStore: { backend: config.profile.speedStore.backend, ...speedHealth } }
          : {}),
        // Only api and ingest processes keep master data.
        ...(masterDataHealth
          ? { masterData: { backend: config.profile.mdm.backend, ...masterDataHealth } }
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
          ...historyExtras,
        });
      }
      if (runs('speed')) {
        // Bars the watermark has passed are final: pushed once more, closed.
        const unfollow = sink.onWatermark((watermark) => speed.closeBefore(watermark));
        signal.addEventListener('abort', unfollow, { once: true });
        // After a restart the open bars are rebuilt from the trades the store holds
        // (a Cassandra store outlives the process; the in-process one starts empty).
        const symbols = (await directory.list()).map((info) => info.symbol);
        await speed.start(signal, { symbols, now: clock.now() });
      } else if (runs('api')) await relayLiveTrades(bus, hub, signal);
      if (runs('sink')) await sink.start(bus, signal, { timer: live });
      else if (live) {
        // The sink runs in another process: follow its committed watermark in the table.
        const follow = setInterval(() => {
          sink
            .refreshWatermark()
            .catch((error) => logger.error({ err: error }, 'watermark refresh failed'));
        }, config.batchIntervalSeconds * 1000);
        signal.addEventListener('abort', () => clearInterval(follow), { once: true });
      }
      if (simulator && runs('ingest')) {
        // The lake holds everything before the watermark; the live tape starts there.
        const imperfect =
          config.simulatorDuplicateRate +
            config.simulatorOutOfOrderRate +
            config.simulatorLateRate >
          0;
        feed = new SimulatorFeed(
          simulator,
          ingestor,
          clock,
          sink.watermark() ?? floorToMinute(clock.now()),
          imperfect
            ? new FeedImperfector(
                {
                  duplicateRate: config.simulatorDuplicateRate,
                  outOfOrderRate: config.simulatorOutOfOrderRate,
                  lateRate: config.simulatorLateRate,
                  lateBatches: 3,
                },
                config.simulatorSeed,
              )
            : undefined,
          simulatorEvents,
        );
        if (live) void feed.run(signal);
      }
      // Maintenance (compaction, vacuum, checkpoints) runs as scheduled jobs (src/jobs).
      const serveWorker =
        config.jobsServeWorker === 'on' ||
        (config.jobsServeWorker === 'auto' && config.profile.jobs.backend === 'embedded');
      if (live && jobBackend && serveWorker) await startJobWorker();
      if (live) {
        // Other processes edit master data too (in MongoDB, or in the shared embedded folder:
        // the CLI's `mdm refresh`, another role): reload it as often as the lake's watermark.
        const reload = setInterval(() => {
          masterData
            .refresh()
            .catch((error) => logger.error({ err: error }, 'master data refresh failed'));
        }, config.batchIntervalSeconds * 1000);
        signal.addEventListener('abort', () => clearInterval(reload), { once: true });
      }
      if (live && runs('speed')) {
        const retention = config.speedRetentionMinutes * MINUTE_US;
        const evict = setInterval(() => {
          const watermark = sink.watermark() ?? clock.now();
          // Keep a margin below the watermark so a query that read the old watermark still finds its rows.
          const before = Math.min(watermark - 5 * MINUTE_US, clock.now() - retention);
          speed
            .evictBefore(before)
            .catch((error) => logger.error({ err: error }, 'speed eviction failed'));
        }, 30_000);
        signal.addEventListener('abort', () => clearInterval(evict), { once: true });
      }
      ready = true;
      return { backfill, watermark: sink.watermark() };
    },

    async stop() {
      lifetime.abort();
      await worker?.stop();
      if (runs('sink')) {
        await sink
          .flush()
          .catch((error) => logger.error({ err: error }, 'final lake flush failed'));
      }
      await bus.close();
      await speedStore.close();
      await users.close();
      await jobBackend?.disconnect();
      await masterDataStore.close();
    },
  };
}

/**
 * The trade-condition rules bars follow (docs/ingest.md, "Condition codes"): Polygon's
 * live table (GET /v3/reference/conditions) when POLYGON_API_KEY is set, else the fixture
 * of it. A live table that cannot be had within 15 s leaves the fixture's, and says so.
 */
async function conditionRulesFor(config: Config, logger: Logger): Promise<ConditionRules> {
  if (config.polygonApiKey === undefined) return DEFAULT_CONDITION_RULES;
  const client = new PolygonRestClient({
    apiKey: config.polygonApiKey,
    baseUrl: config.polygonApiUrl,
    callsPerMinute: config.polygonCallsPerMinute,
    maxRetries: config.polygonMaxRetries,
    backoffBaseMs: config.polygonBackoffMs,
  });
  try {
    const rules = await client.conditionRules(AbortSignal.timeout(15_000));
    logger.info({ conditions: rules.size }, 'trade-condition rules loaded from Polygon');
    return rules;
  } catch (error) {
    logger.warn(
      { err: error },
      "trade-condition rules not loaded from Polygon: bars follow the fixture's rules",
    );
    return DEFAULT_CONDITION_RULES;
  }
}

/**
 * The simulator's events as the platform takes them: splits and dividends into master
 * data once each (addCorporateActionOnce, as the vendor sources do; one it refuses is a
 * reject, not lost), news through the ingest checks onto the bus's `news` topic and into
 * bronze.news (duplicates dropped by id).
 */
function simulatorEventSink(
  masterData: MasterData,
  ingestor: Ingestor,
  bus: StreamBus,
  news: NewsWriter,
  clock: Clock,
): SimulatorEventSink {
  return {
    async corporateActions(actions, signal) {
      const refused: { action: CorporateAction; reason: string; detail: string }[] = [];
      for (const action of actions) {
        signal?.throwIfAborted();
        try {
          await masterData.addCorporateActionOnce(action, 'source:simulator');
        } catch (error) {
          if (!isAlphalakeError(error)) throw error;
          refused.push({ action, reason: `CORPORATE_ACTION_${error.code}`, detail: error.message });
        }
      }
      if (refused.length === 0) return;
      const receivedAt = clock.now();
      await bus.publish(
        'rejects',
        refused.map(({ action, reason, detail }) => ({
          key: action.symbol,
          value: {
            source: 'simulator',
            kind: 'row',
            reason,
            payload: JSON.stringify(action),
            detail,
            receivedAt,
          },
        })),
        signal ? { signal } : {},
      );
    },
    async news(items, signal) {
      const checked = await ingestor.ingestRecords(
        items.map((value) => ({ kind: 'news' as const, value })),
        'simulator',
        signal ? { signal } : {},
      );
      // Rejects went to the bus's `rejects` topic with the rest (ingestRecords).
      await news.write(checked.news, signal);
    },
  };
}

function ingestorOf(
  bus: StreamBus,
  directory: SymbolDirectory,
  clock: Clock,
  metrics: MetricsRegistry,
): Ingestor {
  return new Ingestor(bus, directory, clock, {
    records: metrics.counter(
      'alphalake_ingested_records_total',
      'Records from sources, by source, kind and outcome (accepted or rejected).',
      ['source', 'kind', 'outcome'],
    ),
    rejects: metrics.counter(
      'alphalake_ingest_rejects_total',
      'Records kept out of the lake, by source, kind and reason (duplicates as DUPLICATE).',
      ['source', 'kind', 'reason'],
    ),
  });
}

/** What `alphalake backfill` needs: the lake's tables, the checking ingest path, the checkpoint sink. */
export interface BackfillContext {
  readonly tables: Medallion;
  readonly ingestor: Ingestor;
  readonly sink: LakeCheckpointSink;
  readonly metrics: MetricsRegistry;
  /** Closes master data (the embedded store's files, or the MongoDB client). */
  close(): Promise<void>;
}

/**
 * The lake and the ingest checks without the bus, speed store or servers: a backfill
 * writes straight into the tables (src/ingest/files/file-backfill.ts). Its ingestor never
 * publishes; an in-process bus stands in for the port.
 */
export async function createBackfillContext(
  config: Config,
  deps: PlatformDependencies = {},
): Promise<BackfillContext> {
  const clock = deps.clock ?? systemClock;
  configureDuckDB({ maxConnections: config.duckdbConnections });
  const tables = await openMedallion(openLakeStore(config.profile.lake));
  const metrics = new MetricsRegistry();
  // Tickers are checked against master data, as on the live ingest path.
  const masterDataStore = await openMasterDataStore(config.profile.mdm);
  const masterData = await MasterData.open(masterDataStore, {
    clock,
    unknownSymbols: config.mdmUnknownSymbols,
  });
  await masterData.ensureSymbols(config.simulatorSymbols, 'system');
  const ingestor = ingestorOf(new MemoryBus(), masterData, clock, metrics);
  const sink = new LakeCheckpointSink(
    tables,
    metrics.counter('alphalake_lake_rows_written_total', 'Rows committed to the lake, by table.', [
      'table',
    ]),
  );
  return { tables, ingestor, sink, metrics, close: () => masterDataStore.close() };
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
    { group: `api-live-${randomUUID()}`, concurrentPartitions: true, signal },
  );
}

/** The auth settings of a config (AUTH_*), for the server and `alphalake auth token`. */
export function authSettingsOf(config: Config): AuthSettings {
  return {
    mode: config.authMode,
    ...(config.authJwtSecret === undefined ? {} : { secret: config.authJwtSecret }),
    ...(config.authJwksUrl === undefined ? {} : { jwksUrl: config.authJwksUrl }),
    issuer: config.authJwtIssuer,
    audience: config.authJwtAudience,
    roleClaim: config.authRoleClaim,
  };
}

/** Users and API keys: a file under ALPHALAKE_HOME, or MongoDB (MONGODB_URI). */
export async function openUserStore(config: Config): Promise<UserStore> {
  const mdm = config.profile.mdm;
  if (mdm.backend === 'embedded') return FileUserStore.inHome(config.home);
  return MongoUserStore.connect(mdm.uri);
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
    retryMaxMs: profile.retryMaxMs,
    sessionTimeoutMs: profile.sessionTimeoutMs,
  });
}

/** The job store: a folder under ALPHALAKE_HOME, or MongoDB (MONGODB_URI). */
function openJobBackend(profile: JobsProfile): JobBackend {
  if (profile.backend === 'embedded') return new EmbeddedJobBackend(profile.folder);
  return MongoJobBackend.create(profile.uri);
}

/** Account changes into master data's audit log, under the id their outbox gave them. */
export function accountAuditOf(masterData: MasterData): AccountAudit {
  return {
    record: (change) =>
      masterData.recordChange(
        change.actor,
        change.action,
        change.subject,
        change.before,
        change.after,
        { id: change.id, at: change.at },
      ),
  };
}

/** Jobs' enqueue audit records into master data's audit log, under the id their job's outbox gave them. */
export function jobAuditOf(masterData: MasterData): JobAuditLog {
  return {
    record: (audit) =>
      masterData.recordChange(audit.actor, 'job.enqueue', audit.jobId, null, audit.request, {
        id: audit.id,
        at: audit.at,
      }),
  };
}

/** Master data alone, for a CLI command (`alphalake mdm refresh`): close it when done. */
export async function openMasterData(
  config: Config,
  clock: Clock = systemClock,
): Promise<{ masterData: MasterData; close: () => Promise<void> }> {
  const store = await openMasterDataStore(config.profile.mdm);
  const masterData = await MasterData.open(store, {
    clock,
    unknownSymbols: config.mdmUnknownSymbols,
  });
  return { masterData, close: () => store.close() };
}

/** Reference-data sources this config can reach: Yahoo always, Polygon with POLYGON_API_KEY. */
export function referenceSourceNames(config: Config): string[] {
  return config.polygonApiKey ? ['polygon', 'yahoo'] : ['yahoo'];
}

/** What `mdm.refresh` asks when no source is named: Polygon where a key is set, else Yahoo. */
export function defaultReferenceSource(config: Config): string {
  return config.polygonApiKey ? 'polygon' : 'yahoo';
}

/**
 * A reference-data source by name, over the tickers of master data a refresh asks about
 * (`requested`, else every symbol not DELISTED: tickersToRefresh) when it runs
 * (`mdm.refresh`, `alphalake mdm refresh`). BAD_USER_INPUT for one this config cannot reach.
 */
export function referenceSourceOf(
  config: Config,
  name: string,
  masterData: MasterData,
  requested: readonly string[] | undefined,
  clock: Clock,
  onRetry?: (notice: { path: string; status: number | string; waitMs: number }) => void,
): ReferenceDataSource {
  const tickers = () => tickersToRefresh(masterData, requested);
  if (name === 'polygon' && config.polygonApiKey) {
    return new PolygonReferenceData(
      new PolygonRestClient({
        apiKey: config.polygonApiKey,
        baseUrl: config.polygonApiUrl,
        callsPerMinute: config.polygonCallsPerMinute,
        maxRetries: config.polygonMaxRetries,
        backoffBaseMs: config.polygonBackoffMs,
        ...(onRetry ? { onRetry } : {}),
      }),
      tickers,
      // Polygon's ticker list lacks the listing date: details only for a symbol without one.
      (ticker) => lacksListingDate(masterData, ticker),
    );
  }
  if (name === 'yahoo') {
    return new YahooReferenceData(
      new YahooChartClient({ baseUrl: config.yahooApiUrl, ...(onRetry ? { onRetry } : {}) }),
      tickers,
      () => clock.now(),
    );
  }
  throw new AlphalakeError(
    'BAD_USER_INPUT',
    name === 'polygon'
      ? 'reference source polygon needs POLYGON_API_KEY'
      : `no reference source "${name}"; sources: ${referenceSourceNames(config).join(', ')}`,
    { source: name },
  );
}

/** The master-data store: embedded under ALPHALAKE_HOME/mdm, or MongoDB (MONGODB_URI). */
function openMasterDataStore(profile: MdmProfile): Promise<MasterDataStore> {
  if (profile.backend === 'embedded') return EmbeddedMasterDataStore.open(profile.dir);
  return MongoMasterDataStore.open({ uri: profile.uri });
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
    reconnectMaxMs: profile.reconnectMaxMs,
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

/** What bounds every lake query the API runs: rows it may scan, time it may take. */
function queryBounds(config: Config): { maxScanRows?: number; statementTimeoutMs?: number } {
  return {
    ...(config.maxScanRows > 0 ? { maxScanRows: config.maxScanRows } : {}),
    ...(config.duckdbStatementTimeoutMs > 0
      ? { statementTimeoutMs: config.duckdbStatementTimeoutMs }
      : {}),
  };
}

interface MetricSources {
  readonly clock: Clock;
  readonly sink: LakeSink;
  readonly hub: LiveHub;
  readonly tables: Medallion;
  readonly queryCache: QueryCache | undefined;
}

/**
 * The platform's gauges, read at each scrape: the lake's watermark and its age, each
 * table's version, live subscribers, event-loop delay and the query cache. prom-client's
 * default metrics (process memory and CPU, heap, GC, `nodejs_eventloop_lag_*`) come with
 * the registry; the API server adds its request metrics.
 */
function registerPlatformMetrics(metrics: MetricsRegistry, sources: MetricSources): void {
  const { clock, sink, hub, tables, queryCache } = sources;
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
    'How far the lake watermark trails the clock (the watermark age; the ingest lag of the batch layer).',
    () => {
      const watermark = sink.watermark();
      return watermark === undefined ? undefined : (clock.now() - watermark) / SECOND_US;
    },
  );
  metrics.labelledGauge(
    'alphalake_lake_table_version',
    'The latest committed version of each lake table (Delta PROTOCOL.md "Delta Log Entries").',
    ['table'],
    async () => {
      const all = [tables.trades, tables.bars1m, tables.quotes, tables.rejects, tables.news];
      const snapshots = await Promise.all(all.map((table) => table.snapshot()));
      return snapshots.map((snapshot, i) => ({
        labels: { table: all[i]!.tablePath },
        value: snapshot.version,
      }));
    },
  );
  metrics.gauge(
    'alphalake_live_subscribers',
    'Open live subscriptions (trades, quotes, 1m and 1s bars).',
    () =>
      hub.subscriberCount('trade') +
      hub.subscriberCount('quote') +
      hub.subscriberCount('bar') +
      hub.subscriberCount('secondBar'),
  );
  metrics.gauge(
    'alphalake_ingest_lag_seconds',
    'How far the newest trade to reach the live path (speed layer, subscriptions) trails the clock by its event time: the ingest lag of the speed path.',
    () => {
      const latest = hub.latest('trade');
      return latest === undefined ? undefined : (clock.now() - latest) / SECOND_US;
    },
  );
  metrics.monotonic(
    'alphalake_live_messages_dropped_total',
    'Live updates dropped because a subscriber fell more than LIVE_QUEUE_LIMIT updates behind and was closed as SLOW_CONSUMER (its waiting queue and the overflowing update).',
    () => hub.dropped(),
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
}
