import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import {
  DuckDBDataChunk,
  blobValue,
  listValue,
  BIGINT,
  BLOB,
  BOOLEAN,
  DOUBLE,
  INTEGER,
  VARCHAR,
  type DuckDBConnection,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import { AlphalakeError } from '../domain/index.js';
import { encodeActionPath, type AddFile } from './actions.js';
import {
  isDictionaryColumn,
  valueAt,
  type ColumnBatch,
  type ColumnValues,
} from './column-batch.js';
import { sqlString, withDuckDB } from './duckdb.js';
import { joinKey, type ObjectStore } from './object-store.js';
import {
  decimalOf,
  duckdbType,
  hasNestedMapping,
  isPrimitive,
  physicalName,
  quoteIdent,
  toPhysicalValue,
  type ColumnSpec,
} from './schema.js';
import {
  escapePartitionPathValue,
  formatMicros,
  normalizeLong,
  parseTimestampMicros,
  serializePartitionValue,
  toDateString,
} from './values.js';

/**
 * Writes data files: stages a batch in DuckDB, then `COPY`s one zstd Parquet file per
 * partition, sorted by the clustering columns, and computes the per-file statistics the
 * protocol defines (PROTOCOL.md "Per-file Statistics": numRecords, minValues, maxValues,
 * nullCount). Partition columns are not stored in the files ("Partitioned tables").
 */
export interface WriteFilesOptions {
  readonly schema: readonly ColumnSpec[];
  readonly partitionColumns: readonly string[];
  /** The partition columns' specs (for their physical names); @default looked up in `schema` */
  readonly partitionSpecs?: readonly ColumnSpec[];
  readonly clusterBy: readonly string[];
  readonly rowGroupSize?: number;
  readonly dataChange?: boolean;
  readonly signal?: AbortSignal;
}

export interface WrittenFiles {
  readonly adds: AddFile[];
  readonly rows: number;
  readonly bytes: number;
}

/** Longer strings get no max statistic and a prefix as min (as Spark does with 32 chars). */
const STRING_STATS_PREFIX = 32;

interface StagedColumn {
  readonly spec: ColumnSpec;
  readonly stageName: string;
  readonly stageType: DuckDBType;
  readonly stageSql: string;
  /** The SQL expression producing the column's Delta type from the staged value. */
  readonly expr: string;
  readonly source: ColumnValues | undefined;
  readonly convert: (value: unknown) => DuckDBValue;
}

export async function writeDataFiles(
  store: ObjectStore,
  tablePath: string,
  batch: ColumnBatch,
  options: WriteFilesOptions,
): Promise<WrittenFiles> {
  if (batch.length === 0) return { adds: [], rows: 0, bytes: 0 };
  const params: DuckDBValue[] = [];
  const staged = options.schema.map((spec, index) =>
    stageColumn(spec, index, batch.columns[spec.name], batch.length, params),
  );
  const partitionSpecs = options.partitionColumns.map((name) => {
    const spec = options.schema.find((c) => c.name === name);
    if (!spec)
      throw new AlphalakeError('SCHEMA_MISMATCH', `partition column ${name} is not in the schema`);
    return spec;
  });

  // Partition id per row, from the serialized partition values.
  const partitions: { values: Record<string, string | null> }[] = [];
  const pids = new Int32Array(batch.length);
  if (partitionSpecs.length > 0) {
    const ids = new Map<string, number>();
    // Dictionary-encoded partition columns serialize each distinct value once.
    const memo = partitionSpecs.map(() => new Map<number, string | null>());
    const partitionValue = (i: number, row: number): string | null => {
      const spec = partitionSpecs[i] as ColumnSpec;
      const source = batch.columns[spec.name];
      if (source !== undefined && isDictionaryColumn(source)) {
        const code = source.codes[row] ?? -1;
        const cache = memo[i] as Map<number, string | null>;
        let value = cache.get(code);
        if (value === undefined) {
          value = serializePartitionValue(spec.type, valueAt(source, row) ?? null);
          cache.set(code, value);
        }
        return value;
      }
      return serializePartitionValue(spec.type, valueOrNull(source, row));
    };
    const only =
      partitionSpecs.length === 1
        ? batch.columns[(partitionSpecs[0] as ColumnSpec).name]
        : undefined;
    const pidByCode = new Map<number, number>();
    for (let row = 0; row < batch.length; row++) {
      if (only !== undefined && isDictionaryColumn(only)) {
        // One dictionary-encoded partition column: a partition per code, found once.
        const code = only.codes[row] ?? -1;
        const known = pidByCode.get(code);
        if (known !== undefined) {
          pids[row] = known;
          continue;
        }
        const value = partitionValue(0, row);
        const key = JSON.stringify([value]);
        let id = ids.get(key);
        if (id === undefined) {
          id = partitions.length;
          ids.set(key, id);
          partitions.push({
            values: { [physicalName(partitionSpecs[0] as ColumnSpec)]: value },
          });
        }
        pidByCode.set(code, id);
        pids[row] = id;
        continue;
      }
      const values: (string | null)[] = partitionSpecs.map((_, i) => partitionValue(i, row));
      const key = JSON.stringify(values);
      let id = ids.get(key);
      if (id === undefined) {
        id = partitions.length;
        ids.set(key, id);
        partitions.push({
          values: Object.fromEntries(
            partitionSpecs.map((spec, i) => [physicalName(spec), values[i] ?? null]),
          ),
        });
      }
      pids[row] = id;
    }
  } else {
    partitions.push({ values: {} });
  }

  const stage = `stage_${randomUUID().replaceAll('-', '')}`;
  return withDuckDB(async (connection) => {
    const columnsSql = [...staged.map((c) => `${c.stageName} ${c.stageSql}`), '__pid INTEGER'].join(
      ', ',
    );
    await connection.run(`CREATE TEMP TABLE ${stage} (${columnsSql})`);
    try {
      await fillStage(connection, stage, staged, pids, batch.length);
      const { adds, bytes } = await copyStageToFiles(connection, store, tablePath, {
        stage,
        columns: staged,
        partitions,
        params,
        options: { ...options, partitionSpecs: partitionSpecs },
      });
      return { adds, rows: batch.length, bytes };
    } finally {
      await connection.run(`DROP TABLE IF EXISTS ${stage}`);
    }
  }, options.signal);
}

/** A column of a staging table: its Delta spec and the SQL producing its stored value. */
export interface StageColumnRef {
  readonly spec: ColumnSpec;
  readonly expr: string;
}

/**
 * COPYs a staging table (with an INTEGER `__pid` column numbering `partitions`) into one
 * Parquet file per partition and returns their add actions with statistics.
 */
export async function copyStageToFiles(
  connection: DuckDBConnection,
  store: ObjectStore,
  tablePath: string,
  input: {
    readonly stage: string;
    readonly columns: readonly StageColumnRef[];
    readonly partitions: readonly { readonly values: Record<string, string | null> }[];
    readonly params: DuckDBValue[];
    readonly options: WriteFilesOptions;
  },
): Promise<{ adds: AddFile[]; bytes: number }> {
  const { stage, columns: staged, partitions, params, options } = input;
  const partitionSet = new Set(options.partitionColumns);
  const dataColumns = staged.filter((c) => !partitionSet.has(c.spec.name));
  const stats = await computeStats(connection, stage, dataColumns, staged, params);
  const adds: AddFile[] = [];
  let bytes = 0;
  const order = options.clusterBy
    .filter((name) => !partitionSet.has(name))
    .map((name) => staged.find((c) => c.spec.name === name)?.expr)
    .filter((expr): expr is string => expr !== undefined);
  for (let pid = 0; pid < partitions.length; pid++) {
    options.signal?.throwIfAborted();
    const partition = partitions[pid] as { values: Record<string, string | null> };
    const dir = partitionDir(options.partitionSpecs, partition.values);
    const relative = joinKey(dir, `part-00000-${randomUUID()}-c000.zstd.parquet`);
    const key = joinKey(tablePath, relative);
    const local = await store.stagingPath(key);
    const select = dataColumns
      .map((c) => `${c.expr} AS ${quoteIdent(physicalName(c.spec))}`)
      .join(', ');
    const where = partitions.length > 1 ? ` WHERE __pid = ${pid}` : '';
    const orderBy = order.length > 0 ? ` ORDER BY ${order.join(', ')}` : '';
    const copy = bindParams(
      `COPY (SELECT ${select} FROM ${stage}${where}${orderBy}) TO ${sqlString(local)} ` +
        `(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${options.rowGroupSize ?? 122_880})`,
      params,
    );
    await connection.run(copy.sql, copy.params);
    const size = (await stat(local)).size;
    await store.putFile(key, local, options.signal);
    bytes += size;
    const fileStats = stats.get(pid);
    adds.push({
      path: encodeActionPath(relative),
      partitionValues: partition.values,
      size,
      modificationTime: Date.now(),
      dataChange: options.dataChange ?? true,
      stats: JSON.stringify(fileStats?.stats ?? { numRecords: 0 }),
    });
    // Non-nullable columns are checked once the statistics know the null counts.
    for (const column of options.schema) {
      if (!column.nullable && (fileStats?.nullCounts.get(column.name) ?? 0) > 0) {
        await store.delete(adds.map((add) => joinKey(tablePath, decodeURIComponent(add.path))));
        throw new AlphalakeError(
          'SCHEMA_MISMATCH',
          `column ${column.name} is not nullable but has nulls`,
          {
            column: column.name,
          },
        );
      }
    }
  }
  return { adds, bytes };
}

/**
 * The folder of a partition's files: `name=value/…` with logical names. The path is opaque
 * to readers (PROTOCOL.md "Column Mapping" lets writers pick any prefix); the values are
 * read from `partitionValues`, which column-mapped tables key by physical name.
 */
export function partitionDir(
  specs: readonly ColumnSpec[] | undefined,
  values: Readonly<Record<string, string | null>>,
): string {
  return (specs ?? [])
    .map((spec) => {
      const value = values[physicalName(spec)] ?? values[spec.name] ?? null;
      return `${spec.name}=${escapePartitionPathValue(value)}`;
    })
    .join('/');
}

/**
 * Expressions refer to parameters as `$P<n>` (1-based into `params`); a statement binds
 * exactly the ones it uses, renumbered, since DuckDB refuses unused parameters.
 */
function bindParams(
  sql: string,
  params: readonly DuckDBValue[],
): { sql: string; params?: DuckDBValue[] } {
  const used: DuckDBValue[] = [];
  const numbers = new Map<number, number>();
  const out = sql.replace(/\$P(\d+)/g, (_, n: string) => {
    const index = Number(n);
    let number = numbers.get(index);
    if (number === undefined) {
      used.push(params[index - 1] as DuckDBValue);
      number = used.length;
      numbers.set(index, number);
    }
    return `$${number}`;
  });
  return { sql: out, params: used.length > 0 ? used : undefined };
}

function valueOrNull(values: ColumnValues | undefined, row: number): unknown {
  return values === undefined ? null : (valueAt(values, row) ?? null);
}

function stageColumn(
  spec: ColumnSpec,
  index: number,
  source: ColumnValues | undefined,
  length: number,
  params: DuckDBValue[],
): StagedColumn {
  const stageName = `c${index}`;
  const base = { spec, stageName, source };
  const type = spec.type;
  const plain = (
    stageType: DuckDBType,
    stageSql: string,
    expr: string,
    convert: (v: unknown) => DuckDBValue,
  ) => ({
    ...base,
    stageType,
    stageSql,
    expr,
    convert,
  });
  if (!isPrimitive(type)) {
    const decimal = decimalOf(type);
    if (decimal)
      return plain(VARCHAR, 'VARCHAR', `CAST(${stageName} AS ${duckdbType(type)})`, String);
    // Column mapping names nested fields too: the JSON carries physical names at every depth.
    const mapped = hasNestedMapping(type);
    return plain(
      VARCHAR,
      'VARCHAR',
      `CAST(CAST(${stageName} AS JSON) AS ${duckdbType(type)})`,
      (v) =>
        JSON.stringify(mapped ? toPhysicalValue(type, v) : v, (_k, x: unknown) =>
          typeof x === 'bigint' ? x.toString() : x,
        ),
    );
  }
  switch (type) {
    case 'string': {
      if (source !== undefined && isDictionaryColumn(source)) {
        params.push(listValue([...source.dictionary]));
        return {
          ...base,
          stageType: INTEGER,
          stageSql: 'INTEGER',
          expr: `(CAST($P${params.length} AS VARCHAR[]))[${stageName} + 1]`,
          convert: (v) => v as number,
        };
      }
      return plain(VARCHAR, 'VARCHAR', stageName, (v) => (typeof v === 'string' ? v : String(v)));
    }
    case 'long': {
      if (source !== undefined && !isDictionaryColumn(source) && hasBigint(source, length)) {
        return plain(BIGINT, 'BIGINT', stageName, (v) =>
          typeof v === 'bigint' ? v : BigInt(v as number),
        );
      }
      // Numbers travel as doubles (exact up to 2^53) and become BIGINT in the COPY.
      return plain(DOUBLE, 'DOUBLE', `CAST(${stageName} AS BIGINT)`, (v) => {
        const n = Number(v);
        if (!Number.isInteger(n))
          throw new AlphalakeError('BAD_USER_INPUT', `${spec.name}: ${String(v)} is not a long`);
        return n;
      });
    }
    case 'integer':
    case 'short':
    case 'byte':
      return plain(INTEGER, 'INTEGER', `CAST(${stageName} AS ${duckdbType(type)})`, (v) =>
        Number(v),
      );
    case 'double':
    case 'float':
      return plain(DOUBLE, 'DOUBLE', `CAST(${stageName} AS ${duckdbType(type)})`, (v) => Number(v));
    case 'boolean':
      return plain(BOOLEAN, 'BOOLEAN', stageName, (v) => Boolean(v));
    case 'date': {
      if (source !== undefined && isDictionaryColumn(source)) {
        params.push(listValue(source.dictionary.map((d) => toDateString(d))));
        return {
          ...base,
          stageType: INTEGER,
          stageSql: 'INTEGER',
          expr: `CAST((CAST($P${params.length} AS VARCHAR[]))[${stageName} + 1] AS DATE)`,
          convert: (v) => v as number,
        };
      }
      return plain(VARCHAR, 'VARCHAR', `CAST(${stageName} AS DATE)`, toDateString);
    }
    case 'timestamp':
    case 'timestamp_ntz': {
      const ts = `make_timestamp(CAST(${stageName} AS BIGINT))`;
      return plain(
        DOUBLE,
        'DOUBLE',
        type === 'timestamp' ? `CAST(${ts} AS TIMESTAMPTZ)` : ts,
        timestampMicros,
      );
    }
    case 'binary':
      return plain(BLOB, 'BLOB', stageName, (v) => blobValue(v as Uint8Array));
  }
}

/** Epoch microseconds as a double: Date, epoch milliseconds (number), micros (bigint), ISO text. */
function timestampMicros(value: unknown): number {
  if (value instanceof Date) return value.getTime() * 1000;
  if (typeof value === 'number') return Math.round(value * 1000);
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string') return Number(parseTimestampMicros(value));
  throw new AlphalakeError('BAD_USER_INPUT', `not a timestamp: ${String(value)}`);
}

function hasBigint(values: ArrayLike<unknown>, length: number): boolean {
  if (values instanceof BigInt64Array) return true;
  if (ArrayBuffer.isView(values)) return false;
  for (let i = 0; i < length; i++) if (typeof values[i] === 'bigint') return true;
  return false;
}

/** How a Float64Array feeds a DOUBLE staging column directly: the factor applied, or undefined. */
function typedScale(column: StagedColumn): number | undefined {
  if (column.stageType !== DOUBLE) return undefined;
  const type = column.spec.type;
  if (type === 'timestamp' || type === 'timestamp_ntz') return 1000; // epoch ms → µs
  return type === 'double' || type === 'float' || type === 'long' ? 1 : undefined;
}

async function fillStage(
  connection: DuckDBConnection,
  stage: string,
  staged: readonly StagedColumn[],
  pids: Int32Array,
  length: number,
): Promise<void> {
  const appender = await connection.createAppender(stage);
  const types = [...staged.map((c) => c.stageType), INTEGER];
  const chunkRows = 2048;
  try {
    for (let offset = 0; offset < length; offset += chunkRows) {
      const n = Math.min(chunkRows, length - offset);
      const chunk = DuckDBDataChunk.create(types, n);
      staged.forEach((column, index) => {
        const vector = chunk.getColumnVector(index);
        const source = column.source;
        const items = (vector as unknown as { items?: unknown }).items;
        const scale = typedScale(column);
        if (source === undefined) {
          for (let i = 0; i < n; i++) vector.setItem(i, null);
        } else if (
          scale !== undefined &&
          source instanceof Float64Array &&
          items instanceof Float64Array
        ) {
          // Fast path: typed input straight into the vector's buffer (no per-value conversion).
          if (scale === 1) items.set(source.subarray(offset, offset + n));
          else
            for (let i = 0; i < n; i++)
              items[i] = Math.round((source[offset + i] as number) * scale);
        } else if (
          isDictionaryColumn(source) &&
          source.codes instanceof Int32Array &&
          items instanceof Int32Array &&
          !source.codes.subarray(offset, offset + n).some((code) => code < 0)
        ) {
          items.set(source.codes.subarray(offset, offset + n));
        } else if (isDictionaryColumn(source)) {
          const codes = source.codes;
          for (let i = 0; i < n; i++) {
            const code = codes[offset + i];
            vector.setItem(i, code === undefined || code < 0 ? null : code);
          }
        } else {
          const convert = column.convert;
          for (let i = 0; i < n; i++) {
            const value = source[offset + i];
            vector.setItem(i, value === null || value === undefined ? null : convert(value));
          }
        }
        vector.flush();
      });
      const pidVector = chunk.getColumnVector(staged.length);
      for (let i = 0; i < n; i++) pidVector.setItem(i, pids[offset + i] ?? 0);
      pidVector.flush();
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

interface PartitionStats {
  readonly stats: Record<string, unknown>;
  readonly nullCounts: Map<string, number>;
}

async function computeStats(
  connection: DuckDBConnection,
  stage: string,
  dataColumns: readonly StageColumnRef[],
  allColumns: readonly StageColumnRef[],
  params: DuckDBValue[],
): Promise<Map<number, PartitionStats>> {
  const select: string[] = ['__pid', 'count(*)'];
  const plan: { column: StageColumnRef; minMax: boolean; data: boolean }[] = [];
  for (const column of allColumns) {
    const data = dataColumns.includes(column);
    const type = column.spec.type;
    const minMax =
      data &&
      typeof type === 'string' &&
      !decimalOf(type) &&
      type !== 'boolean' &&
      type !== 'binary';
    select.push(`count(*) - count(${column.expr})`);
    if (minMax) {
      if (type === 'timestamp' || type === 'timestamp_ntz') {
        select.push(`epoch_us(min(${column.expr}))`, `epoch_us(max(${column.expr}))`);
      } else {
        select.push(`CAST(min(${column.expr}) AS VARCHAR)`, `CAST(max(${column.expr}) AS VARCHAR)`);
      }
    }
    plan.push({ column, minMax, data });
  }
  const query = bindParams(`SELECT ${select.join(', ')} FROM ${stage} GROUP BY __pid`, params);
  const result = await connection.runAndReadAll(query.sql, query.params);
  const out = new Map<number, PartitionStats>();
  for (const row of result.getRowsJson()) {
    let i = 0;
    const pid = Number(row[i++]);
    const numRecords = Number(row[i++]);
    const minValues: Record<string, unknown> = {};
    const maxValues: Record<string, unknown> = {};
    const nullCount: Record<string, unknown> = {};
    const nullCounts = new Map<string, number>();
    for (const { column, minMax, data } of plan) {
      const nulls = Number(row[i++]);
      nullCounts.set(column.spec.name, nulls);
      const isStruct = typeof column.spec.type !== 'string' && column.spec.type.type === 'struct';
      const name = physicalName(column.spec);
      if (data && !isStruct) nullCount[name] = nulls;
      if (!minMax) continue;
      const min = row[i++];
      const max = row[i++];
      if (min === null || max === null || min === undefined || max === undefined) continue;
      const bounds = statBounds(column.spec.type as string, String(min), String(max));
      if (bounds.min !== undefined) minValues[name] = bounds.min;
      if (bounds.max !== undefined) maxValues[name] = bounds.max;
    }
    out.set(pid, { stats: { numRecords, minValues, maxValues, nullCount }, nullCounts });
  }
  return out;
}

function statBounds(type: string, min: string, max: string): { min?: unknown; max?: unknown } {
  switch (type) {
    case 'string': {
      const chars = [...min];
      return {
        min:
          chars.length > STRING_STATS_PREFIX ? chars.slice(0, STRING_STATS_PREFIX).join('') : min,
        max: [...max].length > STRING_STATS_PREFIX ? undefined : max,
      };
    }
    case 'long': {
      const lo = normalizeLong(BigInt(min));
      const hi = normalizeLong(BigInt(max));
      return {
        min: typeof lo === 'number' ? lo : undefined,
        max: typeof hi === 'number' ? hi : undefined,
      };
    }
    case 'timestamp':
    case 'timestamp_ntz': {
      // Readers expect millisecond stats: round the bounds outwards so they stay bounds.
      const lo = BigInt(min);
      const hi = BigInt(max);
      const floor = lo - (((lo % 1000n) + 1000n) % 1000n);
      const ceil = hi + ((1000n - (((hi % 1000n) + 1000n) % 1000n)) % 1000n);
      return {
        min: formatMicros(floor, type === 'timestamp'),
        max: formatMicros(ceil, type === 'timestamp'),
      };
    }
    case 'date':
      return { min, max };
    default: {
      const lo = Number(min);
      const hi = Number(max);
      return {
        min: Number.isFinite(lo) ? lo : undefined,
        max: Number.isFinite(hi) ? hi : undefined,
      };
    }
  }
}
