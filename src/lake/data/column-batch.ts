import { AlphalakeError } from '../../domain/index.js';
import {
  decimalOf,
  LakeTimestamp,
  typeName,
  type ColumnSpec,
  type ColumnType,
} from '../log/index.js';

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
    if (value instanceof LakeTimestamp) return value.ntz ? 'timestamp_ntz' : 'timestamp';
    if (value instanceof Date) return 'timestamp';
    if (value instanceof Uint8Array) return 'binary';
    break;
  }
  throw new AlphalakeError('SCHEMA_MISMATCH', `cannot infer a type for new column "${name}"`, {
    column: name,
  });
}

/** What a batch column holds, in words for messages: `string`, `number`, `timestamp`, … */
export interface ColumnProfile {
  /** Distinct kinds of the non-null values, in order of first appearance. */
  readonly kinds: readonly string[];
  readonly nulls: number;
}

const TYPED_KINDS: readonly [new (...args: never[]) => ArrayLike<unknown>, string][] = [
  [Float64Array, 'double'],
  [Float32Array, 'float'],
  [Int32Array, 'integer'],
  [Int16Array, 'short'],
  [Int8Array, 'byte'],
  [Uint8Array, 'integer'],
  [Uint16Array, 'integer'],
  [Uint32Array, 'long'],
  [BigInt64Array, 'long'],
];

function kindOf(value: unknown): string {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'bigint') return 'bigint';
  if (typeof value === 'boolean') return 'boolean';
  if (value instanceof Date || value instanceof LakeTimestamp) return 'timestamp';
  if (value instanceof Uint8Array) return 'binary';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Map) return 'map';
  if (typeof value === 'object') return 'object';
  return typeof value;
}

/** The kinds and null count of a column (typed arrays and dictionaries without a value scan). */
export function profileColumn(values: ColumnValues, length: number): ColumnProfile {
  if (isDictionaryColumn(values)) {
    let nulls = 0;
    const codes = values.codes;
    for (let i = 0; i < length; i++) {
      const code = codes[i];
      if (code === undefined || code < 0) nulls++;
    }
    return { kinds: nulls < length ? ['string'] : [], nulls };
  }
  for (const [constructor, kind] of TYPED_KINDS) {
    if (values instanceof constructor) return { kinds: length > 0 ? [kind] : [], nulls: 0 };
  }
  const kinds: string[] = [];
  let nulls = 0;
  let last = '';
  for (let i = 0; i < length; i++) {
    const value = values[i];
    if (value === null || value === undefined) {
      nulls++;
      continue;
    }
    const kind = kindOf(value);
    if (kind !== last && !kinds.includes(kind)) kinds.push(kind);
    last = kind;
  }
  return { kinds, nulls };
}

const NUMBER_KINDS = ['number', 'bigint', 'double', 'float', 'integer', 'short', 'byte', 'long'];

/** Whether values of `kind` can be written to a column of `type` (see docs/lake.md "Values"). */
export function kindFits(type: ColumnType, kind: string): boolean {
  if (typeof type !== 'string') {
    switch (type.type) {
      case 'struct':
        return kind === 'object';
      case 'array':
        return kind === 'array';
      case 'map':
        return kind === 'object' || kind === 'array' || kind === 'map';
    }
  }
  if (decimalOf(type)) return kind === 'string' || NUMBER_KINDS.includes(kind);
  switch (type) {
    case 'string':
      return kind === 'string';
    case 'long':
    case 'integer':
    case 'short':
    case 'byte':
    case 'double':
    case 'float':
      return NUMBER_KINDS.includes(kind);
    case 'boolean':
      return kind === 'boolean';
    case 'date':
      // 'YYYY-MM-DD', a Date, or days since the epoch.
      return kind === 'string' || kind === 'timestamp' || NUMBER_KINDS.includes(kind);
    case 'timestamp':
    case 'timestamp_ntz':
      // LakeTimestamp, Date, ISO text, epoch µs (number, Float64Array or bigint).
      return ['timestamp', 'string', 'number', 'bigint', 'double', 'long'].includes(kind);
    case 'binary':
      return kind === 'binary';
  }
  return false;
}

export interface SchemaDifferences {
  /** Input columns the table does not have. */
  readonly unknown: readonly string[];
  /** Non-nullable table columns the input lacks. */
  readonly missing: readonly string[];
  readonly types: readonly { column: string; table: string; batch: string }[];
  readonly nulls: readonly { column: string; nulls: number }[];
}

/** Every difference between a batch and the table schema, for one SCHEMA_MISMATCH. */
export function compareBatch(schema: readonly ColumnSpec[], batch: ColumnBatch): SchemaDifferences {
  const known = new Set(schema.map((c) => c.name));
  const unknown = Object.keys(batch.columns).filter((name) => !known.has(name));
  const missing: string[] = [];
  const types: { column: string; table: string; batch: string }[] = [];
  const nulls: { column: string; nulls: number }[] = [];
  for (const column of schema) {
    const values = batch.columns[column.name];
    if (values === undefined) {
      if (!column.nullable) missing.push(column.name);
      continue;
    }
    const profile = profileColumn(values, batch.length);
    if (profile.kinds.some((kind) => !kindFits(column.type, kind))) {
      types.push({
        column: column.name,
        table: typeName(column.type),
        batch: profile.kinds.join(' | '),
      });
    }
    if (!column.nullable && profile.nulls > 0)
      nulls.push({ column: column.name, nulls: profile.nulls });
  }
  return { unknown, missing, types, nulls };
}

/** One line per kind of difference: `type differences: price: table double, batch string`. */
export function describeDifferences(differences: SchemaDifferences, unknownHint: string): string[] {
  const parts: string[] = [];
  if (differences.unknown.length > 0)
    parts.push(`unknown columns: ${differences.unknown.join(', ')}${unknownHint}`);
  if (differences.missing.length > 0)
    parts.push(`missing non-nullable columns: ${differences.missing.join(', ')}`);
  if (differences.types.length > 0) {
    parts.push(
      `type differences: ${differences.types.map((t) => `${t.column}: table ${t.table}, batch ${t.batch}`).join('; ')}`,
    );
  }
  if (differences.nulls.length > 0) {
    parts.push(
      `nulls in non-nullable columns: ${differences.nulls.map((n) => `${n.column} (${n.nulls} null${n.nulls === 1 ? '' : 's'})`).join(', ')}`,
    );
  }
  return parts;
}
