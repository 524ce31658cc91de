import { AlphalakeError } from '../../domain/index.js';
import {
  type TableReadOptions,
  DeltaTable,
  lakeValueToJson,
  typeName,
  type HistoryEntry,
  type ObjectStore,
  type Snapshot,
} from '../../lake/index.js';
import { LAKE_TABLES } from '../tables.js';

/** Most rows one `lakeRows` read may return. */
export const MAX_LAKE_ROWS = 10_000;
const DEFAULT_LAKE_ROWS = 100;

/** One folder name of a table path: letters, digits, `_`, `-`, `.`; not `.`/`..`, not hidden. */
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_.=-]*$/;

export interface LakeRowsQuery {
  /** A medallion table (`bronze.trades`) or a table folder relative to the lake root. */
  readonly table: string;
  readonly version?: number | undefined;
  readonly limit?: number | undefined;
  readonly signal?: AbortSignal;
}

export interface LakeRows {
  readonly table: string;
  readonly version: number;
  readonly columns: readonly { name: string; type: string; nullable: boolean }[];
  /** Rows as exact JSON (`lakeValueToJson`): int64 beyond 2^53 and decimals as strings, timestamps ISO with µs. */
  readonly rows: readonly Record<string, unknown>[];
}

/** What `lakeTables` says of one table: where it is and how big, at a version. */
export interface LakeTableInfo {
  readonly name: string;
  /** The store and path of the table (`file:///…/bronze/trades`, `s3://bucket/…`). */
  readonly location: string;
  readonly version: number;
  readonly partitionColumns: readonly string[];
  /** Bytes of the live data files (the `size` of each `add`, PROTOCOL.md "Add File"). */
  readonly sizeBytes: number;
  readonly fileCount: number;
}

export interface LakeTableDetail extends LakeTableInfo {
  readonly columns: readonly { name: string; type: string; nullable: boolean }[];
  /** Commits still in the log, newest first (PROTOCOL.md "Commit Provenance Information"). */
  readonly history: readonly HistoryEntry[];
}

/**
 * Reads the rows of any Delta table under the lake root, exactly, for the API: the
 * platform's own tables and tables other engines (Spark, delta-rs) wrote there. The
 * table is named relative to the root and confined to it: an absolute path, `..`, a
 * hidden or `_` folder (e.g. `_delta_log`) is BAD_USER_INPUT before anything is read.
 */
export class LakeBrowser {
  /**
   * `read.statementTimeoutMs` bounds each read. (No scan bound: a read takes the first
   * `limit` rows in file order, so DuckDB stops early whatever the table's size.)
   */
  constructor(
    private readonly store: ObjectStore,
    private readonly read: Pick<TableReadOptions, 'statementTimeoutMs'> = {},
  ) {}

  /** The platform's tables, each at its latest version (or as of a version or time). */
  async tables(asOf?: { version?: number; time?: number }, signal?: AbortSignal) {
    return Promise.all(LAKE_TABLES.map((t) => this.info(t.name, asOf, signal)));
  }

  /** One table with its schema and history; a table that does not exist is NOT_FOUND. */
  async table(
    name: string,
    asOf?: { version?: number; time?: number },
    historyLimit = 100,
    signal?: AbortSignal,
  ): Promise<LakeTableDetail> {
    const { info, snapshot, table } = await this.open(name, asOf, signal);
    const history = (await table.history(undefined, signal))
      .filter((h) => h.version <= snapshot.version)
      .slice(0, historyLimit);
    return {
      ...info,
      columns: snapshot.schema.map((c) => ({
        name: c.name,
        type: typeName(c.type),
        nullable: c.nullable,
      })),
      history,
    };
  }

  private async info(
    name: string,
    asOf?: { version?: number; time?: number },
    signal?: AbortSignal,
  ): Promise<LakeTableInfo> {
    return (await this.open(name, asOf, signal)).info;
  }

  private async open(
    name: string,
    asOf: { version?: number; time?: number } | undefined,
    signal?: AbortSignal,
  ) {
    const tablePath = resolveTablePath(name);
    if (asOf?.version !== undefined && asOf.time !== undefined) {
      throw new AlphalakeError('BAD_USER_INPUT', 'name asOfVersion or asOfTime, not both');
    }
    const table = await DeltaTable.open(this.store, tablePath);
    const snapshot: Snapshot = await table.snapshot(
      asOf?.version !== undefined
        ? { version: asOf.version }
        : asOf?.time !== undefined
          ? { timestamp: new Date(asOf.time / 1000) }
          : undefined,
      signal,
    );
    const info: LakeTableInfo = {
      name: LAKE_TABLES.find((t) => t.path === tablePath)?.name ?? tablePath,
      location: `${this.store.description.replace(/\/+$/, '')}/${tablePath}`,
      version: snapshot.version,
      partitionColumns: [...snapshot.partitionColumns],
      sizeBytes: snapshot.files.reduce((sum, file) => sum + file.size, 0),
      fileCount: snapshot.files.length,
    };
    return { info, snapshot, table };
  }

  async rows(query: LakeRowsQuery): Promise<LakeRows> {
    const tablePath = resolveTablePath(query.table);
    const limit = query.limit ?? DEFAULT_LAKE_ROWS;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LAKE_ROWS) {
      throw new AlphalakeError('BAD_USER_INPUT', `limit must be between 1 and ${MAX_LAKE_ROWS}`, {
        limit,
      });
    }
    if (query.version !== undefined && (!Number.isInteger(query.version) || query.version < 0)) {
      throw new AlphalakeError('BAD_USER_INPUT', 'version must be a non-negative integer', {
        version: query.version,
      });
    }
    const table = await DeltaTable.open(this.store, tablePath, query.signal, this.read);
    const snapshot: Snapshot = await table.snapshot(
      query.version === undefined ? undefined : { version: query.version },
      query.signal,
    );
    const { rows } = await table.query({ snapshot, limit, signal: query.signal });
    return {
      table: tablePath,
      version: snapshot.version,
      columns: snapshot.schema.map((c) => ({
        name: c.name,
        type: typeName(c.type),
        nullable: c.nullable,
      })),
      rows: rows.map((row) => lakeValueToJson(row) as Record<string, unknown>),
    };
  }
}

/** The table folder under the lake root that a client names, or BAD_USER_INPUT. */
export function resolveTablePath(name: string): string {
  const known = LAKE_TABLES.find((t) => t.name === name);
  if (known) return known.path;
  const segments = name.split('/');
  if (
    name.length === 0 ||
    name.length > 512 ||
    !segments.every((s) => SEGMENT.test(s) && !/^\.+$/.test(s))
  ) {
    throw new AlphalakeError(
      'BAD_USER_INPUT',
      `${JSON.stringify(name)} is not a table under the lake root: name a table (e.g. bronze.trades) or a relative folder such as bronze/trades`,
      { table: name },
    );
  }
  return segments.join('/');
}
