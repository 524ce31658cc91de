/**
 * Data files: column batches in, Parquet files and their add actions (with partition values
 * and per-file statistics) out. Depends on storage and log.
 */
export * from './column-batch.js';
export * from './data-writer.js';
