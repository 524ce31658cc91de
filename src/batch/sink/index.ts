/** The way into the lake: the stream→lake sink, history backfills, their checkpoints, and the news and rejects writers. */
export * from './backfill-sink.js';
export * from './job-checkpoint.js';
export * from './lake-ledger.js';
export * from './lake-sink.js';
export * from './news-writer.js';
export * from './rejects-log.js';
export * from './sink-checkpoint.js';
export * from './vendor-bars-writer.js';
