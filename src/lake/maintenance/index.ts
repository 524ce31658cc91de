/**
 * Keeping a table tidy: OPTIMIZE (compaction) and VACUUM (removing unreferenced files past
 * retention). Depends on storage, log and data.
 */
export * from './optimize.js';
export * from './vacuum.js';
