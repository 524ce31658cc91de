/** The built-in market simulator: its tape, the live feed, corporate events and imperfections, and simulator backfill. */
export * from './backfill.js';
export * from './random.js';
export * from './simulator-events.js';
export * from './simulator-feed.js';
export * from './simulator.js';
export * from './simulator-event-sink.js';
