import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { endianness } from 'node:os';
import {
  DuckDBDataChunk,
  blobValue,
  listValue,
  BIGINT,
  BLOB,
  BOOLEAN,
  DOUBLE,
  ENUM,
  INTEGER,
  TIMESTAMP,
  TIMESTAMPTZ,
  VARCHAR,
  type DuckDBConnection,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import { AlphalakeError } from '../../domain/index.js';
import { encodeActionPath, type AddFile } from '../log/index.js';
import {
  isDictionaryColumn,
  valueAt,
  type ColumnBatch,
  type ColumnValues,
} from './column-batch.js';
import { sqlString, withDuckDB } from '../storage/index.js';
import { joinKey, type ObjectStore } from '../storage/index.js';
import {
  decimalOf,
  duckdbType,
  hasNestedMapping,
  isPrimitive,
  physicalName,
  quoteIdent,
  toPhysicalValue,
  type ColumnSpec,
} from '../log/index.js';
import {
  escapePartitionPathValue,
  formatMicros,
  normalizeLong,
  serializePartitionValue,
  toDateString,
  toEpochMicros,
} from '../log/index.js';

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

const LITTLE_ENDIAN = endianness() === 'LE';
/** Dictionaries up to this size are staged as an ENUM (the DDL lists every value). */
const ENUM_LIMIT = 65_536;

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
  /** A Float64Array source goes into the DOUBLE staging column as is. */
  readonly typedInput?: boolean;
  /**
   * A Float64Array source becomes a 64-bit integer staging column (BIGINT, TIMESTAMP[TZ])
   * holding `value * int64Scale` (an integer, else BAD_USER_INPUT), written without BigInts.
   */
  readonly int64Scale?: number;
  /** What to sort by when clustering on this column, if cheaper than `expr`. */
  readonly sortExpr?: string;
}

export async function writeDataFiles(
  store: ObjectStore,
  tablePath: string,
  batch: ColumnBatch,
  options: WriteFilesOptions,
): Promise<WrittenFiles> {
  if (batch.length === 0) return { adds: [], rows: 0, bytes: 0 };
  const params: DuckDBValue[] = [];
  // Partition columns are not stored in the files ("Partitioned tables"): not staged either.
  const staged = options.schema
    .map((spec, index) => ({ spec, index }))
    .filter(({ spec }) => !options.partitionColumns.includes(spec.name))
    .map(({ spec, index }) =>
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
    // One dictionary-encoded partition column: a partition per code, found once (typed lookup).
    const pidByCode =
      only !== undefined && isDictionaryColumn(only)
        ? new Int32Array(only.dictionary.length + 1).fill(-1)
        : undefined;
    for (let row = 0; row < batch.length; row++) {
      if (pidByCode !== undefined && only !== undefined && isDictionaryColumn(only)) {
        const raw = only.codes[row] ?? -1;
        const slot = raw < 0 ? only.dictionary.length : raw;
        const known = pidByCode[slot] ?? -1;
        if (known >= 0) {
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
        pidByCode[slot] = id;
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
    // A single partition (the usual batch: one day) needs no partition id column.
    const withPid = partitions.length > 1;
    const columnsSql = [
      ...staged.map((c) => `${c.stageName} ${c.stageSql}`),
      ...(withPid ? ['__pid INTEGER'] : []),
    ].join(', ');
    await connection.run(`CREATE TEMP TABLE ${stage} (${columnsSql})`);
    try {
      await fillStage(connection, stage, staged, withPid ? pids : undefined, batch.length);
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
  readonly sortExpr?: string;
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
  const adds: AddFile[] = [];
  let bytes = 0;
  const order = options.clusterBy
    .filter((name) => !partitionSet.has(name))
    .map((name) => {
      const column = staged.find((c) => c.spec.name === name);
      return column?.sortExpr ?? column?.expr;
    })
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
    // Sort the staged values (ENUM codes, int64s), then convert: the sort moves 2-byte
    // codes instead of strings. A projection over an ordered subquery keeps its order.
    const source =
      order.length > 0
        ? `(SELECT * FROM ${stage}${where} ORDER BY ${order.join(', ')})`
        : `${stage}${where}`;
    // RETURN_STATS: DuckDB reports the count and per-column min/max/null_count of the file
    // it wrote, so statistics need no second pass over the rows.
    const copy = bindParams(
      `COPY (SELECT ${select} FROM ${source}) TO ${sqlString(local)} ` +
        `(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${options.rowGroupSize ?? 122_880}, RETURN_STATS)`,
      params,
    );
    const written = await connection.runAndReadAll(copy.sql, copy.params);
    const fileStats = statsFromCopy(written.getRowsJson()[0], dataColumns);
    const size = (await stat(local)).size;
    await store.putFile(key, local, options.signal);
    bytes += size;
    adds.push({
      path: encodeActionPath(relative),
      partitionValues: partition.values,
      size,
      modificationTime: Date.now(),
      dataChange: options.dataChange ?? true,
      stats: JSON.stringify(fileStats.stats),
    });
    // Input nulls were refused before staging; this catches nulls a conversion produced.
    for (const column of dataColumns) {
      if (!column.spec.nullable && (fileStats.nullCounts.get(column.spec.name) ?? 0) > 0) {
        await store.delete(adds.map((add) => joinKey(tablePath, decodeURIComponent(add.path))));
        throw new AlphalakeError(
          'SCHEMA_MISMATCH',
          `column ${column.spec.name} is not nullable but has nulls`,
          { column: column.spec.name },
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
        // Codes into a sorted dictionary sort like the strings: clustering sorts integers.
        const sorted = sortedDictionary(source, length);
        if (sorted.dictionary.length > 0 && sorted.dictionary.length <= ENUM_LIMIT) {
          // An ENUM of the dictionary holds the codes as they are and casts to VARCHAR
          // faster than a list lookup; its index order is the strings' order. The file
          // gets VARCHAR, whose Parquet statistics are real min/max (an ENUM's are not).
          const dictionary = sorted.dictionary;
          return {
            ...base,
            source: sorted,
            stageType: ENUM(dictionary),
            stageSql: `ENUM(${dictionary.map(sqlString).join(', ')})`,
            expr: `CAST(${stageName} AS VARCHAR)`,
            sortExpr: stageName,
            convert: (v) => dictionary[v as number] ?? null,
          };
        }
        params.push(listValue([...sorted.dictionary]));
        return {
          ...base,
          source: sorted,
          stageType: INTEGER,
          stageSql: 'INTEGER',
          expr: `(CAST($P${params.length} AS VARCHAR[]))[${stageName} + 1]`,
          sortExpr: stageName,
          convert: (v) => v as number,
        };
      }
      return plain(VARCHAR, 'VARCHAR', stageName, (v) => (typeof v === 'string' ? v : String(v)));
    }
    case 'long': {
      if (source instanceof Float64Array && LITTLE_ENDIAN) {
        return { ...plain(BIGINT, 'BIGINT', stageName, Number), int64Scale: 1 };
      }
      if (source !== undefined && !isDictionaryColumn(source) && hasBigint(source, length)) {
        return plain(BIGINT, 'BIGINT', stageName, (v) =>
          typeof v === 'bigint' ? v : BigInt(v as number),
        );
      }
      // Numbers travel as doubles (exact up to 2^53) and become BIGINT in the COPY.
      return {
        ...plain(DOUBLE, 'DOUBLE', `CAST(${stageName} AS BIGINT)`, (v) => {
          const n = Number(v);
          if (!Number.isInteger(n))
            throw new AlphalakeError('BAD_USER_INPUT', `${spec.name}: ${String(v)} is not a long`);
          return n;
        }),
        typedInput: true,
      };
    }
    case 'integer':
    case 'short':
    case 'byte':
      return plain(INTEGER, 'INTEGER', `CAST(${stageName} AS ${duckdbType(type)})`, (v) =>
        Number(v),
      );
    case 'double':
    case 'float':
      return {
        ...plain(DOUBLE, 'DOUBLE', `CAST(${stageName} AS ${duckdbType(type)})`, (v) => Number(v)),
        typedInput: true,
      };
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
      // Float64Array input is epoch µs (integers): staged as is in the column's own type.
      if (source instanceof Float64Array && LITTLE_ENDIAN) {
        const stageType = type === 'timestamp' ? TIMESTAMPTZ : TIMESTAMP;
        return { ...plain(stageType, duckdbType(type), stageName, Number), int64Scale: 1 };
      }
      // Other input is staged as exact epoch µs (a double would round beyond 2^53 µs).
      const ts = `make_timestamp(${stageName})`;
      return plain(
        BIGINT,
        'BIGINT',
        type === 'timestamp' ? `CAST(${ts} AS TIMESTAMPTZ)` : ts,
        timestampMicros,
      );
    }
    case 'binary':
      return plain(BLOB, 'BLOB', stageName, (v) => blobValue(v as Uint8Array));
  }
}

/**
 * The dictionary with duplicates removed and sorted as DuckDB compares VARCHAR (by UTF-8
 * bytes), and the codes remapped to it; an already sorted dictionary keeps its codes.
 */
function sortedDictionary(
  source: { readonly dictionary: readonly string[]; readonly codes: ArrayLike<number> },
  length: number,
): { dictionary: readonly string[]; codes: ArrayLike<number> } {
  const bytes = source.dictionary.map((value) => Buffer.from(value, 'utf8'));
  let ordered = true;
  for (let i = 1; i < bytes.length && ordered; i++)
    ordered = Buffer.compare(bytes[i - 1] as Buffer, bytes[i] as Buffer) < 0;
  if (ordered) return source;
  const order = bytes
    .map((_, i) => i)
    .sort((a, b) => Buffer.compare(bytes[a] as Buffer, bytes[b] as Buffer));
  const dictionary: string[] = [];
  const rank = new Int32Array(bytes.length);
  let previous: Buffer | undefined;
  for (const index of order) {
    const value = bytes[index] as Buffer;
    if (previous === undefined || Buffer.compare(previous, value) !== 0) {
      dictionary.push(source.dictionary[index] as string);
      previous = value;
    }
    rank[index] = dictionary.length - 1;
  }
  const codes = new Int32Array(length);
  for (let i = 0; i < length; i++) {
    const code = source.codes[i] ?? -1;
    codes[i] = code < 0 ? -1 : (rank[code] ?? -1);
  }
  return { dictionary, codes };
}

/** Exact epoch microseconds: LakeTimestamp, Date, epoch µs (number or bigint), ISO text. */
function timestampMicros(value: unknown): bigint {
  return toEpochMicros(value);
}

function hasBigint(values: ArrayLike<unknown>, length: number): boolean {
  if (values instanceof BigInt64Array) return true;
  if (ArrayBuffer.isView(values)) return false;
  for (let i = 0; i < length; i++) if (typeof values[i] === 'bigint') return true;
  return false;
}

/**
 * How one staged column is filled per chunk: `copy` typed input straight into the
 * vector's buffer, `int64` scaled and rounded into a 64-bit vector as two 32-bit halves
 * (no BigInt per value), `values` converted value by value.
 */
type FillPlan =
  | { readonly kind: 'missing' }
  | { readonly kind: 'copy'; readonly source: Float64Array | Int32Array }
  | { readonly kind: 'int64'; readonly source: Float64Array; readonly scale: number }
  | { readonly kind: 'codes'; readonly codes: ArrayLike<number> }
  | { readonly kind: 'values'; readonly source: ArrayLike<unknown> };

function fillPlan(column: StagedColumn): FillPlan {
  const source = column.source;
  if (source === undefined) return { kind: 'missing' };
  if (column.int64Scale !== undefined && source instanceof Float64Array)
    return { kind: 'int64', source, scale: column.int64Scale };
  if (column.stageType === DOUBLE && source instanceof Float64Array && column.typedInput)
    return { kind: 'copy', source };
  if (isDictionaryColumn(source)) {
    // Codes go into the vector as they are only if each names a dictionary entry (an
    // ENUM vector must never hold an index outside its dictionary); others become NULL.
    const codes = source.codes;
    const size = source.dictionary.length;
    if (codes instanceof Int32Array && !codes.some((code) => code < 0 || code >= size))
      return { kind: 'copy', source: codes };
    return { kind: 'codes', codes };
  }
  return { kind: 'values', source };
}

const TWO_32 = 2 ** 32;

/**
 * Appends the batch to the staging table, one DataChunk (2048 rows, DuckDB's vector size)
 * at a time; the chunk and its vectors are reused, so a typed column costs one memcpy
 * per chunk. (Putting rows in clustering order in JS was measured slower at 10M rows than
 * DuckDB's ORDER BY in the COPY: the gather misses cache on every row.)
 */
async function fillStage(
  connection: DuckDBConnection,
  stage: string,
  staged: readonly StagedColumn[],
  pids: Int32Array | undefined,
  length: number,
): Promise<void> {
  const appender = await connection.createAppender(stage);
  const types = [...staged.map((c) => c.stageType), ...(pids ? [INTEGER] : [])];
  const plans: FillPlan[] = staged.map(fillPlan);
  if (pids) plans.push({ kind: 'copy', source: pids });
  const chunkRows = 2048;
  const chunk = DuckDBDataChunk.create(types, chunkRows);
  const vectors = plans.map((_, index) => chunk.getColumnVector(index));
  try {
    for (let offset = 0; offset < length; offset += chunkRows) {
      const n = Math.min(chunkRows, length - offset);
      if (n !== chunk.rowCount) chunk.rowCount = n;
      plans.forEach((plan, index) => {
        const vector = vectors[index] as (typeof vectors)[number];
        const items = (vector as unknown as { items?: unknown }).items;
        if (
          plan.kind === 'copy' &&
          ArrayBuffer.isView(items) &&
          (items.constructor === plan.source.constructor ||
            (plan.source instanceof Int32Array &&
              (items instanceof Uint8Array ||
                items instanceof Uint16Array ||
                items instanceof Uint32Array)))
        ) {
          // Same type: memcpy; ENUM vectors: codes narrowed element-wise by TypedArray.set.
          (items as Float64Array | Int32Array).set(plan.source.subarray(offset, offset + n));
        } else if (plan.kind === 'int64' && items instanceof BigInt64Array) {
          // Little-endian two's complement from doubles: exact for |value| < 2^53.
          const words = new Int32Array(items.buffer, items.byteOffset, n * 2);
          const { source, scale } = plan;
          for (let i = 0; i < n; i++) {
            const given = (source[offset + i] as number) * scale;
            const value = Math.round(given);
            if (value !== given) {
              // NaN, ±Infinity or a fraction: a long or an epoch-µs timestamp is an integer.
              throw new AlphalakeError(
                'BAD_USER_INPUT',
                `column ${(staged[index] as StagedColumn).spec.name}: ${given} is not an integer`,
                { column: (staged[index] as StagedColumn).spec.name, row: offset + i },
              );
            }
            const high = Math.floor(value / TWO_32);
            words[2 * i] = value - high * TWO_32;
            words[2 * i + 1] = high;
          }
        } else if (plan.kind === 'missing') {
          for (let i = 0; i < n; i++) vector.setItem(i, null);
        } else if (plan.kind === 'codes' || plan.kind === 'copy') {
          const codes = plan.kind === 'codes' ? plan.codes : plan.source;
          const convert = (staged[index] as StagedColumn | undefined)?.convert ?? Number;
          for (let i = 0; i < n; i++) {
            const code = codes[offset + i];
            vector.setItem(i, code === undefined || code < 0 ? null : (convert(code) ?? null));
          }
        } else {
          const convert = (staged[index] as StagedColumn).convert;
          const source = plan.source;
          for (let i = 0; i < n; i++) {
            const value = source[offset + i];
            vector.setItem(i, value === null || value === undefined ? null : convert(value));
          }
        }
        vector.flush();
      });
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

/**
 * PROTOCOL.md "Per-file Statistics" from the row `COPY … (RETURN_STATS)` returns
 * (filename, count, file_size_bytes, footer_size_bytes, column_statistics, …), where
 * column_statistics maps a quoted column path to min/max/null_count/has_nan as text.
 * Top-level primitive columns get nullCount; strings, numbers, dates and timestamps get
 * min/max. Anything that does not parse is left out, which only makes pruning more
 * conservative.
 */
function statsFromCopy(
  row: readonly unknown[] | undefined,
  dataColumns: readonly StageColumnRef[],
): PartitionStats {
  const numRecords = Number(row?.[1] ?? 0);
  const byColumn = new Map<string, Map<string, string>>();
  for (const entry of (row?.[4] ?? []) as {
    key: string;
    value: { key: string; value: string }[];
  }[])
    byColumn.set(entry.key, new Map(entry.value.map((kv) => [kv.key, kv.value])));
  const minValues: Record<string, unknown> = {};
  const maxValues: Record<string, unknown> = {};
  const nullCount: Record<string, unknown> = {};
  const nullCounts = new Map<string, number>();
  for (const column of dataColumns) {
    const type = column.spec.type;
    if (typeof type !== 'string') continue;
    const name = physicalName(column.spec);
    const stats = byColumn.get(quoteIdent(name));
    if (!stats) continue;
    const nulls = Number(stats.get('null_count'));
    if (Number.isInteger(nulls)) {
      nullCount[name] = nulls;
      nullCounts.set(column.spec.name, nulls);
    }
    if (decimalOf(type) || type === 'boolean' || type === 'binary') continue;
    const min = stats.get('min');
    const max = stats.get('max');
    if (min === undefined || max === undefined) continue;
    const bounds = statBounds(type, min, max);
    if (bounds.min !== undefined) minValues[name] = bounds.min;
    // NaN sorts above every number in DuckDB, so a file holding one has no usable max.
    if (bounds.max !== undefined && stats.get('has_nan') !== 'true') maxValues[name] = bounds.max;
  }
  return { stats: { numRecords, minValues, maxValues, nullCount }, nullCounts };
}

const STAT_TIMESTAMP =
  /^(\d{4,})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:([+-])(\d{2})(?::?(\d{2}))?)?$/;

/** DuckDB's text for a TIMESTAMP[TZ] statistic → epoch microseconds (undefined if BC, infinite, …). */
function statMicros(text: string): bigint | undefined {
  const match = STAT_TIMESTAMP.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, sec, fraction, sign, oh, om] = match;
  const date = new Date(0);
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  date.setUTCHours(Number(h), Number(mi), Number(sec), 0);
  let micros = BigInt(date.getTime()) * 1000n + BigInt((fraction ?? '').padEnd(6, '0') || '0');
  if (sign !== undefined) {
    const offset = BigInt((Number(oh) * 60 + Number(om ?? 0)) * 60_000_000);
    micros = sign === '+' ? micros - offset : micros + offset;
  }
  return micros;
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
      if (!/^-?\d+$/.test(min) || !/^-?\d+$/.test(max)) return {};
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
      const lo = statMicros(min);
      const hi = statMicros(max);
      if (lo === undefined || hi === undefined) return {};
      const floor = lo - (((lo % 1000n) + 1000n) % 1000n);
      const ceil = hi + ((1000n - (((hi % 1000n) + 1000n) % 1000n)) % 1000n);
      return {
        min: formatMicros(floor, type === 'timestamp'),
        max: formatMicros(ceil, type === 'timestamp'),
      };
    }
    case 'date':
      return /^\d{4}-\d{2}-\d{2}$/.test(min) && /^\d{4}-\d{2}-\d{2}$/.test(max) ? { min, max } : {};
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
