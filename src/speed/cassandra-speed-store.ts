import cassandra from 'cassandra-driver';
import {
  AlphalakeError,
  systemClock,
  within,
  type Bar,
  type BarInterval,
  type Clock,
  type Quote,
  type Trade,
} from '../domain/index.js';
import type {
  SpeedStore,
  SpeedStoreCapabilities,
  SpeedStoreHealth,
  TimeRange,
} from './speed-store.js';

/**
 * Microseconds in one unit of the domain's time (`Trade.ts`, `Bar.ts`, `TimeRange`).
 * The domain counts epoch microseconds (docs/time.md), so 1: the one place to change
 * were the unit ever to move. Cassandra always holds epoch µs in `bigint` columns (CQL
 * `timestamp` is only ms).
 */
export const MICROS_PER_TIME_UNIT = 1;

/** Noted in `<keyspace>.schema_version` on start; a store refuses a keyspace of another version. */
export const SPEED_SCHEMA_VERSION = 1;

const DAY_US = 86_400_000_000;
const SCHEMA_COMPONENT = 'speed-store';
/** CQL `LOCAL_QUORUM` (native protocol spec v4, section 3 "[consistency]"). */
const LOCAL_QUORUM = cassandra.types.consistencies.localQuorum;
/**
 * A process rewrites a day-index row at most once an hour (in the clock's unit, which is
 * the domain's), with 2 hours more TTL than the rows, so the index outlives its rows.
 */
const DAY_INDEX_REFRESH = 3_600_000_000 / MICROS_PER_TIME_UNIT;
/** Above this many remembered index rows, those due for a rewrite anyway are forgotten. */
const DAY_INDEX_MEMORY = 100_000;
const DAY_INDEX_EXTRA_TTL_SECONDS = 7_200;
/** Cassandra's largest TTL (20 years, `Attributes.MAX_TTL`). */
const MAX_TTL_SECONDS = 630_720_000;
const PAGE_SIZE = 5_000;
/**
 * Partition keys in one `IN` of a batched read. Cassandra 5's guardrail
 * (`partition_keys_in_select_fail_threshold`) is off by default, but a coordinator holds
 * every listed partition's answer at once; a few hundred keeps that small.
 */
const MAX_IN_KEYS = 200;
/** How long `health` waits for Cassandra's answer (below `/readyz`'s own 3 s limit). */
const HEALTH_TIMEOUT_MS = 2_000;
/** CQL `ONE`: `system.local` is node-local (LocalStrategy), so one replica is all there is. */
const ONE = cassandra.types.consistencies.one;

/** The part of cassandra-driver's `Client` the store calls (its default encoding: `bigint` ↔ Long). */
export interface CassandraClient {
  connect(): Promise<void>;
  execute(
    query: string,
    params?: unknown[],
    options?: CassandraQueryOptions,
  ): Promise<CassandraResultSet>;
  batch(
    queries: { query: string; params: unknown[] }[],
    options?: CassandraQueryOptions,
  ): Promise<unknown>;
  shutdown(): Promise<void>;
}

export interface CassandraQueryOptions {
  prepare?: boolean;
  consistency?: number;
  isIdempotent?: boolean;
  logged?: boolean;
  fetchSize?: number;
  pageState?: string;
}

export interface CassandraResultSet {
  readonly rows: readonly CassandraRow[];
  /** Set when more pages follow. */
  readonly pageState?: string | null;
}

export interface CassandraRow {
  get(column: string): unknown;
}

export interface CassandraReplication {
  /** `NetworkTopologyStrategy` puts `factor` replicas in `localDataCenter` (or per `dataCenters`). */
  readonly class: 'SimpleStrategy' | 'NetworkTopologyStrategy';
  readonly factor: number;
  /** NetworkTopologyStrategy only: replicas per data centre, for a keyspace spanning several. */
  readonly dataCenters?: Readonly<Record<string, number>>;
}

export interface CassandraSpeedStoreOptions {
  /**
   * `host` or `host:port` of nodes to discover the cluster from; required unless
   * `client` is given.
   */
  readonly contactPoints?: readonly string[];
  /** The data centre the driver sends requests to, and the one replicated to. @default 'datacenter1' */
  readonly localDataCenter?: string;
  /** Created on start if absent. @default 'alphalake' */
  readonly keyspace?: string;
  /** Used only when the keyspace is created; an existing keyspace keeps its own. @default NetworkTopologyStrategy, 1 */
  readonly replication?: CassandraReplication;
  /** Every row expires this long after its last write. @default 172800 (2 days) */
  readonly ttlSeconds?: number;
  /** Requests (single rows or batches) in flight at once; writes wait for a slot. @default 128 */
  readonly maxInFlight?: number;
  /** Rows of one partition sent together as one unlogged batch. @default 64 */
  readonly rowsPerBatch?: number;
  /**
   * Longest pause between the driver's attempts to reconnect to a node it marked down
   * (its exponential reconnection policy, from 1 s). The driver's own cap is 10 minutes: a
   * node that stopped answering for half a minute (it marks it down after enough request
   * timeouts) could stay unused for minutes after it was back, and the speed layer's
   * writes with it. Ignored when `client` is given.
   * @default 2000
   */
  readonly reconnectMaxMs?: number;
  /**
   * A client to use instead of one built from `contactPoints`: an instance stays the
   * caller's (the store never shuts it down); a factory's client is the store's.
   */
  readonly client?: CassandraClient | (() => CassandraClient);
  /** Wall clock (in the domain's time unit) for the day index's refresh. @default systemClock */
  readonly clock?: Clock;
  /**
   * How `latestQuotes` and `barsMany` read many tickers: `'partition-in'`, one query per
   * day partition with the tickers in an `IN` on the partition key and `PER PARTITION
   * LIMIT` (the coordinator fans out); `'concurrent'`, the one-ticker reads at once, at
   * most `maxInFlight` in flight. bench/speed-store.ts measures both on the real server
   * (docs/performance.md): on the shared one-node server neither was measurably better,
   * and `concurrent` needs no single coordinator to gather every partition. @default 'concurrent'
   */
  readonly batchedReads?: BatchedReads;
}

/** The two ways the store reads many tickers in one call (`CassandraSpeedStoreOptions.batchedReads`). */
export type BatchedReads = 'partition-in' | 'concurrent';

interface Settings {
  readonly contactPoints: readonly string[];
  readonly localDataCenter: string;
  readonly keyspace: string;
  readonly replication: CassandraReplication;
  readonly ttlSeconds: number;
  readonly maxInFlight: number;
  readonly rowsPerBatch: number;
  readonly batchedReads: BatchedReads;
  readonly reconnectMaxMs: number;
}

export const CASSANDRA_SPEED_STORE_DEFAULTS = Object.freeze({
  localDataCenter: 'datacenter1',
  keyspace: 'alphalake',
  replication: Object.freeze({ class: 'NetworkTopologyStrategy', factor: 1 } as const),
  ttlSeconds: 172_800,
  maxInFlight: 128,
  rowsPerBatch: 64,
  batchedReads: 'concurrent' as BatchedReads,
  reconnectMaxMs: 2_000,
});

/** What a day-index row is about: one table's partitions of a symbol. */
type Series = 'trades' | 'quotes' | `bars_${BarInterval}`;

interface Statement {
  readonly query: string;
  readonly params: unknown[];
}

/** A row for `write`: its series and partition, and its statement's parameters but the TTL. */
interface RowToWrite {
  readonly series: Series;
  readonly symbol: string;
  readonly day: number;
  readonly params: unknown[];
}

/**
 * The speed store on Cassandra (docs/speed.md). Trades, quotes and bars live in
 * (symbol, day) partitions — bars in (symbol, interval, day) — clustered by event time
 * in epoch µs, so a time-range read is a slice of one partition per day and a partition
 * never grows past one day. Every row is written `USING TTL`, so the store empties
 * itself and `evictBefore` is a no-op (a delete would only add tombstones). A small
 * day index (`days`) records which days hold rows for a symbol, so a range read visits
 * only those partitions and the latest quote or current bar is found without a scan.
 *
 * Writes are prepared, idempotent upserts (a replay rewrites the same cells), grouped
 * per partition into unlogged batches (one mutation each; no batch log needed), at
 * most `maxInFlight` requests at once: a caller's `await` is the backpressure.
 * Reads and writes are LOCAL_QUORUM, so a read after a write sees it.
 */
export class CassandraSpeedStore implements SpeedStore {
  readonly capabilities: SpeedStoreCapabilities = { supportsTtl: true };
  private readonly inFlight: InFlightLimit;
  private readonly indexedDays = new Map<string, number>();
  private readonly cql: ReturnType<typeof statements>;
  private closed = false;

  private constructor(
    private readonly client: CassandraClient,
    private readonly ownsClient: boolean,
    private readonly settings: Settings,
    private readonly clock: Clock,
  ) {
    this.inFlight = new InFlightLimit(settings.maxInFlight);
    this.cql = statements(settings.keyspace);
  }

  /**
   * Connects, creates the keyspace and tables if absent (idempotent `IF NOT EXISTS`),
   * and checks the schema version noted in the keyspace.
   */
  static async open(
    options: CassandraSpeedStoreOptions,
    signal?: AbortSignal,
  ): Promise<CassandraSpeedStore> {
    const settings = resolveSettings(options);
    const owns = options.client === undefined || typeof options.client === 'function';
    const client =
      options.client === undefined
        ? defaultClient(settings)
        : typeof options.client === 'function'
          ? options.client()
          : options.client;
    const store = new CassandraSpeedStore(client, owns, settings, options.clock ?? systemClock);
    try {
      signal?.throwIfAborted();
      await client.connect().catch((error: unknown) => {
        throw unavailable(
          `cannot connect to Cassandra at ${settings.contactPoints.join(', ') || "the given client's contact points"}`,
          error,
        );
      });
      for (const cql of schema(settings)) {
        signal?.throwIfAborted();
        await client.execute(cql).catch((error: unknown) => {
          throw unavailable(
            `cannot create the speed store's schema in ${settings.keyspace}`,
            error,
          );
        });
      }
      await store.checkSchemaVersion().catch((error: unknown) => {
        throw unavailable(`cannot read the schema version in ${settings.keyspace}`, error);
      });
      return store;
    } catch (error) {
      if (owns) await client.shutdown().catch(() => undefined);
      throw error;
    }
  }

  async appendTrades(trades: readonly Trade[]): Promise<void> {
    const rows = trades.map((trade) => {
      const ts = micros(trade.ts, 'trade', trade.symbol);
      const size = wholeNumber(trade.size, 'trade size', trade.symbol);
      return {
        series: 'trades' as const,
        symbol: trade.symbol,
        day: dayOf(ts),
        params: [
          trade.symbol,
          dayOf(ts),
          ts,
          wholeNumber(trade.seq, 'trade seq', trade.symbol),
          trade.id,
          trade.price,
          size,
          trade.exchange,
        ],
      };
    });
    await this.write(this.cql.insertTrade, rows);
  }

  async putQuotes(quotes: readonly Quote[]): Promise<void> {
    const rows = quotes.map((quote) => {
      const ts = micros(quote.ts, 'quote', quote.symbol);
      return {
        series: 'quotes' as const,
        symbol: quote.symbol,
        day: dayOf(ts),
        params: [
          quote.symbol,
          dayOf(ts),
          ts,
          quote.bidPrice,
          wholeNumber(quote.bidSize, 'quote bid size', quote.symbol),
          quote.askPrice,
          wholeNumber(quote.askSize, 'quote ask size', quote.symbol),
        ],
      };
    });
    await this.write(this.cql.insertQuote, rows);
  }

  async upsertBars(bars: readonly Bar[]): Promise<void> {
    const rows = bars.map((bar) => {
      const ts = micros(bar.ts, 'bar', bar.symbol);
      return {
        series: `bars_${bar.interval}` as const,
        symbol: bar.symbol,
        day: dayOf(ts),
        params: [
          bar.symbol,
          bar.interval,
          dayOf(ts),
          ts,
          bar.open,
          bar.high,
          bar.low,
          bar.close,
          wholeNumber(bar.volume, 'bar volume', bar.symbol),
          bar.vwap,
          wholeNumber(bar.tradeCount, 'bar trade count', bar.symbol),
        ],
      };
    });
    await this.write(this.cql.insertBar, rows);
  }

  async bars(
    symbol: string,
    interval: BarInterval,
    range: TimeRange,
    limit: number,
  ): Promise<Bar[]> {
    const rows = await this.rangeRead(
      symbol,
      `bars_${interval}`,
      range,
      limit,
      this.cql.selectBars,
      (day, from, to, n) => [symbol, interval, day, from, to, n],
    );
    return rows.map((row) => barFromRow(symbol, interval, row));
  }

  async trades(symbol: string, range: TimeRange, limit: number): Promise<Trade[]> {
    const rows = await this.rangeRead(
      symbol,
      'trades',
      range,
      limit,
      this.cql.selectTrades,
      (day, from, to, n) => [symbol, day, from, to, n],
    );
    return rows.map((row) => ({
      symbol,
      ts: fromMicros(row.get('ts')),
      seq: longToNumber(row.get('seq')),
      price: row.get('price') as number,
      size: longToNumber(row.get('size')),
      id: row.get('id') as string,
      exchange: row.get('exchange') as string,
    }));
  }

  async quotes(symbol: string, range: TimeRange, limit: number): Promise<Quote[]> {
    const rows = await this.rangeRead(
      symbol,
      'quotes',
      range,
      limit,
      this.cql.selectQuotes,
      (day, from, to, n) => [symbol, day, from, to, n],
    );
    return rows.map((row) => quoteFromRow(symbol, row));
  }

  async latestQuote(symbol: string): Promise<Quote | undefined> {
    const row = await this.newestRow(symbol, 'quotes', this.cql.selectLatestQuote, (day) => [
      symbol,
      day,
    ]);
    return row && quoteFromRow(symbol, row);
  }

  async latestQuotes(symbols: readonly string[]): Promise<(Quote | undefined)[]> {
    const unique = [...new Set(symbols)];
    const found = new Map<string, Quote>();
    if (this.settings.batchedReads === 'concurrent') {
      const quotes = await mapBounded(unique, this.settings.maxInFlight, (symbol) =>
        this.latestQuote(symbol),
      );
      unique.forEach((symbol, i) => quotes[i] && found.set(symbol, quotes[i]));
    } else {
      // The newest day each ticker has quotes on, then per day one query for its tickers.
      const newest = await this.daysOf(unique, 'quotes');
      const byDay = new Map<number, string[]>();
      for (const [symbol, days] of newest) {
        const day = Math.max(...days);
        byDay.set(day, [...(byDay.get(day) ?? []), symbol]);
      }
      for (const [day, daySymbols] of byDay) {
        for (const part of chunks(daySymbols, MAX_IN_KEYS)) {
          // ORDER BY with IN on the partition key is refused when paged; one row per
          // partition needs no paging (fetchSize 0).
          for (const row of await this.selectUnpaged(this.cql.selectLatestQuotesIn, [part, day])) {
            const symbol = row.get('symbol') as string;
            found.set(symbol, quoteFromRow(symbol, row));
          }
        }
      }
      // A newest day whose rows have all expired (its index row outlives them): the
      // one-ticker read walks the older days.
      const left = [...newest.keys()].filter((symbol) => !found.has(symbol));
      const older = await mapBounded(left, this.settings.maxInFlight, (symbol) =>
        this.latestQuote(symbol),
      );
      left.forEach((symbol, i) => older[i] && found.set(symbol, older[i]));
    }
    return symbols.map((symbol) => found.get(symbol));
  }

  async barsMany(
    symbols: readonly string[],
    interval: BarInterval,
    range: TimeRange,
    limit: number,
  ): Promise<Bar[][]> {
    const unique = [...new Set(symbols)];
    const found = new Map<string, Bar[]>();
    if (this.settings.batchedReads === 'concurrent') {
      const bars = await mapBounded(unique, this.settings.maxInFlight, (symbol) =>
        this.bars(symbol, interval, range, limit),
      );
      unique.forEach((symbol, i) => found.set(symbol, bars[i]!));
    } else if (unique.length > 0) {
      const fromUs = micros(range.from, 'range start', unique[0]!);
      const toUs = micros(range.to, 'range end', unique[0]!);
      if (fromUs < toUs && limit > 0) {
        const series: Series = `bars_${interval}`;
        const days = await this.daysOf(unique, series, [dayOf(fromUs), dayOf(toUs - 1)]);
        const byDay = new Map<number, string[]>();
        for (const [symbol, held] of days) {
          for (const day of held) byDay.set(day, [...(byDay.get(day) ?? []), symbol]);
        }
        // Oldest day first, so each ticker's bars arrive in time order.
        for (const day of [...byDay.keys()].sort((a, b) => a - b)) {
          const wanting = byDay.get(day)!.filter((s) => (found.get(s)?.length ?? 0) < limit);
          for (const part of chunks(wanting, MAX_IN_KEYS)) {
            const cqlLimit = Math.min(limit, 2_147_483_647);
            const rows = await this.select(
              this.cql.selectBarsIn,
              [part, interval, day, fromUs, toUs, cqlLimit],
              Number.POSITIVE_INFINITY,
            );
            for (const row of rows) {
              const symbol = row.get('symbol') as string;
              let list = found.get(symbol);
              if (!list) found.set(symbol, (list = []));
              if (list.length < limit) list.push(barFromRow(symbol, interval, row));
            }
          }
        }
      }
    }
    return symbols.map((symbol) => [...(found.get(symbol) ?? [])]);
  }

  async currentBar(symbol: string, interval: BarInterval): Promise<Bar | undefined> {
    const row = await this.newestRow(
      symbol,
      `bars_${interval}`,
      this.cql.selectLatestBar,
      (day) => [symbol, interval, day],
    );
    return row && barFromRow(symbol, interval, row);
  }

  /** A no-op: rows expire by their TTL, and the lambda view never reads below the watermark. */
  async evictBefore(_ts: number): Promise<void> {}

  /**
   * Ready when a node answers `SELECT release_version FROM system.local` (node-local, no
   * partition to find) within `HEALTH_TIMEOUT_MS`: the cheapest request that proves the
   * driver has a live connection to the cluster.
   */
  async health(signal?: AbortSignal): Promise<SpeedStoreHealth> {
    const where = this.settings.contactPoints.join(',') || "the given client's contact points";
    if (this.closed) return { ready: false, detail: 'Cassandra speed store: closed' };
    try {
      const result = await within(
        this.client.execute('SELECT release_version FROM system.local', [], { consistency: ONE }),
        HEALTH_TIMEOUT_MS,
        signal,
      );
      const version = result.rows[0]?.get('release_version');
      return {
        ready: true,
        detail: `Cassandra ${String(version)} at ${where}, keyspace ${this.settings.keyspace}`,
      };
    } catch (error) {
      return {
        ready: false,
        detail: `Cassandra at ${where} does not answer: ${(error as Error).message}`,
      };
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.inFlight.idle();
    if (this.ownsClient) await this.client.shutdown();
  }

  private async checkSchemaVersion(): Promise<void> {
    const read = async () =>
      (
        await this.client.execute(this.cql.selectVersion, [SCHEMA_COMPONENT], { prepare: true })
      ).rows[0]?.get('version') as number | undefined;
    let version = await read();
    if (version === undefined) {
      // IF NOT EXISTS: of several processes starting at once, one notes the version.
      await this.client.execute(this.cql.insertVersion, [SCHEMA_COMPONENT, SPEED_SCHEMA_VERSION], {
        prepare: true,
      });
      version = await read();
    }
    if (version !== SPEED_SCHEMA_VERSION) {
      throw new AlphalakeError(
        'SCHEMA_MISMATCH',
        `keyspace ${this.settings.keyspace} holds speed store schema version ${version}; this alphalake writes version ${SPEED_SCHEMA_VERSION}`,
        { keyspace: this.settings.keyspace, found: version, expected: SPEED_SCHEMA_VERSION },
      );
    }
  }

  /**
   * Writes rows of one table: first the day-index rows they need, then the rows,
   * per partition (symbol, series, day) in unlogged batches of `rowsPerBatch`.
   */
  private async write(query: string, rows: readonly RowToWrite[]): Promise<void> {
    if (rows.length === 0) return;
    const ttl = this.settings.ttlSeconds;
    const partitions = new Map<string, Statement[]>();
    for (const row of rows) {
      const key = `${row.symbol}\u0000${row.series}\u0000${row.day}`;
      const statement = { query, params: [...row.params, ttl] };
      const list = partitions.get(key);
      if (list) list.push(statement);
      else partitions.set(key, [statement]);
    }
    const now = this.clock.now();
    const index = new Map<string, Statement>();
    for (const row of rows) {
      const key = `${row.symbol}\u0000${row.series}\u0000${row.day}`;
      const written = this.indexedDays.get(key);
      if (index.has(key) || (written !== undefined && now - written < DAY_INDEX_REFRESH)) {
        continue;
      }
      index.set(key, {
        query: this.cql.insertDay,
        params: [row.symbol, row.series, row.day, ttl + DAY_INDEX_EXTRA_TTL_SECONDS],
      });
    }
    if (index.size > 0) {
      await this.send([...index.values()].map((statement) => [statement]));
      for (const key of index.keys()) this.indexedDays.set(key, now);
      if (this.indexedDays.size > DAY_INDEX_MEMORY) {
        for (const [key, at] of this.indexedDays) {
          if (now - at >= DAY_INDEX_REFRESH) this.indexedDays.delete(key);
        }
      }
    }
    const requests: Statement[][] = [];
    for (const statements of partitions.values()) {
      for (let i = 0; i < statements.length; i += this.settings.rowsPerBatch) {
        requests.push(statements.slice(i, i + this.settings.rowsPerBatch));
      }
    }
    await this.send(requests);
  }

  /**
   * Sends each request (one statement, or an unlogged batch of one partition's) as soon
   * as a slot is free; stops sending at the first failure and throws once all in flight
   * have settled. Every write is an idempotent upsert, so the caller may retry the call.
   */
  private async send(requests: readonly Statement[][]): Promise<void> {
    const failures: unknown[] = [];
    const pending: Promise<void>[] = [];
    for (const request of requests) {
      await this.inFlight.acquire();
      if (failures.length > 0) {
        this.inFlight.release();
        break;
      }
      const options = { prepare: true, consistency: LOCAL_QUORUM, isIdempotent: true };
      const sent =
        request.length === 1
          ? this.client.execute(request[0]!.query, request[0]!.params, options)
          : this.client.batch(request, { ...options, logged: false });
      pending.push(
        sent.then(
          () => this.inFlight.release(),
          (error: unknown) => {
            failures.push(error);
            this.inFlight.release();
          },
        ),
      );
    }
    await Promise.all(pending);
    if (failures.length > 0) {
      throw unavailable(
        `${failures.length} of ${requests.length} Cassandra writes to ${this.settings.keyspace} failed (writes are idempotent: retry the call)`,
        failures[0],
      );
    }
  }

  /** Rows of `series` in `range`, day partition by day partition in time order, at most `limit`. */
  private async rangeRead(
    symbol: string,
    series: Series,
    range: TimeRange,
    limit: number,
    query: string,
    params: (day: number, fromUs: number, toUs: number, limit: number) => unknown[],
  ): Promise<CassandraRow[]> {
    const fromUs = micros(range.from, 'range start', symbol);
    const toUs = micros(range.to, 'range end', symbol);
    if (fromUs >= toUs || limit <= 0) return [];
    const days = await this.select(
      this.cql.selectDaysBetween,
      [symbol, series, dayOf(fromUs), dayOf(toUs - 1)],
      Number.POSITIVE_INFINITY,
    );
    const rows: CassandraRow[] = [];
    // The index clusters days newest first; read oldest first.
    for (const dayRow of days.reverse()) {
      const room = limit - rows.length;
      if (room <= 0) break;
      const day = dayRow.get('day') as number;
      // CQL's LIMIT is an int; a larger room still stops at `limit` rows, page by page.
      const cqlLimit = Math.min(room, 2_147_483_647);
      rows.push(...(await this.select(query, params(day, fromUs, toUs, cqlLimit), room)));
    }
    return rows;
  }

  /** The newest row of `series`: in the newest day partition that still holds one. */
  private async newestRow(
    symbol: string,
    series: Series,
    query: string,
    params: (day: number) => unknown[],
  ): Promise<CassandraRow | undefined> {
    const days = await this.select(this.cql.selectDays, [symbol, series], Number.POSITIVE_INFINITY);
    for (const dayRow of days) {
      const [row] = await this.select(query, params(dayRow.get('day') as number), 1);
      if (row) return row;
    }
    return undefined;
  }

  /**
   * The days each of `symbols` holds rows of `series` on (within `between`, inclusive,
   * when given), by `IN` on the day index's partition key; tickers with none are absent.
   */
  private async daysOf(
    symbols: readonly string[],
    series: Series,
    between?: readonly [number, number],
  ): Promise<Map<string, number[]>> {
    const days = new Map<string, number[]>();
    for (const part of chunks(symbols, MAX_IN_KEYS)) {
      const rows = await this.select(
        between ? this.cql.selectDaysInBetween : this.cql.selectDaysIn,
        between ? [part, series, between[0], between[1]] : [part, series],
        Number.POSITIVE_INFINITY,
      );
      for (const row of rows) {
        const symbol = row.get('symbol') as string;
        const list = days.get(symbol);
        if (list) list.push(row.get('day') as number);
        else days.set(symbol, [row.get('day') as number]);
      }
    }
    return days;
  }

  /** One unpaged query (fetchSize 0: the driver asks for every row in one response). */
  private async selectUnpaged(query: string, params: unknown[]): Promise<readonly CassandraRow[]> {
    try {
      const result = await this.client.execute(query, params, {
        prepare: true,
        consistency: LOCAL_QUORUM,
        fetchSize: 0,
      });
      return result.rows;
    } catch (error) {
      throw unavailable(`a Cassandra read from ${this.settings.keyspace} failed`, error);
    }
  }

  /** All rows of a query, page by page, up to `limit`. */
  private async select(query: string, params: unknown[], limit: number): Promise<CassandraRow[]> {
    const rows: CassandraRow[] = [];
    let pageState: string | undefined;
    try {
      do {
        const result = await this.client.execute(query, params, {
          prepare: true,
          consistency: LOCAL_QUORUM,
          fetchSize: Math.min(PAGE_SIZE, limit - rows.length),
          ...(pageState === undefined ? {} : { pageState }),
        });
        rows.push(...result.rows);
        pageState = result.pageState ?? undefined;
      } while (pageState !== undefined && rows.length < limit);
    } catch (error) {
      throw unavailable(`a Cassandra read from ${this.settings.keyspace} failed`, error);
    }
    return rows;
  }
}

/**
 * `fn` of each item, at most `limit` at once, the answers in the items' order. The first
 * failure is thrown once the calls started have settled.
 */
async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const answers = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const at = next++;
      answers[at] = await fn(items[at]!);
    }
  };
  const workers = Array.from({ length: Math.min(limit, items.length) }, worker);
  const settled = await Promise.allSettled(workers);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return answers;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const parts: T[][] = [];
  for (let i = 0; i < items.length; i += size) parts.push(items.slice(i, i + size));
  return parts;
}

/** Bounds the requests in flight; `acquire` waits for a free slot, in arrival order. */
class InFlightLimit {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly idleWaiters: (() => void)[] = [];

  constructor(private readonly max: number) {}

  async acquire(): Promise<void> {
    if (this.active < this.max) {
      this.active += 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) {
      next(); // the slot passes straight to the next waiter
      return;
    }
    this.active -= 1;
    if (this.active === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  async idle(): Promise<void> {
    if (this.active === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }
}

function statements(keyspace: string) {
  const ks = keyspace;
  return Object.freeze({
    insertTrade: `INSERT INTO ${ks}.trades (symbol, day, ts, seq, id, price, size, exchange) VALUES (?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?`,
    insertQuote: `INSERT INTO ${ks}.quotes (symbol, day, ts, bid_price, bid_size, ask_price, ask_size) VALUES (?, ?, ?, ?, ?, ?, ?) USING TTL ?`,
    insertBar: `INSERT INTO ${ks}.bars (symbol, interval, day, ts, open, high, low, close, volume, vwap, trade_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?`,
    insertDay: `INSERT INTO ${ks}.days (symbol, series, day) VALUES (?, ?, ?) USING TTL ?`,
    selectTrades: `SELECT ts, seq, id, price, size, exchange FROM ${ks}.trades WHERE symbol = ? AND day = ? AND ts >= ? AND ts < ? LIMIT ?`,
    selectQuotes: `SELECT ts, bid_price, bid_size, ask_price, ask_size FROM ${ks}.quotes WHERE symbol = ? AND day = ? AND ts >= ? AND ts < ? LIMIT ?`,
    selectBars: `SELECT ts, open, high, low, close, volume, vwap, trade_count FROM ${ks}.bars WHERE symbol = ? AND interval = ? AND day = ? AND ts >= ? AND ts < ? LIMIT ?`,
    selectLatestQuote: `SELECT ts, bid_price, bid_size, ask_price, ask_size FROM ${ks}.quotes WHERE symbol = ? AND day = ? ORDER BY ts DESC LIMIT 1`,
    selectLatestBar: `SELECT ts, open, high, low, close, volume, vwap, trade_count FROM ${ks}.bars WHERE symbol = ? AND interval = ? AND day = ? ORDER BY ts DESC LIMIT 1`,
    selectDays: `SELECT day FROM ${ks}.days WHERE symbol = ? AND series = ?`,
    selectDaysBetween: `SELECT day FROM ${ks}.days WHERE symbol = ? AND series = ? AND day >= ? AND day <= ?`,
    selectDaysIn: `SELECT symbol, day FROM ${ks}.days WHERE symbol IN ? AND series = ?`,
    selectDaysInBetween: `SELECT symbol, day FROM ${ks}.days WHERE symbol IN ? AND series = ? AND day >= ? AND day <= ?`,
    selectLatestQuotesIn: `SELECT symbol, ts, bid_price, bid_size, ask_price, ask_size FROM ${ks}.quotes WHERE symbol IN ? AND day = ? ORDER BY ts DESC PER PARTITION LIMIT 1`,
    selectBarsIn: `SELECT symbol, ts, open, high, low, close, volume, vwap, trade_count FROM ${ks}.bars WHERE symbol IN ? AND interval = ? AND day = ? AND ts >= ? AND ts < ? PER PARTITION LIMIT ?`,
    selectVersion: `SELECT version FROM ${ks}.schema_version WHERE component = ?`,
    insertVersion: `INSERT INTO ${ks}.schema_version (component, version) VALUES (?, ?) IF NOT EXISTS`,
  });
}

/**
 * The schema, as idempotent statements. Time-window compaction suits rows that arrive in
 * time order and expire by TTL: whole SSTables are dropped once every row in them has
 * expired. No row is ever deleted, so tombstones come only from expiry and a short
 * gc_grace_seconds is safe.
 */
function schema(settings: Settings): string[] {
  const ks = settings.keyspace;
  const replication =
    settings.replication.class === 'SimpleStrategy'
      ? `{'class': 'SimpleStrategy', 'replication_factor': ${settings.replication.factor}}`
      : `{'class': 'NetworkTopologyStrategy', ${Object.entries(
          settings.replication.dataCenters ?? {
            [settings.localDataCenter]: settings.replication.factor,
          },
        )
          .map(([dc, factor]) => `'${dc.replaceAll("'", "''")}': ${factor}`)
          .join(', ')}}`;
  const windowHours = Math.max(1, Math.ceil(settings.ttlSeconds / 3600 / 24));
  const timeSeries = `compaction = {'class': 'TimeWindowCompactionStrategy', 'compaction_window_unit': 'HOURS', 'compaction_window_size': ${windowHours}} AND gc_grace_seconds = 10800`;
  return [
    `CREATE KEYSPACE IF NOT EXISTS ${ks} WITH replication = ${replication}`,
    `CREATE TABLE IF NOT EXISTS ${ks}.schema_version (component text PRIMARY KEY, version int)`,
    `CREATE TABLE IF NOT EXISTS ${ks}.trades (
       symbol text, day int, ts bigint, seq bigint, id text, price double, size bigint, exchange text,
       PRIMARY KEY ((symbol, day), ts, seq, id)
     ) WITH CLUSTERING ORDER BY (ts ASC, seq ASC, id ASC) AND ${timeSeries}`,
    `CREATE TABLE IF NOT EXISTS ${ks}.quotes (
       symbol text, day int, ts bigint, bid_price double, bid_size bigint, ask_price double, ask_size bigint,
       PRIMARY KEY ((symbol, day), ts)
     ) WITH CLUSTERING ORDER BY (ts ASC) AND ${timeSeries}`,
    `CREATE TABLE IF NOT EXISTS ${ks}.bars (
       symbol text, interval text, day int, ts bigint,
       open double, high double, low double, close double, volume bigint, vwap double, trade_count bigint,
       PRIMARY KEY ((symbol, interval, day), ts)
     ) WITH CLUSTERING ORDER BY (ts ASC) AND ${timeSeries}`,
    `CREATE TABLE IF NOT EXISTS ${ks}.days (
       symbol text, series text, day int,
       PRIMARY KEY ((symbol, series), day)
     ) WITH CLUSTERING ORDER BY (day DESC)`,
  ];
}

function resolveSettings(options: CassandraSpeedStoreOptions): Settings {
  const defaults = CASSANDRA_SPEED_STORE_DEFAULTS;
  const settings: Settings = {
    contactPoints: Object.freeze([...(options.contactPoints ?? [])]),
    localDataCenter: options.localDataCenter ?? defaults.localDataCenter,
    keyspace: options.keyspace ?? defaults.keyspace,
    replication: Object.freeze({ ...(options.replication ?? defaults.replication) }),
    ttlSeconds: options.ttlSeconds ?? defaults.ttlSeconds,
    maxInFlight: options.maxInFlight ?? defaults.maxInFlight,
    rowsPerBatch: options.rowsPerBatch ?? defaults.rowsPerBatch,
    batchedReads: options.batchedReads ?? defaults.batchedReads,
    reconnectMaxMs: options.reconnectMaxMs ?? defaults.reconnectMaxMs,
  };
  const bad = (field: string, value: unknown, expected: string) =>
    new AlphalakeError(
      'BAD_USER_INPUT',
      `Cassandra speed store option ${field}=${JSON.stringify(value)} is invalid: expected ${expected}`,
      { option: field },
    );
  // Unquoted CQL identifiers: letters, digits, underscores, at most 48 (keyspace names).
  if (!/^[A-Za-z][A-Za-z0-9_]{0,47}$/.test(settings.keyspace)) {
    throw bad('keyspace', settings.keyspace, 'a letter then up to 47 letters, digits or _');
  }
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(settings.localDataCenter)) {
    throw bad('localDataCenter', settings.localDataCenter, 'a data centre name');
  }
  if (!['SimpleStrategy', 'NetworkTopologyStrategy'].includes(settings.replication.class)) {
    throw bad(
      'replication.class',
      settings.replication.class,
      'SimpleStrategy or NetworkTopologyStrategy',
    );
  }
  if (!isIntegerIn(settings.replication.factor, 1, 100)) {
    throw bad('replication.factor', settings.replication.factor, 'an integer from 1 to 100');
  }
  for (const [dc, factor] of Object.entries(settings.replication.dataCenters ?? {})) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(dc) || !isIntegerIn(factor, 1, 100)) {
      throw bad(`replication.dataCenters.${dc}`, factor, 'a data centre name and 1 to 100');
    }
  }
  if (!isIntegerIn(settings.ttlSeconds, 1, MAX_TTL_SECONDS - DAY_INDEX_EXTRA_TTL_SECONDS)) {
    throw bad(
      'ttlSeconds',
      settings.ttlSeconds,
      'a positive integer of seconds, up to about 20 years',
    );
  }
  if (!isIntegerIn(settings.maxInFlight, 1, 32_768)) {
    throw bad('maxInFlight', settings.maxInFlight, 'an integer from 1 to 32768');
  }
  if (!isIntegerIn(settings.rowsPerBatch, 1, 1_000)) {
    throw bad('rowsPerBatch', settings.rowsPerBatch, 'an integer from 1 to 1000');
  }
  if (!['partition-in', 'concurrent'].includes(settings.batchedReads)) {
    throw bad('batchedReads', settings.batchedReads, "'partition-in' or 'concurrent'");
  }
  if (!isIntegerIn(settings.reconnectMaxMs, 1_000, 600_000)) {
    throw bad('reconnectMaxMs', settings.reconnectMaxMs, 'an integer from 1000 to 600000');
  }
  if (options.client === undefined && settings.contactPoints.length === 0) {
    throw bad('contactPoints', settings.contactPoints, 'at least one host[:port]');
  }
  return Object.freeze(settings);
}

function defaultClient(settings: Settings): CassandraClient {
  return new cassandra.Client({
    contactPoints: [...settings.contactPoints],
    localDataCenter: settings.localDataCenter,
    queryOptions: { consistency: LOCAL_QUORUM, prepare: true },
    // The driver's default policy, from 1 s, but capped at `reconnectMaxMs` (not 10 min).
    policies: {
      reconnection: new cassandra.policies.reconnection.ExponentialReconnectionPolicy(
        1_000,
        settings.reconnectMaxMs,
        false,
      ),
    },
  });
}

function isIntegerIn(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

/** A domain time as epoch µs; refused unless exact (a safe integer). */
function micros(ts: number, what: string, symbol: string): number {
  const us = ts * MICROS_PER_TIME_UNIT;
  if (!Number.isSafeInteger(us)) {
    throw new AlphalakeError(
      'BAD_USER_INPUT',
      `${what} time ${ts} of ${symbol} is not an epoch time the speed store can hold exactly`,
      { symbol, ts },
    );
  }
  return us;
}

function fromMicros(value: unknown): number {
  return longToNumber(value) / MICROS_PER_TIME_UNIT;
}

/** A count for a `bigint` column: refused unless a safe integer (Long.fromNumber would truncate). */
function wholeNumber(value: number, what: string, symbol: string): number {
  if (!Number.isSafeInteger(value)) {
    throw new AlphalakeError(
      'BAD_USER_INPUT',
      `${what} ${value} of ${symbol} is not a whole number`,
      {
        symbol,
        value,
      },
    );
  }
  return value;
}

function dayOf(us: number): number {
  return Math.floor(us / DAY_US);
}

/** A `bigint` cell: a driver Long (default encoding) or a BigInt (`useBigIntAsLong`). */
function longToNumber(value: unknown): number {
  if (typeof value === 'bigint') return Number(value);
  return (value as { toNumber(): number }).toNumber();
}

function barFromRow(symbol: string, interval: BarInterval, row: CassandraRow): Bar {
  return {
    symbol,
    interval,
    ts: fromMicros(row.get('ts')),
    open: row.get('open') as number,
    high: row.get('high') as number,
    low: row.get('low') as number,
    close: row.get('close') as number,
    volume: longToNumber(row.get('volume')),
    vwap: row.get('vwap') as number,
    tradeCount: longToNumber(row.get('trade_count')),
  };
}

function quoteFromRow(symbol: string, row: CassandraRow): Quote {
  return {
    symbol,
    ts: fromMicros(row.get('ts')),
    bidPrice: row.get('bid_price') as number,
    bidSize: longToNumber(row.get('bid_size')),
    askPrice: row.get('ask_price') as number,
    askSize: longToNumber(row.get('ask_size')),
  };
}

function unavailable(message: string, cause: unknown): AlphalakeError {
  if (cause instanceof AlphalakeError) return cause;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new AlphalakeError('UNAVAILABLE', `${message}: ${reason}`, {}, { cause });
}
