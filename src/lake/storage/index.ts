/**
 * Storage: where a table's bytes live. The object-store port (put-if-absent is the commit
 * primitive), its local-disk and S3 adapters, and DuckDB, the engine that reads and writes
 * Parquet. Depends on nothing else in the lake.
 */
export * from './duckdb.js';
export * from './local-object-store.js';
export * from './object-store.js';
export * from './s3-object-store.js';
