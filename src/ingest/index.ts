/** Public surface of src/ingest: sources, validation into the bus, backfill. */
export {
  MarketSimulator,
  type SimulatorSettings,
  type TapeOptions,
  type TapeSecond,
} from './simulator.js';
export { SimulatorFeed } from './simulator-feed.js';
export { Ingestor, type IngestResult, type MarketBatch, type Reject } from './ingestor.js';
export type { Source, SourceRecord } from './source.js';
export { backfillFromSimulator, type BackfillResult, type HistorySink } from './backfill.js';
