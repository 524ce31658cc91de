import { AlphalakeError } from '../domain/index.js';
import type { ColumnSpec, ColumnType } from './schema.js';

/**
 * The columnar input of an append: one array per column, all of `length` rows. Strings
 * may be dictionary-encoded (`{ dictionary, codes }`), which is how the batch sink passes
 * symbols at millions of rows per second.
 */
export interface DictionaryColumn {
  readonly dictionary: readonly string[];
  readonly codes: ArrayLike<number>;
}

export type ColumnValues = ArrayLike<unknown> | DictionaryColumn;

export interface ColumnBatch {
  readonly length: number;
  readonly columns: Readonly<Record<string, ColumnValues>>;
}

export type Rows = readonly Readonly<Record<string, unknown>>[];

export function isDictionaryColumn(values: ColumnValues): values is DictionaryColumn {
  return (
    typeof values === 'object' &&
    values !== null &&
    'dictionary' in values &&
    'codes' in values &&
    Array.isArray((values as DictionaryColumn).dictionary)
  );
}

export function isColumnBatch(input: Rows | ColumnBatch): input is ColumnBatch {
  return !Array.isArray(input) && typeof (input as ColumnBatch).columns === 'object';
}

/** Rows → columns, keeping every key seen in any row. */
export function rowsToBatch(rows: Rows): ColumnBatch {
  const names = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row)) names.add(key);
  const columns: Record<string, unknown[]> = {};
  for (const name of names) {
    const values = new Array<unknown>(rows.length);
    for (let i = 0; i < rows.length; i++) values[i] = (rows[i] as Record<string, unknown>)[name];
    columns[name] = values;
  }
  return { length: rows.length, columns };
}

/** The value of row `i`, decoding dictionary columns. */
export function valueAt(values: ColumnValues, i: number): unknown {
  if (isDictionaryColumn(values)) {
    const code = values.codes[i];
    return code === undefined || code < 0 ? null : values.dictionary[code];
  }
  return values[i];
}

/** The Delta type of a new column inferred from its values (schema evolution, merge mode). */
export function inferColumnType(name: string, values: ColumnValues, length: number): ColumnType {
  if (isDictionaryColumn(values)) return 'string';
  if (values instanceof Float64Array || values instanceof Float32Array) return 'double';
  if (values instanceof Int32Array || values instanceof Int16Array || values instanceof Int8Array)
    return 'integer';
  if (values instanceof BigInt64Array) return 'long';
  for (let i = 0; i < length; i++) {
    const value = values[i];
    if (value === null || value === undefined) continue;
    if (typeof value === 'string') return 'string';
    if (typeof value === 'number') return 'double';
    if (typeof value === 'bigint') return 'long';
    if (typeof value === 'boolean') return 'boolean';
    if (value instanceof Date) return 'timestamp';
    if (value instanceof Uint8Array) return 'binary';
    break;
  }
  throw new AlphalakeError('SCHEMA_MISMATCH', `cannot infer a type for new column "${name}"`, {
    column: name,
  });
}

export function describeColumns(columns: readonly ColumnSpec[]): string {
  return columns.map((c) => c.name).join(', ');
}
