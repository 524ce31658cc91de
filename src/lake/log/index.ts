/**
 * The Delta log (PROTOCOL.md "Delta Log Entries", "Checkpoints"): actions, the schema and
 * value encodings, table features, listing a log segment, replaying it into a snapshot,
 * checkpoints, and the optimistic commit. Depends on storage.
 */
export * from './actions.js';
export * from './checkpoint-reader.js';
export * from './checkpoint-writer.js';
export * from './commit.js';
export * from './log-replay.js';
export * from './log-segment.js';
export * from './schema.js';
export * from './snapshot.js';
export * from './table-features.js';
export * from './values.js';
