/** Recorded files as sources: CSV/Parquet/Polygon flat-file layouts, news files, and the resumable file backfill. */
export * from './file-backfill.js';
export * from './file-layouts.js';
export * from './file-source.js';
export * from './news-files.js';
export * from './producer-checkpoint.js';
