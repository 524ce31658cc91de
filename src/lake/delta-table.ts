import { randomUUID } from 'node:crypto';
import { AlphalakeError, isAlphalakeError } from '../domain/index.js';
import {
  decodeActionPath,
  parseCommit,
  type Action,
  type AddFile,
  type RemoveFile,
} from './log/index.js';
import { checkpointInterval, deletedFileRetentionMs, writeCheckpoint } from './log/index.js';
import { planAndRewrite, type OptimizeOptions, type OptimizeResult } from './maintenance/index.js';
import { vacuumSnapshot, type VacuumOptions, type VacuumResult } from './maintenance/index.js';
import {
  compareBatch,
  describeDifferences,
  inferColumnType,
  isColumnBatch,
  rowsToBatch,
  type ColumnBatch,
  type Rows,
} from './data/index.js';
import { commitWithRetry, snapshotAfter } from './log/index.js';
import { writeDataFiles } from './data/index.js';
import { commitKey, commitTimestamps, listLog } from './log/index.js';
import { joinKey, sqlString, type ObjectStore } from './storage/index.js';
import { bindFilters, fileMayMatch, type Filter } from './read/index.js';
import {
  type QueryCache,
  queryColumnsSnapshot,
  querySnapshot,
  type ColumnarQueryResult,
  type QueryOptions,
  type QueryResult,
} from './read/index.js';
import {
  MAX_COLUMN_ID_PROPERTY,
  assignColumnMapping,
  columnMappingMode,
  isPrimitive,
  maxColumnIdOf,
  sameType,
  toSchemaString,
  typeName,
  type ColumnSpec,
  type ColumnType,
} from './log/index.js';
import {
  loadSnapshot,
  snapshotFromState,
  type Snapshot,
  type SnapshotTarget,
} from './log/index.js';
import { TableState } from './log/index.js';
import { replaceKeys } from './upsert.js';
import { checkWritable, isAppendOnly, protocolForNewTable } from './log/index.js';

export const ENGINE_INFO = 'alphalake/0.1.0';
/** Table property holding the clustering (sort) columns of new data files, as a JSON array. */
export const CLUSTER_BY_PROPERTY = 'alphalake.clusterBy';

export interface CreateTableOptions {
  readonly schema: readonly ColumnSpec[];
  readonly partitionColumns?: readonly string[];
  /** Columns new data files are sorted by (so min/max statistics prune well). */
  readonly clusterBy?: readonly string[];
  readonly properties?: Readonly<Record<string, string>>;
  readonly name?: string;
  readonly description?: string;
  /** Open the existing table instead of failing with CONFLICT. @default false */
  readonly ifNotExists?: boolean;
  /** How the opened table serves reads (snapshot refresh, query cache). */
  readonly read?: TableReadOptions;
  readonly signal?: AbortSignal;
}

/**
 * How a table instance serves reads. A snapshot is immutable, so one instance builds it
 * once and shares it with every reader until a newer commit lands: commits made through
 * this instance replace it at once; commits by other processes are noticed by a cheap
 * check (does commit `version + 1` exist? Commits are numbered without gaps, PROTOCOL.md
 * "Delta Log Entries") made at most every `refreshIntervalMs`, and only a newer commit
 * costs a listing of the log.
 */
export interface TableReadOptions {
  /**
   * How long the latest snapshot is served before the log is asked for a newer commit.
   * `0` asks on every read (a single HEAD request, not a listing). @default 0
   */
  readonly refreshIntervalMs?: number;
  /** Results of queries over a table version, shared by every reader (none when absent). */
  readonly queryCache?: QueryCache;
  /** Each query's bound on the rows it may scan (QueryOptions.maxScanRows). @default none */
  readonly maxScanRows?: number;
  /** Each query's DuckDB statement timeout (QueryOptions.timeoutMs). @default none */
  readonly statementTimeoutMs?: number;
}

/**
 * Delta's log cleanup deletes only commits older than the log retention (30 days by
 * default) that a newer checkpoint covers, so the `version + 1` check can only be fooled
 * by a reader idle for longer than that; a full listing at least this often rules it out.
 */
const FULL_LISTING_INTERVAL_MS = 60 * 60 * 1000;

/** An application's idempotency marker (PROTOCOL.md "Transaction Identifiers"). */
export interface TxnMarker {
  readonly appId: string;
  readonly version: number;
  /**
   * The version the table must hold for `appId` before this commit (when it holds one):
   * a batch of source offsets [expected, version) commits only right after the previous.
   */
  readonly expected?: number;
}

export interface WriteOptions {
  /** PROTOCOL.md "Transaction Identifiers": commit only if `version` is newer than the app's last. */
  readonly txn?: TxnMarker;
  /**
   * Several transaction identifiers in one commit (e.g. one per source partition), each
   * checked like `txn`; the commit conflicts with a concurrent one carrying any of them.
   */
  readonly txns?: readonly TxnMarker[];
  /** Extra fields of the commitInfo action (e.g. source offsets). */
  readonly commitInfo?: Readonly<Record<string, unknown>>;
  /** `merge` adds new input columns as nullable columns; `strict` refuses them. @default 'strict' */
  readonly schemaMode?: 'strict' | 'merge';
  /**
   * The types of columns a `merge` adds, where their values cannot say (an empty batch,
   * a list column); others are inferred from their values.
   */
  readonly columnTypes?: Readonly<Record<string, ColumnType>>;
  readonly signal?: AbortSignal;
}

export interface OverwriteOptions extends WriteOptions {
  /** Replace only the files of partitions matching these filters (on partition columns). */
  readonly partitionFilter?: readonly Filter[];
}

/**
 * An upsert's key: the incoming rows replace the table's rows with equal values in every one
 * of these columns (non-nullable data columns), and are added where none is held.
 */
export interface UpsertOptions extends WriteOptions {
  readonly key: readonly string[];
}

/** How often an upsert that lost a race on the partitions it read is planned again. */
const UPSERT_ATTEMPTS = 5;

export interface CommitResult {
  readonly version: number;
  readonly addedFiles: number;
  readonly removedFiles: number;
  readonly rows: number;
  /** Rows of the table the commit replaced (an upsert's matched keys); 0 otherwise. */
  readonly rowsReplaced?: number;
}

export interface HistoryEntry {
  readonly version: number;
  readonly timestamp: Date;
  readonly operation?: string;
  readonly operationParameters?: Readonly<Record<string, unknown>>;
  readonly operationMetrics?: Readonly<Record<string, unknown>>;
  readonly commitInfo?: Readonly<Record<string, unknown>>;
}

/**
 * A Delta table in an object store (PROTOCOL.md). Instances are cheap and safe to share:
 * every read works on an immutable snapshot and every write commits with put-if-absent,
 * so any number of processes can write one table.
 */
export class DeltaTable {
  private latest: Snapshot | undefined;
  /** performance.now() of the last check for a newer commit, and of the last full listing. */
  private checkedAt = -Infinity;
  private listedAt = -Infinity;
  /** The refresh in flight: concurrent readers share it. */
  private refreshing: Promise<Snapshot> | undefined;
  private readonly refreshIntervalMs: number;
  private readonly queryCache: QueryCache | undefined;
  private readonly readOptions: TableReadOptions;

  private constructor(
    readonly store: ObjectStore,
    readonly tablePath: string,
    read: TableReadOptions = {},
  ) {
    this.refreshIntervalMs = read.refreshIntervalMs ?? 0;
    this.queryCache = read.queryCache;
    this.readOptions = read;
  }

  /** Opens an existing table; NOT_FOUND if `tablePath` has no `_delta_log`. */
  static async open(
    store: ObjectStore,
    tablePath: string,
    signal?: AbortSignal,
    read?: TableReadOptions,
  ): Promise<DeltaTable> {
    const table = new DeltaTable(store, tablePath, read);
    await table.snapshot(undefined, signal);
    return table;
  }

  static async create(
    store: ObjectStore,
    tablePath: string,
    options: CreateTableOptions,
  ): Promise<DeltaTable> {
    const partitionColumns = [...(options.partitionColumns ?? [])];
    validateSchema(options.schema, partitionColumns, options.clusterBy ?? []);
    const listing = await listLog(store, tablePath, options.signal);
    if (listing.latestVersion >= 0) {
      if (options.ifNotExists)
        return DeltaTable.open(store, tablePath, options.signal, options.read);
      throw new AlphalakeError('CONFLICT', `a table already exists at ${tablePath}`, { tablePath });
    }
    const configuration: Record<string, string> = { ...(options.properties ?? {}) };
    if (options.clusterBy && options.clusterBy.length > 0) {
      configuration[CLUSTER_BY_PROPERTY] = JSON.stringify(options.clusterBy);
    }
    const needsNtz = JSON.stringify(options.schema.map((c) => typeName(c.type))).includes(
      'timestamp_ntz',
    );
    const mappingMode = columnMappingMode(configuration);
    if (mappingMode === 'id') {
      throw new AlphalakeError(
        'UNSUPPORTED_TABLE_FEATURE',
        'alphalake creates column-mapped tables in name mode only',
        { feature: 'columnMapping (id mode)' },
      );
    }
    let schema = options.schema;
    if (mappingMode === 'name') {
      const mapped = assignColumnMapping(schema, maxColumnIdOf(configuration));
      schema = mapped.columns;
      configuration[MAX_COLUMN_ID_PROPERTY] = String(mapped.maxColumnId);
    }
    const now = Date.now();
    const actions: Action[] = [
      {
        commitInfo: {
          timestamp: now,
          operation: 'CREATE TABLE',
          operationParameters: {
            partitionBy: JSON.stringify(partitionColumns),
            mode: 'ErrorIfExists',
          },
          engineInfo: ENGINE_INFO,
          isBlindAppend: true,
        },
      },
      { protocol: protocolForNewTable(needsNtz, mappingMode === 'name') },
      {
        metaData: {
          id: randomUUID(),
          name: options.name ?? null,
          description: options.description ?? null,
          format: { provider: 'parquet', options: {} },
          schemaString: toSchemaString(schema),
          partitionColumns,
          configuration,
          createdTime: now,
        },
      },
    ];
    const created = await store.putIfAbsent(
      commitKey(tablePath, 0),
      new TextEncoder().encode(actions.map((a) => JSON.stringify(a)).join('\n') + '\n'),
      options.signal,
    );
    if (!created) {
      if (options.ifNotExists)
        return DeltaTable.open(store, tablePath, options.signal, options.read);
      throw new AlphalakeError('CONFLICT', `a table was created concurrently at ${tablePath}`, {
        tablePath,
      });
    }
    return DeltaTable.open(store, tablePath, options.signal, options.read);
  }

  /**
   * The latest snapshot, or one version / timestamp (time travel). The latest is shared
   * and refreshed as `TableReadOptions` says: it may trail a commit made by another
   * process by up to `refreshIntervalMs`.
   */
  async snapshot(at?: SnapshotTarget, signal?: AbortSignal): Promise<Snapshot> {
    if (at && (at.version !== undefined || at.timestamp !== undefined)) {
      const base =
        this.latest && at.version !== undefined && at.version >= this.latest.version
          ? this.latest
          : undefined;
      return loadSnapshot(this.store, this.tablePath, at, { base, signal });
    }
    if (this.latest && performance.now() - this.checkedAt < this.refreshIntervalMs) {
      return this.latest;
    }
    return this.refreshLatest(signal);
  }

  /** The version of the snapshot readers are served now, without asking the log. */
  get cachedVersion(): number | undefined {
    return this.latest?.version;
  }

  /**
   * Asks the log for a newer commit. Concurrent callers share one refresh (and the first
   * caller's signal); a refresh that finds nothing new costs one HEAD request.
   */
  private refreshLatest(signal?: AbortSignal): Promise<Snapshot> {
    this.refreshing ??= this.refresh(signal).finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async refresh(signal?: AbortSignal): Promise<Snapshot> {
    const started = performance.now();
    const known = this.latest;
    if (known && started - this.listedAt < FULL_LISTING_INTERVAL_MS) {
      const next = await this.store.head(commitKey(this.tablePath, known.version + 1), signal);
      if (next === undefined) {
        this.checkedAt = started;
        return this.latest ?? known;
      }
    }
    const listing = await listLog(this.store, this.tablePath, signal);
    this.listedAt = started;
    const current = this.latest;
    if (current && current.version >= listing.latestVersion) {
      this.checkedAt = started;
      return current;
    }
    const snapshot = await loadSnapshot(
      this.store,
      this.tablePath,
      {},
      { listing, base: current, signal },
    );
    if (!this.latest || this.latest.version < snapshot.version) this.latest = snapshot;
    this.checkedAt = started;
    return this.latest;
  }

  /** The latest snapshot, checked against the log now: what a writer bases its commit on. */
  private freshSnapshot(signal?: AbortSignal): Promise<Snapshot> {
    return this.refreshLatest(signal);
  }

  async append(input: Rows | ColumnBatch, options: WriteOptions = {}): Promise<CommitResult> {
    return this.write(input, 'append', options);
  }

  async overwrite(
    input: Rows | ColumnBatch,
    options: OverwriteOptions = {},
  ): Promise<CommitResult> {
    return this.write(input, 'overwrite', options);
  }

  /**
   * Writes `input` so that the table holds each of its keys once, with the incoming values:
   * a MERGE "when matched update, when not matched insert" on `options.key`, in one commit,
   * copy-on-write (src/lake/upsert.ts). Upserting the same rows again changes nothing a
   * reader sees. The commit conflicts with a concurrent one that added files to a partition
   * it read or removed a file it removes, and is then planned again on the new version
   * (its txns checked again), up to UPSERT_ATTEMPTS times.
   */
  async upsert(input: Rows | ColumnBatch, options: UpsertOptions): Promise<CommitResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.write(input, 'upsert', options);
      } catch (error) {
        // A concurrent writer's data (winningVersion): plan again. A txn refused before the
        // commit, or the last attempt, is the caller's to handle.
        const raced =
          isAlphalakeError(error, 'CONFLICT') && error.details['winningVersion'] !== undefined;
        if (!raced || attempt >= UPSERT_ATTEMPTS) throw error;
      }
    }
  }

  async query(options: QueryOptions = {}): Promise<QueryResult> {
    const snapshot = options.snapshot ?? (await this.snapshot(undefined, options.signal));
    return querySnapshot(this.store, snapshot, this.bounded(options), this.queryCache);
  }

  /**
   * The same read as `query`, returned column by column: numbers and timestamps (epoch
   * µs, exact) as Float64Arrays, no object per row — for large reads (a symbol-month of trades).
   */
  async queryColumns(options: QueryOptions = {}): Promise<ColumnarQueryResult> {
    const snapshot = options.snapshot ?? (await this.snapshot(undefined, options.signal));
    return queryColumnsSnapshot(this.store, snapshot, this.bounded(options), this.queryCache);
  }

  /** The query with this table's bounds where it sets none of its own. */
  private bounded(options: QueryOptions): QueryOptions {
    const { maxScanRows, statementTimeoutMs } = this.readOptions;
    if (maxScanRows === undefined && statementTimeoutMs === undefined) return options;
    return {
      ...options,
      maxScanRows: options.maxScanRows ?? maxScanRows,
      timeoutMs: options.timeoutMs ?? statementTimeoutMs,
    };
  }

  /**
   * The data files of `snapshot` that `filters` may match (pruned by partition values and
   * statistics), as a DuckDB relation over their Parquet columns: for SQL that must read a
   * second table beside a query's `scan` (an as-of join). The relation holds the files'
   * physical columns only: no partition columns, and refused (BAD_USER_INPUT) for a
   * column-mapped table, whose physical names are not its logical ones
   * (PROTOCOL.md "Column Mapping"). Undefined when no file may match.
   */
  async parquetRelationSql(
    snapshot: Snapshot,
    filters: readonly Filter[],
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    if (columnMappingMode(snapshot.metadata.configuration) !== 'none') {
      throw new AlphalakeError(
        'BAD_USER_INPUT',
        `table ${this.tablePath} maps its columns: it cannot be joined by physical names`,
      );
    }
    const bound = bindFilters(filters, snapshot.schema, snapshot.partitionColumns);
    const files = snapshot.files.filter((file) => fileMayMatch(file, bound));
    if (files.length === 0) return undefined;
    const paths = await Promise.all(
      files.map((file) =>
        this.store.localPath(joinKey(this.tablePath, decodeActionPath(file.path)), signal),
      ),
    );
    return `read_parquet([${paths.map(sqlString).join(', ')}], hive_partitioning = false, union_by_name = true)`;
  }

  /** Commits, newest first, whose commit files are still in the log. */
  async history(limit?: number, signal?: AbortSignal): Promise<HistoryEntry[]> {
    const listing = await listLog(this.store, this.tablePath, signal);
    const timestamps = commitTimestamps(listing);
    const versions = [...listing.commits.keys()].sort((a, b) => b - a).slice(0, limit ?? Infinity);
    return Promise.all(
      versions.map(async (version): Promise<HistoryEntry> => {
        const info = await this.commitInfo(version, signal);
        const entry: HistoryEntry = {
          version,
          timestamp: timestamps.get(version) ?? new Date(0),
          operation: info?.['operation'] as string | undefined,
          operationParameters: info?.['operationParameters'] as Record<string, unknown> | undefined,
          operationMetrics: info?.['operationMetrics'] as Record<string, unknown> | undefined,
          commitInfo: info,
        };
        return entry;
      }),
    );
  }

  /** The commitInfo action of commit `version`, if its commit file is still in the log. */
  async commitInfo(
    version: number,
    signal?: AbortSignal,
  ): Promise<Record<string, unknown> | undefined> {
    const key = commitKey(this.tablePath, version);
    let bytes: Uint8Array;
    try {
      bytes = await this.store.get(key, undefined, signal);
    } catch (error) {
      if (isAlphalakeError(error, 'NOT_FOUND')) return undefined;
      throw error;
    }
    const action = parseCommit(bytes).find((a) => a.commitInfo !== undefined);
    return action?.commitInfo ? { ...action.commitInfo } : undefined;
  }

  /** Compacts small files per partition (bin-packing), re-clustered; `dataChange: false`. */
  async optimize(options: OptimizeOptions = {}): Promise<OptimizeResult> {
    const base = await this.freshSnapshot(options.signal);
    checkWritable(base.protocol, base.metadata, this.tablePath);
    const planned = await planAndRewrite(this.store, base, clusterByOf(base), options);
    if (!planned)
      return { version: undefined, filesRemoved: 0, filesAdded: 0, partitionsOptimized: 0 };
    try {
      const { version } = await commitWithRetry(this.store, base, {
        ...planned.plan,
        signal: options.signal,
      });
      await this.afterCommit(base, version, options.signal);
      return { version, ...planned.result };
    } catch (error) {
      const added = planned.plan.actions.flatMap((a) =>
        a.add ? [joinKey(this.tablePath, decodeActionPath(a.add.path))] : [],
      );
      await this.store.delete(added).catch(() => undefined);
      throw error;
    }
  }

  /** Deletes unreferenced data files older than the retention period (default 7 days). */
  async vacuum(options: VacuumOptions = {}): Promise<VacuumResult> {
    const snapshot = await this.freshSnapshot(options.signal);
    checkWritable(snapshot.protocol, snapshot.metadata, this.tablePath);
    return vacuumSnapshot(
      this.store,
      snapshot,
      deletedFileRetentionMs(snapshot.properties),
      options,
    );
  }

  /** Writes a checkpoint of the latest version now (normally done every `delta.checkpointInterval` commits). */
  async checkpoint(signal?: AbortSignal): Promise<number> {
    const snapshot = await this.freshSnapshot(signal);
    await writeCheckpoint(this.store, snapshot, signal);
    return snapshot.version;
  }

  private async afterCommit(
    base: Snapshot,
    version: number,
    signal?: AbortSignal,
  ): Promise<Snapshot> {
    let snapshot: Snapshot;
    try {
      snapshot = await snapshotAfter(
        this.store,
        this.latest && this.latest.version < version ? this.latest : base,
        version,
      );
    } catch {
      snapshot = await loadSnapshot(this.store, this.tablePath, { version }, { signal });
    }
    if (!this.latest || this.latest.version < version) this.latest = snapshot;
    if (version > 0 && version % checkpointInterval(snapshot) === 0) {
      // A checkpoint only accelerates readers; failing to write one never fails the commit.
      await writeCheckpoint(this.store, snapshot, signal).catch(() => undefined);
    }
    return snapshot;
  }

  private async write(
    input: Rows | ColumnBatch,
    mode: 'append' | 'overwrite' | 'upsert',
    options: OverwriteOptions & Partial<Pick<UpsertOptions, 'key'>>,
  ): Promise<CommitResult> {
    const base = await this.freshSnapshot(options.signal);
    checkWritable(base.protocol, base.metadata, this.tablePath);
    if (mode !== 'append' && isAppendOnly(base.metadata)) {
      throw new AlphalakeError(
        'BAD_USER_INPUT',
        `table ${this.tablePath} is append-only (delta.appendOnly)`,
      );
    }
    const batch = isColumnBatch(input) ? input : rowsToBatch(input);
    let schema = reconcileSchema(
      base.schema,
      batch,
      options.schemaMode ?? 'strict',
      options.columnTypes,
    );
    let configuration = base.metadata.configuration;
    if (schema !== base.schema && columnMappingMode(configuration) === 'name') {
      // New columns of a column-mapped table get ids and physical names like the others.
      const mapped = assignColumnMapping(schema, maxColumnIdOf(configuration));
      schema = mapped.columns;
      configuration = { ...configuration, [MAX_COLUMN_ID_PROPERTY]: String(mapped.maxColumnId) };
    }
    const txns = [...(options.txn ? [options.txn] : []), ...(options.txns ?? [])];
    for (const txn of txns) {
      const committed = base.txnVersion(txn.appId);
      if (committed !== undefined && committed >= txn.version) {
        throw new AlphalakeError(
          'CONFLICT',
          `application ${txn.appId} already committed version ${committed} (>= ${txn.version})`,
          { appId: txn.appId, committedVersion: committed },
        );
      }
      if (committed !== undefined && txn.expected !== undefined && committed !== txn.expected) {
        throw new AlphalakeError(
          'CONFLICT',
          `application ${txn.appId} is at version ${committed}, not ${txn.expected} where this batch starts`,
          { appId: txn.appId, committedVersion: committed },
        );
      }
    }
    const partitionFilter = mode === 'overwrite' ? (options.partitionFilter ?? []) : [];
    const bound = bindFilters(partitionFilter, base.schema, base.partitionColumns);
    for (const b of bound) {
      if (!b.partition) {
        throw new AlphalakeError(
          'BAD_USER_INPUT',
          `overwrite partitionFilter column ${b.column.name} is not a partition column`,
        );
      }
    }
    const written = await writeDataFiles(this.store, this.tablePath, batch, {
      schema,
      partitionColumns: base.partitionColumns,
      clusterBy: clusterByOf(base),
      signal: options.signal,
    });
    // An upsert's existing files written again without the rows it replaces.
    let rewritten: AddFile[] = [];
    try {
      if (mode === 'overwrite' && bound.length > 0) {
        for (const add of written.adds) {
          if (!fileMayMatch(add, bound)) {
            throw new AlphalakeError(
              'BAD_USER_INPUT',
              'overwrite rows fall outside the partitionFilter',
              {
                partitionValues: add.partitionValues,
              },
            );
          }
        }
      }
      const now = Date.now();
      const replacement =
        mode === 'upsert'
          ? await replaceKeys(
              this.store,
              base,
              written.adds,
              options.key ?? [],
              { partitionColumns: base.partitionColumns, clusterBy: clusterByOf(base) },
              options.signal,
            )
          : undefined;
      rewritten = replacement?.adds ?? [];
      const removed: RemoveFile[] =
        mode === 'overwrite'
          ? base.files
              .filter((file) => fileMayMatch(file, bound))
              .map((file) => removeOf(file, now))
          : (replacement?.removes ?? []);
      const adds = [...rewritten, ...written.adds];
      const actions: Action[] = [
        {
          commitInfo: {
            ...(options.commitInfo ?? {}),
            timestamp: now,
            ...(replacement
              ? {
                  // As Delta's MERGE reports itself (the key is the merge predicate).
                  operation: 'MERGE',
                  operationParameters: {
                    predicate: JSON.stringify(options.key ?? []),
                    matchedPredicates: JSON.stringify([{ actionType: 'update' }]),
                    notMatchedPredicates: JSON.stringify([{ actionType: 'insert' }]),
                  },
                  operationMetrics: {
                    numTargetRowsUpdated: String(replacement.rowsReplaced),
                    numTargetRowsInserted: String(written.rows - replacement.rowsReplaced),
                    numSourceRows: String(written.rows),
                    numTargetFilesAdded: String(adds.length),
                    numTargetFilesRemoved: String(removed.length),
                  },
                }
              : {
                  operation: 'WRITE',
                  operationParameters: {
                    mode: mode === 'append' ? 'Append' : 'Overwrite',
                    partitionBy: JSON.stringify(base.partitionColumns),
                    ...(bound.length > 0 ? { predicate: JSON.stringify(partitionFilter) } : {}),
                  },
                  operationMetrics: {
                    numFiles: String(written.adds.length),
                    numOutputRows: String(written.rows),
                    numOutputBytes: String(written.bytes),
                    ...(mode === 'overwrite' ? { numRemovedFiles: String(removed.length) } : {}),
                  },
                }),
            engineInfo: ENGINE_INFO,
            isBlindAppend: mode === 'append',
            readVersion: base.version,
          },
        },
      ];
      if (schema !== base.schema) {
        actions.push({
          metaData: { ...base.metadata, schemaString: toSchemaString(schema), configuration },
        });
      }
      for (const txn of txns) {
        actions.push({ txn: { appId: txn.appId, version: txn.version, lastUpdated: now } });
      }
      for (const remove of removed) actions.push({ remove });
      for (const add of adds) actions.push({ add });
      const removedPaths = new Set(removed.map((r) => decodeActionPath(r.path)));
      const { version } = await commitWithRetry(this.store, base, {
        operation: mode,
        actions,
        appIds: new Set(txns.map((txn) => txn.appId)),
        removedPaths,
        readPartitions:
          mode === 'overwrite'
            ? (partitionValues) => fileMayMatch({ ...PLACEHOLDER_ADD, partitionValues }, bound)
            : mode === 'upsert'
              ? // A concurrent add to a partition the upsert read may hold one of its keys.
                (partitionValues) =>
                  written.adds.some((add) => samePartition(add.partitionValues, partitionValues))
              : undefined,
        signal: options.signal,
      });
      await this.afterCommit(base, version, options.signal);
      return {
        version,
        addedFiles: adds.length,
        removedFiles: removed.length,
        rows: written.rows,
        ...(replacement ? { rowsReplaced: replacement.rowsReplaced } : {}),
      };
    } catch (error) {
      // Nothing references the new files: remove them rather than leave them for VACUUM.
      await this.store
        .delete(
          [...written.adds, ...rewritten].map((add) =>
            joinKey(this.tablePath, decodeActionPath(add.path)),
          ),
        )
        .catch(() => undefined);
      throw error;
    }
  }
}

const PLACEHOLDER_ADD: AddFile = {
  path: '',
  partitionValues: {},
  size: 0,
  modificationTime: 0,
  dataChange: true,
};

function samePartition(
  a: Readonly<Record<string, string | null>>,
  b: Readonly<Record<string, string | null>>,
): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => (b[k] ?? null) === a[k]);
}

export function removeOf(file: AddFile, deletionTimestamp: number, dataChange = true): RemoveFile {
  return {
    path: file.path,
    deletionTimestamp,
    dataChange,
    extendedFileMetadata: true,
    partitionValues: file.partitionValues,
    size: file.size,
    ...(file.tags ? { tags: file.tags } : {}),
  };
}

export function clusterByOf(snapshot: Snapshot): string[] {
  const raw = snapshot.properties[CLUSTER_BY_PROPERTY];
  if (!raw) return [];
  try {
    const parsed = JSON.parse(raw) as unknown;
    return Array.isArray(parsed) ? parsed.map(String) : [];
  } catch {
    return [];
  }
}

function validateSchema(
  schema: readonly ColumnSpec[],
  partitionColumns: readonly string[],
  clusterBy: readonly string[],
): void {
  const names = new Set<string>();
  for (const column of schema) {
    if (names.has(column.name))
      throw new AlphalakeError('BAD_USER_INPUT', `duplicate column ${column.name}`);
    names.add(column.name);
  }
  for (const name of [...partitionColumns, ...clusterBy]) {
    if (!names.has(name))
      throw new AlphalakeError('BAD_USER_INPUT', `column ${name} is not in the schema`);
  }
  for (const name of partitionColumns) {
    const column = schema.find((c) => c.name === name);
    if (column && !isPrimitive(column.type) && !String(column.type).startsWith('decimal')) {
      throw new AlphalakeError(
        'BAD_USER_INPUT',
        `partition column ${name} must have a primitive type`,
      );
    }
  }
}

/**
 * Schema enforcement and evolution: input columns must exist in the table (or, with
 * `merge`, are added as nullable columns); non-nullable table columns must be present and
 * hold no nulls; values must fit their column's type. One SCHEMA_MISMATCH lists every
 * difference, so a caller fixes a batch once.
 */
function reconcileSchema(
  schema: readonly ColumnSpec[],
  batch: ColumnBatch,
  mode: 'strict' | 'merge',
  declared: Readonly<Record<string, ColumnType>> = {},
): readonly ColumnSpec[] {
  const differences = compareBatch(schema, batch);
  const refused = {
    ...differences,
    unknown: mode === 'merge' ? [] : differences.unknown,
  };
  const parts = describeDifferences(refused, " (append with schemaMode 'merge' to add them)");
  if (parts.length > 0) {
    throw new AlphalakeError(
      'SCHEMA_MISMATCH',
      `the batch does not match the table schema: ${parts.join('; ')}`,
      {
        unknown: refused.unknown,
        missing: refused.missing,
        types: refused.types,
        nulls: refused.nulls,
      },
    );
  }
  if (differences.unknown.length === 0) return schema;
  const added = differences.unknown.map(
    (name): ColumnSpec => ({
      name,
      type:
        declared[name] ??
        inferColumnType(
          name,
          batch.columns[name] as NonNullable<ColumnBatch['columns'][string]>,
          batch.length,
        ),
      nullable: true,
      metadata: {},
    }),
  );
  return [...schema, ...added];
}

export function schemaDifferences(a: readonly ColumnSpec[], b: readonly ColumnSpec[]): string[] {
  const out: string[] = [];
  for (const column of a) {
    const other = b.find((c) => c.name === column.name);
    if (!other) out.push(`-${column.name}`);
    else if (!sameType(column.type, other.type))
      out.push(`${column.name}: ${typeName(column.type)} → ${typeName(other.type)}`);
  }
  for (const column of b) if (!a.some((c) => c.name === column.name)) out.push(`+${column.name}`);
  return out;
}

/** @internal a snapshot built from state alone (tests). */
export function emptySnapshotFor(tablePath: string): Snapshot {
  return snapshotFromState(new TableState(), tablePath, -1, new Date(0));
}
