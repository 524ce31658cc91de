import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { AlphalakeError } from '../domain/index.js';
import { decodeActionPath, type AddFile } from './actions.js';
import { sqlString, withDuckDB } from './duckdb.js';
import { joinKey, type ObjectStore } from './object-store.js';
import { bindFilters, pruneFiles, type BoundFilter, type Filter } from './pruning.js';
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
} from './schema.js';
import type { Snapshot } from './snapshot.js';
import {
  formatMicros,
  microsToDate,
  normalizeLong,
  toDateString,
  toEpochMicros,
} from './values.js';

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
  readonly signal?: AbortSignal;
}

export interface QueryResult {
  readonly rows: Record<string, unknown>[];
  readonly filesScanned: number;
  readonly filesTotal: number;
}

/** Top-level column names per local Parquet file; data files are immutable, so this never goes stale. */
const fileColumnsCache = new Map<string, readonly string[]>();
const FILE_COLUMNS_CACHE_LIMIT = 100_000;

export async function querySnapshot(
  store: ObjectStore,
  snapshot: Snapshot,
  options: QueryOptions,
): Promise<QueryResult> {
  const schema = snapshot.schema;
  const columns = (options.columns ?? schema.map((c) => c.name)).map((name) => {
    const column = findColumn(schema, name);
    if (!column)
      throw new AlphalakeError('BAD_USER_INPUT', `unknown column "${name}"`, { column: name });
    return column;
  });
  const bound = bindFilters(options.filters ?? [], schema, snapshot.partitionColumns);
  for (const order of options.orderBy ?? []) {
    if (!findColumn(schema, order.column)) {
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
  if (files.length === 0 || options.limit === 0) return { rows: [], ...result };

  const needed = new Set<string>([
    ...columns.map((c) => c.name),
    ...bound.map((b) => b.column.name),
    ...(options.orderBy ?? []).map((o) => o.column),
  ]);
  const neededColumns = schema.filter((c) => needed.has(c.name));
  const paths = await Promise.all(
    files.map((file) =>
      store.localPath(joinKey(snapshot.tablePath, decodeActionPath(file.path)), options.signal),
    ),
  );

  return withDuckDB(async (connection) => {
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
    const select = columns.map((column) => outputExpr(column)).join(', ');
    let sql = `SELECT ${select} FROM (${branches.join(' UNION ALL ')}) AS t`;
    if (where.length > 0) sql += ` WHERE ${where.join(' AND ')}`;
    if (options.orderBy && options.orderBy.length > 0) {
      sql += ` ORDER BY ${options.orderBy.map((o) => `${quoteIdent(o.column)} ${o.desc ? 'DESC' : 'ASC'}`).join(', ')}`;
    }
    if (options.limit !== undefined) sql += ` LIMIT ${options.limit}`;
    const reader = await connection.runAndReadAll(sql, params.length > 0 ? params : undefined);
    const rows = reader.getRowObjectsJS() as Record<string, unknown>[];
    const timestamps = new Set(columns.filter((c) => isTimestamp(c.type)).map((c) => c.name));
    // Nested fields of column-mapped tables leave DuckDB under their physical names.
    const mapped = new Map(
      columns.filter((c) => hasNestedMapping(c.type)).map((c) => [c.name, c.type] as const),
    );
    for (const row of rows) {
      for (const key of Object.keys(row)) {
        const value = row[key];
        const nested = mapped.get(key);
        row[key] =
          timestamps.has(key) && typeof value === 'bigint'
            ? microsToDate(value)
            : nested !== undefined
              ? toLogicalValue(nested, normalizeValue(value))
              : normalizeValue(value);
      }
    }
    return { rows, ...result };
  }, options.signal);
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

function outputExpr(column: ColumnSpec): string {
  const name = quoteIdent(column.name);
  // Epoch microseconds, floored to milliseconds by us (DuckDB's Date conversion truncates toward zero).
  if (isTimestamp(column.type)) return `epoch_us(${name}) AS ${name}`;
  const target = outputType(column.type);
  return target === undefined ? name : `CAST(${name} AS ${target}) AS ${name}`;
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
    value instanceof Uint8Array
  )
    return value;
  if (Array.isArray(value)) return value.map(normalizeValue);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = normalizeValue(v);
  return out;
}
