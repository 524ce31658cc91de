import {
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  JSDuckDBValueConverter,
  type DuckDBConnection,
  type DuckDBMaterializedResult,
  type DuckDBValue,
  type DuckDBValueConverter,
  type JS,
} from '@duckdb/node-api';
import { endianness } from 'node:os';
import { AlphalakeError } from '../../domain/index.js';
import { decodeActionPath, type AddFile } from '../log/index.js';
import { sqlString, withDuckDB } from '../storage/index.js';
import { joinKey, type ObjectStore } from '../storage/index.js';
import { bindFilters, fileRecords, pruneFiles, type BoundFilter, type Filter } from './pruning.js';
import type { QueryCache } from './query-cache.js';
import {
  decimalOf,
  duckdbType,
  findColumn,
  hasNestedMapping,
  physicalName,
  quoteIdent,
  toLogicalValue,
  type ColumnSpec,
  type ColumnType,
} from '../log/index.js';
import type { Snapshot } from '../log/index.js';
import {
  formatMicros,
  LakeTimestamp,
  normalizeLong,
  toDateString,
  toEpochMicros,
} from '../log/index.js';

/**
 * Queries a snapshot with DuckDB: files are pruned by partition values and statistics
 * first, then the remaining files are scanned with the filters as parameterized SQL
 * predicates (values are never interpolated). Partition values, which the protocol keeps
 * out of the data files, are supplied per group of files as typed parameters; columns a
 * file predates (schema evolution) read as NULL; column-mapped tables read physical names
 * (PROTOCOL.md "Column Mapping"), and nested fields are renamed back to logical names.
 */
export interface QueryOptions {
  readonly snapshot?: Snapshot;
  readonly columns?: readonly string[];
  readonly filters?: readonly Filter[];
  readonly orderBy?: readonly { readonly column: string; readonly desc?: boolean }[];
  readonly limit?: number;
  /** Skip files by partition values and statistics before scanning. @default true (off only to measure it) */
  readonly prune?: boolean;
  /**
   * SQL the filtered rows go through inside DuckDB (grouping, aggregation) before they
   * are returned; `orderBy` and `limit` then apply to its output columns.
   */
  readonly aggregate?: AggregateSql;
  readonly signal?: AbortSignal;
  /**
   * The most rows the query may scan: the `numRecords` statistics (PROTOCOL.md "Per-file
   * Statistics") of the files left after pruning are added up before DuckDB runs, and a
   * query over the bound is refused with QUERY_TOO_EXPENSIVE. A file without statistics
   * counts as none (the protocol makes them optional; our writer always records them).
   * @default no bound
   */
  readonly maxScanRows?: number;
  /**
   * How long the DuckDB statement may run before its connection is interrupted; the
   * query then fails with QUERY_TIMEOUT. @default no limit
   */
  readonly timeoutMs?: number;
}

/** A value bound as a parameter of the query, never interpolated into its text. */
export type QueryParam = string | number | bigint | boolean | null;

/**
 * A SELECT over the relation `scan`: the rows of the pruned files that pass the filters,
 * with the query's `columns` under their logical names and lake types.
 */
export interface AggregateSql {
  /** The SELECT's text; `param` binds a value and returns its placeholder. */
  readonly sql: (param: (value: QueryParam) => string) => string;
  /** The columns the SELECT returns, in order, and the lake type each is read as. */
  readonly output: readonly ColumnSpec[];
}

export interface QueryResult {
  readonly rows: Record<string, unknown>[];
  readonly filesScanned: number;
  readonly filesTotal: number;
}

/** Top-level column names per local Parquet file; data files are immutable, so this never goes stale. */
const fileColumnsCache = new Map<string, readonly string[]>();
const FILE_COLUMNS_CACHE_LIMIT = 100_000;

/**
 * One result column, read chunk by chunk from DuckDB. Numbers and timestamps arrive as a
 * Float64Array (timestamps as epoch microseconds, longs, both exact while within
 * ±(2^53−1)) with `nulls` marking null rows (their value is NaN); every other type, and a
 * long or timestamp column holding a larger value, as an array of the values `query`
 * returns (number or bigint; `LakeTimestamp`).
 */
export interface ResultColumn {
  readonly values: Float64Array | readonly unknown[];
  readonly nulls?: Uint8Array;
}

export interface ColumnarQueryResult {
  readonly length: number;
  readonly columns: Readonly<Record<string, ResultColumn>>;
  readonly filesScanned: number;
  readonly filesTotal: number;
}

/** Rows as objects keyed by column name, built once from the columnar result. */
export async function querySnapshot(
  store: ObjectStore,
  snapshot: Snapshot,
  options: QueryOptions,
  cache?: QueryCache,
): Promise<QueryResult> {
  const result = await queryColumnsSnapshot(store, snapshot, options, cache);
  const names = Object.keys(result.columns);
  const readers = names.map((name) => {
    const column = result.columns[name] as ResultColumn;
    const type = (
      options.aggregate?.output.find((c) => c.name === name) ?? findColumn(snapshot.schema, name)
    )?.type;
    const values = column.values;
    const nulls = column.nulls;
    if (!(values instanceof Float64Array)) return (i: number): unknown => values[i];
    if (isTimestamp(type ?? 'string')) {
      const ntz = type === 'timestamp_ntz';
      return (i: number): unknown =>
        nulls?.[i] ? null : new LakeTimestamp(BigInt(values[i] as number), ntz);
    }
    return (i: number): unknown => (nulls?.[i] ? null : values[i]);
  });
  const rows: Record<string, unknown>[] = new Array<Record<string, unknown>>(result.length);
  for (let i = 0; i < result.length; i++) {
    const row: Record<string, unknown> = {};
    for (let c = 0; c < names.length; c++)
      row[names[c] as string] = (readers[c] as (i: number) => unknown)(i);
    rows[i] = row;
  }
  return { rows, filesScanned: result.filesScanned, filesTotal: result.filesTotal };
}

/**
 * The columnar form of `querySnapshot`: no object per row (see `ResultColumn`). With a
 * cache, the result of the same query over the same table version is computed once.
 */
export async function queryColumnsSnapshot(
  store: ObjectStore,
  snapshot: Snapshot,
  options: QueryOptions,
  cache?: QueryCache,
): Promise<ColumnarQueryResult> {
  if (cache === undefined) return runQuery(store, snapshot, options);
  return cache.getOrRun(queryKey(store, snapshot, options), () =>
    runQuery(store, snapshot, options),
  );
}

/**
 * What identifies a query's result: the table (store, path, id), its version, and every
 * option that shapes the rows. Values are written exactly (bigints as digits, dates as
 * ISO strings, which carry all of a Date's milliseconds).
 */
function queryKey(store: ObjectStore, snapshot: Snapshot, options: QueryOptions): string {
  let aggregate: unknown;
  if (options.aggregate) {
    const params: QueryParam[] = [];
    const text = options.aggregate.sql((value) => {
      params.push(value);
      return `$${params.length}`;
    });
    aggregate = { text, params, output: options.aggregate.output };
  }
  return JSON.stringify(
    [
      store.description,
      snapshot.tablePath,
      snapshot.metadata.id,
      snapshot.version,
      options.columns ?? null,
      options.filters ?? null,
      options.orderBy ?? null,
      options.limit ?? null,
      options.prune ?? true,
      aggregate ?? null,
    ],
    (_key, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value),
  );
}

async function runQuery(
  store: ObjectStore,
  snapshot: Snapshot,
  options: QueryOptions,
): Promise<ColumnarQueryResult> {
  const schema = snapshot.schema;
  const columns = (options.columns ?? schema.map((c) => c.name)).map((name) => {
    const column = findColumn(schema, name);
    if (!column)
      throw new AlphalakeError('BAD_USER_INPUT', `unknown column "${name}"`, { column: name });
    return column;
  });
  const bound = bindFilters(options.filters ?? [], schema, snapshot.partitionColumns);
  const output = options.aggregate?.output ?? columns;
  for (const order of options.orderBy ?? []) {
    // Without an aggregate, any column of the table may order the rows (it is scanned too).
    const orderable = options.aggregate
      ? output.some((c) => c.name === order.column)
      : findColumn(schema, order.column);
    if (!orderable) {
      throw new AlphalakeError(
        'BAD_USER_INPUT',
        `cannot order by unknown column "${order.column}"`,
      );
    }
  }
  if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 0)) {
    throw new AlphalakeError('BAD_USER_INPUT', `invalid limit ${options.limit}`);
  }
  const files = options.prune === false ? [...snapshot.files] : pruneFiles(snapshot.files, bound);
  const result = { filesScanned: files.length, filesTotal: snapshot.files.length };
  if (options.maxScanRows !== undefined && options.maxScanRows > 0) {
    const rows = estimatedRows(files);
    if (rows > options.maxScanRows) {
      throw new AlphalakeError(
        'QUERY_TOO_EXPENSIVE',
        `the query would scan about ${rows} rows of ${snapshot.tablePath} (${files.length} files), over the limit of ${options.maxScanRows}: narrow its time range`,
        { estimatedRows: rows, maxScanRows: options.maxScanRows, files: files.length },
      );
    }
  }
  if (files.length === 0 || options.limit === 0) {
    const empty = Object.fromEntries(output.map((c) => [c.name, { values: [] as unknown[] }]));
    return { length: 0, columns: empty, ...result };
  }

  const needed = new Set<string>([
    ...columns.map((c) => c.name),
    ...bound.map((b) => b.column.name),
    ...(options.aggregate ? [] : (options.orderBy ?? []).map((o) => o.column)),
  ]);
  const neededColumns = schema.filter((c) => needed.has(c.name));
  const paths = await Promise.all(
    files.map((file) =>
      store.localPath(joinKey(snapshot.tablePath, decodeActionPath(file.path)), options.signal),
    ),
  );

  const timeout =
    options.timeoutMs !== undefined && options.timeoutMs > 0
      ? AbortSignal.timeout(options.timeoutMs)
      : undefined;
  const signal =
    timeout === undefined
      ? options.signal
      : options.signal === undefined
        ? timeout
        : AbortSignal.any([options.signal, timeout]);
  try {
    return await withDuckDB(async (connection) => {
      await loadFileColumns(connection, paths).catch((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        if (/No files found|No such file|Cannot open file/i.test(message)) {
          throw new AlphalakeError(
            'NOT_FOUND',
            `a data file of table ${snapshot.tablePath} is missing: ${message}`,
            {},
            { cause: error },
          );
        }
        throw error;
      });
      const params: DuckDBValue[] = [];
      const param = (value: DuckDBValue): string => {
        params.push(value);
        return `$${params.length}`;
      };
      const partitionSet = new Set(snapshot.partitionColumns);
      const groups = new Map<string, { file: AddFile; path: string }[]>();
      files.forEach((file, i) => {
        const path = paths[i] as string;
        const present = fileColumnsCache.get(path) ?? [];
        const key = JSON.stringify([
          snapshot.partitionColumns.map((name) => partitionRaw(file, findColumn(schema, name))),
          neededColumns
            .filter((c) => !partitionSet.has(c.name) && present.includes(physicalName(c)))
            .map((c) => c.name),
        ]);
        const group = groups.get(key) ?? [];
        group.push({ file, path });
        groups.set(key, group);
      });

      const branches = [...groups.values()].map((group) => {
        const first = group[0] as { file: AddFile; path: string };
        const present = fileColumnsCache.get(first.path) ?? [];
        const projection = neededColumns.map((column) => {
          const target = duckdbType(column.type);
          if (partitionSet.has(column.name)) {
            const raw =
              first.file.partitionValues[column.name] ??
              first.file.partitionValues[physicalName(column)] ??
              null;
            if (raw === null || (raw === '' && column.type !== 'string'))
              return `CAST(NULL AS ${target}) AS ${quoteIdent(column.name)}`;
            return `CAST(${param(raw)} AS ${target}) AS ${quoteIdent(column.name)}`;
          }
          const physical = physicalName(column);
          if (!present.includes(physical))
            return `CAST(NULL AS ${target}) AS ${quoteIdent(column.name)}`;
          const source = quoteIdent(physical);
          return typeof column.type === 'string'
            ? `CAST(${source} AS ${target}) AS ${quoteIdent(column.name)}`
            : `${source} AS ${quoteIdent(column.name)}`;
        });
        const list = group.map((g) => sqlString(g.path)).join(', ');
        return `SELECT ${projection.join(', ')} FROM read_parquet([${list}], hive_partitioning = false, union_by_name = true)`;
      });

      const where = bound.map((b) => filterSql(b, param));
      const select = output.map((column) => outputExpr(column)).join(', ');
      const whereSql = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
      let sql: string;
      if (options.aggregate) {
        const scanColumns = columns.map((c) => quoteIdent(c.name)).join(', ');
        const scan = `SELECT ${scanColumns} FROM (${branches.join(' UNION ALL ')}) AS t${whereSql}`;
        sql = `WITH scan AS (${scan}) SELECT ${select} FROM (${options.aggregate.sql(param)}) AS a`;
      } else {
        sql = `SELECT ${select} FROM (${branches.join(' UNION ALL ')}) AS t${whereSql}`;
      }
      if (options.orderBy && options.orderBy.length > 0) {
        sql += ` ORDER BY ${options.orderBy.map((o) => `${quoteIdent(o.column)} ${o.desc ? 'DESC' : 'ASC'}`).join(', ')}`;
      }
      if (options.limit !== undefined) sql += ` LIMIT ${options.limit}`;
      const materialized = await connection.run(sql, params.length > 0 ? params : undefined);
      return { ...readColumns(materialized, output), ...result };
    }, signal);
  } catch (error) {
    if (timeout?.aborted && !options.signal?.aborted) {
      throw new AlphalakeError(
        'QUERY_TIMEOUT',
        `the query of ${snapshot.tablePath} ran over the statement timeout of ${options.timeoutMs} ms and was interrupted`,
        { timeoutMs: options.timeoutMs },
        { cause: error },
      );
    }
    throw error;
  }
}

/** The rows `files` hold by their statistics (0 for a file without them). */
export function estimatedRows(files: readonly AddFile[]): number {
  let rows = 0;
  for (const file of files) rows += fileRecords(file) ?? 0;
  return rows;
}

async function loadFileColumns(
  connection: DuckDBConnection,
  paths: readonly string[],
): Promise<void> {
  const missing = [...new Set(paths.filter((path) => !fileColumnsCache.has(path)))];
  if (missing.length === 0) return;
  if (fileColumnsCache.size + missing.length > FILE_COLUMNS_CACHE_LIMIT) fileColumnsCache.clear();
  const reader = await connection.runAndReadAll(
    `SELECT file_name, name, num_children FROM parquet_schema([${missing.map(sqlString).join(', ')}])`,
  );
  // parquet_schema lists each file's schema tree depth-first; top-level fields are the root's children.
  const byFile = new Map<string, { name: string; children: number }[]>();
  for (const row of reader.getRowsJson()) {
    const list = byFile.get(String(row[0])) ?? [];
    list.push({ name: String(row[1]), children: Number(row[2] ?? 0) });
    byFile.set(String(row[0]), list);
  }
  for (const path of missing) {
    const nodes = byFile.get(path) ?? [];
    const top: string[] = [];
    const skip = (index: number): number => {
      const node = nodes[index];
      let next = index + 1;
      for (let c = 0; c < (node?.children ?? 0); c++) next = skip(next);
      return next;
    };
    const root = nodes[0];
    let index = 1;
    for (let c = 0; c < (root?.children ?? 0) && index < nodes.length; c++) {
      top.push((nodes[index] as { name: string }).name);
      index = skip(index);
    }
    fileColumnsCache.set(path, top);
  }
}

/** PROTOCOL.md "Column Mapping": partition values are keyed by the physical name when mapped. */
function partitionRaw(file: AddFile, column: ColumnSpec | undefined): string | null {
  if (!column) return null;
  return file.partitionValues[physicalName(column)] ?? file.partitionValues[column.name] ?? null;
}

/** Dates and decimals leave DuckDB as text (exact), at any depth. */
function outputType(type: ColumnType): string | undefined {
  if (typeof type === 'string') return type === 'date' || decimalOf(type) ? 'VARCHAR' : undefined;
  switch (type.type) {
    case 'array': {
      const inner = outputType(type.elementType);
      return inner === undefined ? undefined : `${inner}[]`;
    }
    case 'map': {
      const key = outputType(type.keyType);
      const value = outputType(type.valueType);
      if (key === undefined && value === undefined) return undefined;
      return `MAP(${key ?? duckdbType(type.keyType)}, ${value ?? duckdbType(type.valueType)})`;
    }
    case 'struct': {
      const fields = type.fields.map((f) => outputType(f.type));
      if (fields.every((f) => f === undefined)) return undefined;
      return `STRUCT(${type.fields.map((f, i) => `${quoteIdent(physicalName(f))} ${fields[i] ?? duckdbType(f.type)}`).join(', ')})`;
    }
  }
}

function isTimestamp(type: ColumnType): boolean {
  return type === 'timestamp' || type === 'timestamp_ntz';
}

/**
 * What a column leaves DuckDB as: numbers other than long as DOUBLE, timestamps as epoch
 * microseconds (BIGINT, exact), dates and decimals as text, long as BIGINT.
 */
function outputExpr(column: ColumnSpec): string {
  const name = quoteIdent(column.name);
  if (isTimestamp(column.type)) return `epoch_us(${name}) AS ${name}`;
  if (DOUBLE_OUTPUT.has(column.type as string)) return `CAST(${name} AS DOUBLE) AS ${name}`;
  const target = outputType(column.type);
  return target === undefined ? name : `CAST(${name} AS ${target}) AS ${name}`;
}

const DOUBLE_OUTPUT = new Set(['double', 'float', 'integer', 'short', 'byte']);

/**
 * The runtime shape of @duckdb/node-api's numeric vectors (1.5.5): `items` is the
 * chunk's data as a typed array, `validity` answers per row. Typed here because the
 * package keeps them private; when absent, values are read through `getItem`.
 */
interface RawValidity {
  readonly data?: unknown;
  itemValid(index: number): boolean;
}
interface RawVector {
  readonly items?: unknown;
  readonly validity?: RawValidity;
}

const LITTLE_ENDIAN = endianness() === 'LE';

/** All rows valid: DuckDBValidity keeps no bitmap (`data` null) until a row is NULL. */
function allValid(validity: RawValidity | undefined): boolean {
  return validity === undefined || validity.data === null;
}

/** One chunk of a DOUBLE vector into `target` at `offset` (a memcpy when no row is NULL). */
function readDoubles(
  items: Float64Array,
  validity: RawValidity | undefined,
  n: number,
  target: Float64Array,
  offset: number,
  markNull: (i: number) => void,
): void {
  target.set(items.subarray(0, n), offset);
  if (allValid(validity)) return;
  for (let i = 0; i < n; i++) if (!(validity as RawValidity).itemValid(i)) markNull(i);
}

/**
 * One chunk of a BIGINT vector (longs, or timestamps as epoch µs) into `target` at
 * `offset`, read as two 32-bit words per value so no BigInt is made unless a value is
 * beyond ±(2^53−1). Returns the first row that is not a safe integer (the caller keeps
 * that column exact), else -1.
 */
function readInt64s(
  items: BigInt64Array,
  validity: RawValidity | undefined,
  n: number,
  target: Float64Array,
  offset: number,
  markNull: (i: number) => void,
): number {
  const words = new Int32Array(items.buffer, items.byteOffset, n * 2);
  const checkNulls = !allValid(validity);
  for (let i = 0; i < n; i++) {
    if (checkNulls && !(validity as RawValidity).itemValid(i)) {
      markNull(i);
      continue;
    }
    const high = words[2 * i + 1] as number;
    const low = (words[2 * i] as number) >>> 0;
    const value = high * 4_294_967_296 + low;
    // |value| ≤ 2^53 − 1: the high word within ±2^21, and not −2^53 itself.
    const safe = high >= -2_097_152 && high <= 2_097_151 && (high !== -2_097_152 || low !== 0);
    if (!safe) return i;
    target[offset + i] = value;
  }
  return -1;
}

/** How one output column is read from the result chunks. */
function columnReader(column: ColumnSpec): 'double' | 'long' | 'timestamp' | 'values' {
  if (isTimestamp(column.type)) return 'timestamp';
  if (DOUBLE_OUTPUT.has(column.type as string)) return 'double';
  return column.type === 'long' ? 'long' : 'values';
}

/**
 * DuckDB values → the lake's JS values: as @duckdb/node-api's JS converter, except that
 * TIMESTAMP and TIMESTAMPTZ (at any depth) become exact `LakeTimestamp`s instead of
 * `Date`s (which hold milliseconds, truncated toward zero before 1970).
 */
const LAKE_VALUE_CONVERTER: DuckDBValueConverter<unknown> = (value, type, converter) => {
  if (value instanceof DuckDBTimestampTZValue) return new LakeTimestamp(value.micros);
  if (value instanceof DuckDBTimestampValue) return new LakeTimestamp(value.micros, true);
  // Nested values recurse through `converter`, i.e. back through this function.
  return JSDuckDBValueConverter(value, type, converter as DuckDBValueConverter<JS>);
};

/** A long or timestamp column's exact value (a timestamp leaves DuckDB as epoch µs). */
function exactValue(kind: 'long' | 'timestamp' | 'double' | 'values', ntz: boolean) {
  return (value: unknown): unknown => {
    if (value === null || value === undefined) return null;
    if (kind !== 'timestamp') return normalizeValue(value);
    return new LakeTimestamp(typeof value === 'bigint' ? value : BigInt(value as number), ntz);
  };
}

/**
 * Reads a materialized result column by column: numbers into one Float64Array per
 * column (no per-row objects), everything else through the JS value converter, then
 * normalized as `query` documents (longs exact, nested fields under logical names).
 */
function readColumns(
  result: DuckDBMaterializedResult,
  columns: readonly ColumnSpec[],
): { length: number; columns: Record<string, ResultColumn> } {
  const length = result.rowCount;
  const kinds = columns.map(columnReader);
  const numbers = kinds.map((kind) => (kind === 'values' ? undefined : new Float64Array(length)));
  const nulls: (Uint8Array | undefined)[] = columns.map(() => undefined);
  const others: (unknown[] | undefined)[] = kinds.map((kind) =>
    kind === 'values' ? new Array<unknown>(length) : undefined,
  );
  let offset = 0;
  for (let c = 0; c < result.chunkCount; c++) {
    const chunk = result.getChunk(c);
    const n = chunk.rowCount;
    for (let k = 0; k < columns.length; k++) {
      const kind = kinds[k];
      const target = numbers[k];
      if (target !== undefined) {
        const vector = chunk.getColumnVector(k);
        const raw = vector as unknown as RawVector;
        const markNull = (i: number): void => {
          target[offset + i] = NaN;
          (nulls[k] ??= new Uint8Array(length))[offset + i] = 1;
        };
        if (kind === 'double' && raw.items instanceof Float64Array) {
          readDoubles(raw.items, raw.validity, n, target, offset, markNull);
        } else if (
          (kind === 'long' || kind === 'timestamp') &&
          raw.items instanceof BigInt64Array &&
          LITTLE_ENDIAN
        ) {
          const unsafeAt = readInt64s(raw.items, raw.validity, n, target, offset, markNull);
          if (unsafeAt >= 0) {
            // This column becomes an array of exact values (number or bigint; LakeTimestamp).
            const exactOf = exactValue(kind, columns[k]?.type === 'timestamp_ntz');
            kinds[k] = 'values';
            const exact: unknown[] = Array.from(target.subarray(0, offset + unsafeAt), (v, j) =>
              nulls[k]?.[j] ? null : exactOf(v),
            );
            const rest = chunk.convertColumnValues(k, JSDuckDBValueConverter);
            for (let r = unsafeAt; r < n; r++) exact[offset + r] = exactOf(rest[r]);
            others[k] = exact;
            numbers[k] = undefined;
            nulls[k] = undefined;
          }
        } else {
          for (let i = 0; i < n; i++) {
            const value = vector.getItem(i);
            if (value === null) markNull(i);
            else if (kind === 'double') target[offset + i] = value as number;
            else target[offset + i] = Number(value);
          }
          if (kind === 'long' || kind === 'timestamp') {
            // Without raw access, int64s are checked afterwards and kept exact if needed.
            const converted = chunk.convertColumnValues(k, JSDuckDBValueConverter);
            if (converted.some((v) => typeof v === 'bigint' && normalizeLong(v) !== Number(v))) {
              const exactOf = exactValue(kind, columns[k]?.type === 'timestamp_ntz');
              kinds[k] = 'values';
              const exact: unknown[] = Array.from(target.subarray(0, offset), (v, j) =>
                nulls[k]?.[j] ? null : exactOf(v),
              );
              for (let r = 0; r < n; r++) exact[offset + r] = exactOf(converted[r]);
              others[k] = exact;
              numbers[k] = undefined;
              nulls[k] = undefined;
            }
          }
        }
      } else {
        const out = others[k] as unknown[];
        const values = chunk.convertColumnValues(k, LAKE_VALUE_CONVERTER);
        const type = (columns[k] as ColumnSpec).type;
        if (isTimestamp(type)) {
          // A timestamp column that held a value beyond ±(2^53−1) µs: epoch µs → LakeTimestamp.
          const exactOf = exactValue('timestamp', type === 'timestamp_ntz');
          for (let i = 0; i < n; i++) out[offset + i] = exactOf(values[i]);
          continue;
        }
        const mapped = hasNestedMapping(type);
        for (let i = 0; i < n; i++) {
          const value = normalizeValue(values[i]);
          out[offset + i] = mapped ? toLogicalValue(type, value) : value;
        }
      }
    }
    offset += n;
  }
  const out: Record<string, ResultColumn> = {};
  columns.forEach((column, k) => {
    const target = numbers[k];
    const mask = nulls[k];
    out[column.name] =
      target !== undefined
        ? mask !== undefined
          ? { values: target, nulls: mask }
          : { values: target }
        : { values: others[k] as unknown[] };
  });
  return { length, columns: out };
}

function filterSql(bound: BoundFilter, param: (value: DuckDBValue) => string): string {
  const name = quoteIdent(bound.column.name);
  const { op, value } = bound.filter;
  if (value === null || value === undefined)
    return op === '=' ? `${name} IS NULL` : `${name} IS NOT NULL`;
  const type = duckdbType(bound.column.type);
  const arg = (v: unknown): string => `CAST(${param(sqlParam(bound.column, v))} AS ${type})`;
  if (op === 'in') return `${name} IN (${(value as unknown[]).map(arg).join(', ')})`;
  return `${name} ${op} ${arg(value)}`;
}

function sqlParam(column: ColumnSpec, value: unknown): DuckDBValue {
  switch (column.type) {
    case 'timestamp':
      return formatMicros(toEpochMicros(value), true);
    case 'timestamp_ntz':
      return formatMicros(toEpochMicros(value), false);
    case 'date':
      return toDateString(value);
    case 'boolean':
      return typeof value === 'string' ? value === 'true' : Boolean(value);
    case 'double':
    case 'float':
    case 'integer':
    case 'short':
    case 'byte':
      return Number(value);
    default:
      return typeof value === 'bigint' || typeof value === 'number'
        ? value.toString()
        : String(value);
  }
}

function normalizeValue(value: unknown): unknown {
  if (typeof value === 'bigint') return normalizeLong(value);
  if (
    value === null ||
    typeof value !== 'object' ||
    value instanceof Date ||
    value instanceof LakeTimestamp ||
    value instanceof Uint8Array
  )
    return value;
  if (Array.isArray(value)) return value.map(normalizeValue);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = normalizeValue(v);
  return out;
}
