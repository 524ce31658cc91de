/**
 * The lake: Delta Lake tables (delta-io/delta PROTOCOL.md) over an object store, with
 * DuckDB writing and querying the Parquet data files. Other modules import only from here.
 */
export type {
  ObjectStore,
  ObjectStoreCapabilities,
  ObjectInfo,
  ByteRange,
} from './storage/index.js';
export { localObjectStore } from './storage/index.js';
export { LakeTimestamp, lakeValueToJson, typeName } from './log/index.js';
export { s3ObjectStore, type S3ObjectStoreOptions } from './storage/index.js';
export type {
  ColumnSpec,
  ColumnType,
  PrimitiveColumnType,
  DecimalColumnType,
  StructColumnType,
  ArrayColumnType,
  MapColumnType,
} from './log/index.js';
export type { ColumnBatch, ColumnValues, DictionaryColumn, Rows } from './data/index.js';
export type {
  AddFile,
  RemoveFile,
  ProtocolAction,
  MetadataAction,
  TxnAction,
} from './log/index.js';
export type { Snapshot, SnapshotTarget } from './log/index.js';
export type { Filter, FilterOp } from './read/index.js';
export type {
  AggregateSql,
  ColumnarQueryResult,
  QueryOptions,
  QueryParam,
  QueryResult,
  ResultColumn,
} from './read/index.js';
export { QueryCache, type QueryCacheOptions, type QueryCacheStats } from './read/index.js';
export {
  configureDuckDB,
  DEFAULT_DUCKDB_POOL,
  duckdbPoolStats,
  type DuckDBPoolOptions,
} from './storage/index.js';
export type { LakeValue } from './log/index.js';
export {
  DeltaTable,
  type CommitResult,
  type CreateTableOptions,
  type HistoryEntry,
  type OverwriteOptions,
  type TableReadOptions,
  type TxnMarker,
  type UpsertOptions,
  type WriteOptions,
} from './delta-table.js';
export type { OptimizeOptions, OptimizeResult } from './maintenance/index.js';
export type { VacuumOptions, VacuumResult } from './maintenance/index.js';
export { sqlString, withDuckDB } from './storage/index.js';
