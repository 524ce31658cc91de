import { randomUUID } from 'node:crypto';
import { AlphalakeError } from '../../domain/index.js';

/**
 * Table schemas: the `schemaString` of a `metaData` action (PROTOCOL.md, "Schema
 * Serialization Format") as `ColumnSpec`s, and their DuckDB types.
 */
export type PrimitiveColumnType =
  | 'string'
  | 'long'
  | 'integer'
  | 'short'
  | 'byte'
  | 'double'
  | 'float'
  | 'boolean'
  | 'date'
  | 'timestamp'
  | 'timestamp_ntz'
  | 'binary';

export type DecimalColumnType = `decimal(${number},${number})`;

export interface StructColumnType {
  readonly type: 'struct';
  readonly fields: readonly ColumnSpec[];
}

export interface ArrayColumnType {
  readonly type: 'array';
  readonly elementType: ColumnType;
  readonly containsNull: boolean;
}

export interface MapColumnType {
  readonly type: 'map';
  readonly keyType: ColumnType;
  readonly valueType: ColumnType;
  readonly valueContainsNull: boolean;
}

export type ColumnType =
  | PrimitiveColumnType
  | DecimalColumnType
  | StructColumnType
  | ArrayColumnType
  | MapColumnType;

export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
  /** Field metadata as stored (column mapping ids and physical names live here). */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

const PRIMITIVES = new Set<string>([
  'string',
  'long',
  'integer',
  'short',
  'byte',
  'double',
  'float',
  'boolean',
  'date',
  'timestamp',
  'timestamp_ntz',
  'binary',
]);

const DECIMAL = /^decimal\(\s*(\d+)\s*,\s*(-?\d+)\s*\)$/;

export function isPrimitive(type: ColumnType): type is PrimitiveColumnType {
  return typeof type === 'string' && PRIMITIVES.has(type);
}

export function decimalOf(type: ColumnType): { precision: number; scale: number } | undefined {
  if (typeof type !== 'string') return undefined;
  const match = DECIMAL.exec(type);
  return match ? { precision: Number(match[1]), scale: Number(match[2]) } : undefined;
}

/** Parses `metaData.schemaString`; unknown types (variant, …) are refused by name. */
export function parseSchemaString(schemaString: string | null | undefined): ColumnSpec[] {
  if (typeof schemaString !== 'string') {
    throw new AlphalakeError(
      'UNSUPPORTED_TABLE_FEATURE',
      'the table metaData has no schemaString',
      {
        feature: 'schemaString',
      },
    );
  }
  const parsed = JSON.parse(schemaString) as unknown;
  const type = parseType(parsed);
  if (typeof type === 'string' || type.type !== 'struct') {
    throw new AlphalakeError('UNSUPPORTED_TABLE_FEATURE', 'table schema is not a struct');
  }
  return [...type.fields];
}

function parseType(json: unknown): ColumnType {
  if (typeof json === 'string') {
    if (PRIMITIVES.has(json)) return json as PrimitiveColumnType;
    if (json === 'decimal') return 'decimal(10,0)';
    const match = DECIMAL.exec(json);
    if (match) return `decimal(${Number(match[1])},${Number(match[2])})`;
    throw new AlphalakeError(
      'UNSUPPORTED_TABLE_FEATURE',
      `column type "${json}" is not supported by alphalake`,
      { feature: json },
    );
  }
  const obj = json as Record<string, unknown>;
  switch (obj['type']) {
    case 'struct': {
      const fields = (obj['fields'] as Record<string, unknown>[]).map(
        (field): ColumnSpec => ({
          name: String(field['name']),
          type: parseType(field['type']),
          nullable: field['nullable'] !== false,
          metadata: (field['metadata'] as Record<string, unknown> | undefined) ?? {},
        }),
      );
      return { type: 'struct', fields };
    }
    case 'array':
      return {
        type: 'array',
        elementType: parseType(obj['elementType']),
        containsNull: obj['containsNull'] !== false,
      };
    case 'map':
      return {
        type: 'map',
        keyType: parseType(obj['keyType']),
        valueType: parseType(obj['valueType']),
        valueContainsNull: obj['valueContainsNull'] !== false,
      };
    default:
      throw new AlphalakeError(
        'UNSUPPORTED_TABLE_FEATURE',
        `column type ${JSON.stringify(json)} is not supported by alphalake`,
        { feature: String(obj['type']) },
      );
  }
}

/** Serializes columns as a `schemaString` (PROTOCOL.md, "Schema Serialization Format"). */
export function toSchemaString(columns: readonly ColumnSpec[]): string {
  return JSON.stringify(typeToJson({ type: 'struct', fields: columns }));
}

function typeToJson(type: ColumnType): unknown {
  if (typeof type === 'string') return type;
  switch (type.type) {
    case 'struct':
      return {
        type: 'struct',
        fields: type.fields.map((field) => ({
          name: field.name,
          type: typeToJson(field.type),
          nullable: field.nullable,
          metadata: field.metadata ?? {},
        })),
      };
    case 'array':
      return {
        type: 'array',
        elementType: typeToJson(type.elementType),
        containsNull: type.containsNull,
      };
    case 'map':
      return {
        type: 'map',
        keyType: typeToJson(type.keyType),
        valueType: typeToJson(type.valueType),
        valueContainsNull: type.valueContainsNull,
      };
  }
}

/** A type written for humans and error messages: `struct<a: long, b: array<string>>`. */
export function typeName(type: ColumnType): string {
  if (typeof type === 'string') return type;
  switch (type.type) {
    case 'struct':
      return `struct<${type.fields.map((f) => `${f.name}: ${typeName(f.type)}`).join(', ')}>`;
    case 'array':
      return `array<${typeName(type.elementType)}>`;
    case 'map':
      return `map<${typeName(type.keyType)}, ${typeName(type.valueType)}>`;
  }
}

export function sameType(a: ColumnType, b: ColumnType): boolean {
  return typeName(a) === typeName(b);
}

/** Quotes an SQL identifier for DuckDB. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The DuckDB type a Delta type is stored as (Parquet logical types follow from it). */
export function duckdbType(type: ColumnType): string {
  if (typeof type === 'string') {
    const decimal = decimalOf(type);
    if (decimal) return `DECIMAL(${decimal.precision},${decimal.scale})`;
    switch (type as PrimitiveColumnType) {
      case 'string':
        return 'VARCHAR';
      case 'long':
        return 'BIGINT';
      case 'integer':
        return 'INTEGER';
      case 'short':
        return 'SMALLINT';
      case 'byte':
        return 'TINYINT';
      case 'double':
        return 'DOUBLE';
      case 'float':
        return 'FLOAT';
      case 'boolean':
        return 'BOOLEAN';
      case 'date':
        return 'DATE';
      // Parquet TIMESTAMP(isAdjustedToUTC=true) is what Spark and delta-rs expect for `timestamp`.
      case 'timestamp':
        return 'TIMESTAMPTZ';
      case 'timestamp_ntz':
        return 'TIMESTAMP';
      case 'binary':
        return 'BLOB';
    }
    throw new AlphalakeError('UNSUPPORTED_TABLE_FEATURE', `column type ${type}`);
  }
  switch (type.type) {
    case 'struct':
      return `STRUCT(${type.fields.map((f) => `${quoteIdent(physicalName(f))} ${duckdbType(f.type)}`).join(', ')})`;
    case 'array':
      return `${duckdbType(type.elementType)}[]`;
    case 'map':
      return `MAP(${duckdbType(type.keyType)}, ${duckdbType(type.valueType)})`;
  }
}

/** PROTOCOL.md "Column Mapping": the name a column has inside the Parquet files. */
export function physicalName(column: ColumnSpec): string {
  const name = column.metadata?.['delta.columnMapping.physicalName'];
  return typeof name === 'string' && name.length > 0 ? name : column.name;
}

export type ColumnMappingMode = 'none' | 'name' | 'id';

export function columnMappingMode(
  configuration: Readonly<Record<string, string>>,
): ColumnMappingMode {
  const mode = configuration['delta.columnMapping.mode'];
  return mode === 'name' || mode === 'id' ? mode : 'none';
}

export function findColumn(columns: readonly ColumnSpec[], name: string): ColumnSpec | undefined {
  return columns.find((column) => column.name === name);
}

const PHYSICAL_NAME = 'delta.columnMapping.physicalName';
const COLUMN_ID = 'delta.columnMapping.id';
const MAX_COLUMN_ID = 'delta.columnMapping.maxColumnId';

/** Whether any struct field at any depth of `type` is stored under another name. */
export function hasNestedMapping(type: ColumnType): boolean {
  if (typeof type === 'string') return false;
  switch (type.type) {
    case 'struct':
      return type.fields.some((f) => physicalName(f) !== f.name || hasNestedMapping(f.type));
    case 'array':
      return hasNestedMapping(type.elementType);
    case 'map':
      return hasNestedMapping(type.keyType) || hasNestedMapping(type.valueType);
  }
}

/**
 * PROTOCOL.md "Column Mapping": every struct field at every depth (inside arrays and map
 * keys/values too) has a physical name. A value keyed by logical names → keyed by
 * physical names (for writing). Maps are objects or `{ key, value }` entry lists.
 */
export function toPhysicalValue(type: ColumnType, value: unknown): unknown {
  return renameValue(type, value, 'physical');
}

/** The inverse of `toPhysicalValue`: a value read from a data file → logical names. */
export function toLogicalValue(type: ColumnType, value: unknown): unknown {
  return renameValue(type, value, 'logical');
}

function renameValue(type: ColumnType, value: unknown, to: 'physical' | 'logical'): unknown {
  if (value === null || value === undefined || typeof type === 'string') return value;
  switch (type.type) {
    case 'struct': {
      if (typeof value !== 'object' || Array.isArray(value)) return value;
      const source = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const field of type.fields) {
        const physical = physicalName(field);
        const [from, key] = to === 'physical' ? [field.name, physical] : [physical, field.name];
        if (from in source) out[key] = renameValue(field.type, source[from], to);
      }
      return out;
    }
    case 'array':
      return Array.isArray(value) ? value.map((v) => renameValue(type.elementType, v, to)) : value;
    case 'map': {
      if (Array.isArray(value)) {
        return value.map((entry: unknown) => {
          if (typeof entry !== 'object' || entry === null) return entry;
          const { key, value: v } = entry as { key?: unknown; value?: unknown };
          return {
            key: renameValue(type.keyType, key, to),
            value: renameValue(type.valueType, v, to),
          };
        });
      }
      if (typeof value !== 'object') return value;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = renameValue(type.valueType, v, to);
      return out;
    }
  }
}

/**
 * PROTOCOL.md "Column Mapping" (writer requirements): in name mode every field at every
 * depth gets a unique `delta.columnMapping.id` and a `physicalName`, and the table keeps
 * `delta.columnMapping.maxColumnId`. Fields that already have both keep them.
 * Returns the columns and the new maximum id.
 */
export function assignColumnMapping(
  columns: readonly ColumnSpec[],
  maxColumnId: number,
): { columns: ColumnSpec[]; maxColumnId: number } {
  let max = maxColumnId;
  const visitField = (field: ColumnSpec): ColumnSpec => {
    const metadata = { ...(field.metadata ?? {}) };
    if (typeof metadata[COLUMN_ID] !== 'number') metadata[COLUMN_ID] = ++max;
    if (typeof metadata[PHYSICAL_NAME] !== 'string' || metadata[PHYSICAL_NAME] === '')
      metadata[PHYSICAL_NAME] = `col-${randomUUID()}`;
    return { ...field, type: visitType(field.type), metadata };
  };
  const visitType = (type: ColumnType): ColumnType => {
    if (typeof type === 'string') return type;
    switch (type.type) {
      case 'struct':
        return { type: 'struct', fields: type.fields.map(visitField) };
      case 'array':
        return { ...type, elementType: visitType(type.elementType) };
      case 'map':
        return { ...type, keyType: visitType(type.keyType), valueType: visitType(type.valueType) };
    }
  };
  // Ids already present count towards the maximum before new ones are handed out.
  const seen = (type: ColumnType): number => {
    if (typeof type === 'string') return 0;
    switch (type.type) {
      case 'struct':
        return Math.max(
          0,
          ...type.fields.map((f) => {
            const id = f.metadata?.[COLUMN_ID];
            return Math.max(typeof id === 'number' ? id : 0, seen(f.type));
          }),
        );
      case 'array':
        return seen(type.elementType);
      case 'map':
        return Math.max(seen(type.keyType), seen(type.valueType));
    }
  };
  max = Math.max(max, seen({ type: 'struct', fields: columns }));
  const out = columns.map(visitField);
  return { columns: out, maxColumnId: max };
}

/** `delta.columnMapping.maxColumnId` of a table's configuration (0 when absent). */
export function maxColumnIdOf(configuration: Readonly<Record<string, string>>): number {
  const value = Number(configuration[MAX_COLUMN_ID] ?? 0);
  return Number.isInteger(value) && value > 0 ? value : 0;
}

export const MAX_COLUMN_ID_PROPERTY = MAX_COLUMN_ID;
