import { AlphalakeError } from '../../domain/index.js';
import type { AddFile } from '../log/index.js';
import {
  decimalOf,
  findColumn,
  physicalName,
  type ColumnSpec,
  type ColumnType,
} from '../log/index.js';
import {
  dateToDays,
  parsePartitionValue,
  parseTimestampMicros,
  toDateString,
  toEpochMicros,
} from '../log/index.js';

/**
 * A predicate on one top-level column. The same filters prune files (by partition values
 * and the min/max/nullCount statistics of PROTOCOL.md "Per-file Statistics") and then run
 * in DuckDB as parameterized SQL, so pruning only ever has to be conservative: a file is
 * skipped only when no row in it can match.
 *
 * `value: null` with `=` means IS NULL and with `!=` IS NOT NULL.
 */
export type FilterOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'in';

export interface Filter {
  readonly column: string;
  readonly op: FilterOp;
  readonly value: unknown;
}

/** A filter bound to its column, with the value in a comparable form. */
export interface BoundFilter {
  readonly filter: Filter;
  readonly column: ColumnSpec;
  readonly partition: boolean;
  /** Comparable keys: numbers, bigint micros, day numbers, strings; null for IS [NOT] NULL. */
  readonly keys: readonly (Comparable | null)[];
}

type Comparable = number | bigint | string | boolean;

const OPS = new Set<FilterOp>(['=', '!=', '<', '<=', '>', '>=', 'in']);

export function bindFilters(
  filters: readonly Filter[],
  schema: readonly ColumnSpec[],
  partitionColumns: readonly string[],
): BoundFilter[] {
  return filters.map((filter) => {
    const column = findColumn(schema, filter.column);
    if (!column) {
      throw new AlphalakeError('BAD_USER_INPUT', `filter on unknown column "${filter.column}"`, {
        column: filter.column,
      });
    }
    if (!OPS.has(filter.op))
      throw new AlphalakeError('BAD_USER_INPUT', `unknown filter operator ${filter.op}`);
    if (typeof column.type !== 'string' || column.type === 'binary') {
      throw new AlphalakeError(
        'BAD_USER_INPUT',
        `cannot filter on column "${column.name}" of type ${String(column.type)}`,
      );
    }
    const values = filter.op === 'in' ? filter.value : [filter.value];
    if (!Array.isArray(values))
      throw new AlphalakeError('BAD_USER_INPUT', `"in" filter on ${filter.column} needs an array`);
    if (filter.op === 'in' && values.some((v) => v === null || v === undefined)) {
      throw new AlphalakeError(
        'BAD_USER_INPUT',
        `"in" filter on ${filter.column} cannot contain null`,
      );
    }
    if (filter.value === null && filter.op !== '=' && filter.op !== '!=') {
      throw new AlphalakeError(
        'BAD_USER_INPUT',
        `${filter.op} null is never true; use = or != null`,
      );
    }
    const keys = values.map((value: unknown) =>
      value === null || value === undefined ? null : toComparable(column.type, value),
    );
    return { filter, column, partition: partitionColumns.includes(column.name), keys };
  });
}

/** A value as something `<` orders the way the column's type does. */
export function toComparable(type: ColumnType, value: unknown): Comparable {
  try {
    switch (type) {
      case 'string':
        return String(value);
      case 'long':
      case 'integer':
      case 'short':
      case 'byte':
      case 'double':
      case 'float':
        return typeof value === 'bigint' ? value : Number(value);
      case 'boolean':
        return typeof value === 'string' ? value === 'true' : Boolean(value);
      case 'date':
        return dateToDays(toDateString(value));
      case 'timestamp':
      case 'timestamp_ntz':
        return toEpochMicros(value);
    }
    if (decimalOf(type)) return Number(value);
  } catch (error) {
    throw new AlphalakeError(
      'BAD_USER_INPUT',
      `bad filter value ${String(value)} for ${String(type)}`,
      {},
      { cause: error },
    );
  }
  throw new AlphalakeError('BAD_USER_INPUT', `cannot filter on type ${String(type)}`);
}

function compare(a: Comparable, b: Comparable): number {
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    const x = typeof a === 'bigint' ? a : BigInt(Math.trunc(Number(a)));
    const y = typeof b === 'bigint' ? b : BigInt(Math.trunc(Number(b)));
    // Fractions truncated above only matter for long columns, where they make the bound looser.
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

function matches(op: FilterOp, value: Comparable, keys: readonly (Comparable | null)[]): boolean {
  const key = keys[0] as Comparable;
  switch (op) {
    case '=':
      return compare(value, key) === 0;
    case '!=':
      return compare(value, key) !== 0;
    case '<':
      return compare(value, key) < 0;
    case '<=':
      return compare(value, key) <= 0;
    case '>':
      return compare(value, key) > 0;
    case '>=':
      return compare(value, key) >= 0;
    case 'in':
      return keys.some((k) => k !== null && compare(value, k) === 0);
  }
}

interface ParsedStats {
  readonly numRecords?: number;
  readonly minValues?: Record<string, unknown>;
  readonly maxValues?: Record<string, unknown>;
  readonly nullCount?: Record<string, unknown>;
}

const statsCache = new WeakMap<AddFile, ParsedStats | null>();

function statsOf(file: AddFile): ParsedStats | null {
  let stats = statsCache.get(file);
  if (stats === undefined) {
    try {
      stats = file.stats ? (JSON.parse(file.stats) as ParsedStats) : null;
    } catch {
      stats = null;
    }
    statsCache.set(file, stats);
  }
  return stats;
}

/** The rows `file` holds by its statistics, if it has them. */
export function fileRecords(file: AddFile): number | undefined {
  return numberOrUndefined(statsOf(file)?.numRecords);
}

/** Whether any row of `file` may satisfy every filter. `false` only when certain. */
export function fileMayMatch(file: AddFile, filters: readonly BoundFilter[]): boolean {
  for (const bound of filters) {
    if (bound.partition ? !partitionMayMatch(file, bound) : !statsMayMatch(file, bound))
      return false;
  }
  return true;
}

function partitionMayMatch(file: AddFile, bound: BoundFilter): boolean {
  const raw =
    file.partitionValues[bound.column.name] ?? file.partitionValues[physicalName(bound.column)];
  const value = parsePartitionValue(bound.column.type, raw);
  const { op } = bound.filter;
  if (bound.keys[0] === null) return op === '=' ? value === null : value !== null;
  if (value === null) return false; // SQL: a comparison with NULL is never true
  return matches(op, toComparable(bound.column.type, value), bound.keys);
}

function statsMayMatch(file: AddFile, bound: BoundFilter): boolean {
  const stats = statsOf(file);
  if (!stats) return true;
  const name = physicalName(bound.column);
  const nulls = numberOrUndefined(stats.nullCount?.[name]);
  const records = numberOrUndefined(stats.numRecords);
  const allNull = nulls !== undefined && records !== undefined && nulls === records;
  const { op } = bound.filter;
  if (bound.keys[0] === null) {
    if (op === '=') return nulls === undefined || nulls > 0;
    return !allNull;
  }
  if (allNull && records !== undefined && records > 0) return false;
  if (records === 0) return false;
  const type = bound.column.type;
  const min = statValue(type, stats.minValues?.[name], 'min');
  const max = statValue(type, stats.maxValues?.[name], 'max');
  const keys = bound.keys as Comparable[];
  const below = (k: Comparable): boolean => min !== undefined && compare(k, min) < 0;
  const above = (k: Comparable): boolean => max !== undefined && compare(k, max) > 0;
  switch (op) {
    case '=':
      return !below(keys[0] as Comparable) && !above(keys[0] as Comparable);
    case 'in':
      return keys.some((k) => !below(k) && !above(k));
    case '!=':
      return !(
        min !== undefined &&
        max !== undefined &&
        compare(min, max) === 0 &&
        compare(min, keys[0] as Comparable) === 0 &&
        nulls === 0
      );
    case '<':
      return min === undefined || compare(min, keys[0] as Comparable) < 0;
    case '<=':
      return min === undefined || compare(min, keys[0] as Comparable) <= 0;
    case '>':
      return max === undefined || compare(max, keys[0] as Comparable) > 0;
    case '>=':
      return max === undefined || compare(max, keys[0] as Comparable) >= 0;
  }
}

function numberOrUndefined(value: unknown): number | undefined {
  return typeof value === 'number'
    ? value
    : typeof value === 'string' && value !== ''
      ? Number(value)
      : undefined;
}

/**
 * A statistic as a comparable bound, widened where writers are known to truncate:
 * timestamp statistics are milliseconds (Spark truncates the max), so the max is widened
 * by one millisecond. String statistics compare by UTF-16 code units, which orders like
 * UTF-8 bytes except for surrogate pairs: those are not used.
 */
function statValue(type: ColumnType, raw: unknown, side: 'min' | 'max'): Comparable | undefined {
  if (raw === null || raw === undefined || typeof raw === 'object') return undefined;
  try {
    switch (type) {
      case 'string':
        return typeof raw === 'string' && !/[\uD800-\uDFFF]/.test(raw) ? raw : undefined;
      case 'timestamp':
      case 'timestamp_ntz': {
        const micros = parseTimestampMicros(String(raw));
        return side === 'max' ? micros + 1000n : micros - 1000n;
      }
      case 'date':
        return dateToDays(toDateString(String(raw)));
      case 'long':
      case 'integer':
      case 'short':
      case 'byte':
      case 'double':
      case 'float': {
        const n = Number(raw);
        return Number.isFinite(n) ? n : undefined;
      }
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

/** Files of a snapshot that may hold matching rows. */
export function pruneFiles(files: readonly AddFile[], filters: readonly BoundFilter[]): AddFile[] {
  return filters.length === 0 ? [...files] : files.filter((file) => fileMayMatch(file, filters));
}

/**
 * Whether two files may hold a row with the same values in every one of `columns`, by their
 * statistics (PROTOCOL.md "Per-file Statistics"): false only when some column's [min, max]
 * ranges are certainly apart. Bounds are widened as for pruning (timestamps by a
 * millisecond, a truncated string max is no bound), so the answer errs towards "may".
 */
export function filesMayOverlap(a: AddFile, b: AddFile, columns: readonly ColumnSpec[]): boolean {
  const statsA = statsOf(a);
  const statsB = statsOf(b);
  if (!statsA || !statsB) return true;
  if (numberOrUndefined(statsA.numRecords) === 0 || numberOrUndefined(statsB.numRecords) === 0)
    return false;
  for (const column of columns) {
    const name = physicalName(column);
    const minA = statValue(column.type, statsA.minValues?.[name], 'min');
    const maxA = statValue(column.type, statsA.maxValues?.[name], 'max');
    const minB = statValue(column.type, statsB.minValues?.[name], 'min');
    const maxB = statValue(column.type, statsB.maxValues?.[name], 'max');
    if (minA !== undefined && maxB !== undefined && compare(minA, maxB) > 0) return false;
    if (minB !== undefined && maxA !== undefined && compare(minB, maxA) > 0) return false;
  }
  return true;
}
