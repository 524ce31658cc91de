/**
 * Reading a snapshot: file pruning by partition values and statistics, then DuckDB scans
 * with parameterized predicates. Depends on storage and log.
 */
export * from './pruning.js';
export * from './query.js';
export * from './query-cache.js';
