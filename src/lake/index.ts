/**
 * The lake: Delta Lake tables (delta-io/delta PROTOCOL.md) over an object store, with
 * DuckDB writing and querying the Parquet data files. Other modules import only from here.
 */
export type {
  ObjectStore,
  ObjectStoreCapabilities,
  ObjectInfo,
  ByteRange,
} from './object-store.js';
export { localObjectStore } from './local-object-store.js';
export { typeName } from './schema.js';
export { s3ObjectStore, type S3ObjectStoreOptions } from './s3-object-store.js';
export type {
  ColumnSpec,
  ColumnType,
  PrimitiveColumnType,
  DecimalColumnType,
  StructColumnType,
  ArrayColumnType,
  MapColumnType,
} from './schema.js';
export type { ColumnBatch, ColumnValues, DictionaryColumn, Rows } from './column-batch.js';
export type { AddFile, RemoveFile, ProtocolAction, MetadataAction, TxnAction } from './actions.js';
export type { Snapshot, SnapshotTarget } from './snapshot.js';
export type { Filter, FilterOp } from './pruning.js';
export type { ColumnarQueryResult, QueryOptions, QueryResult, ResultColumn } from './query.js';
export type { LakeValue } from './values.js';
export {
  DeltaTable,
  type CommitResult,
  type CreateTableOptions,
  type HistoryEntry,
  type OverwriteOptions,
  type WriteOptions,
} from './delta-table.js';
export type { OptimizeOptions, OptimizeResult } from './optimize.js';
export type { VacuumOptions, VacuumResult } from './vacuum.js';
