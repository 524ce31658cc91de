/** Public surface of src/ingest: sources, validation into the bus, backfill. */
export {
  MarketSimulator,
  type SimulatorSettings,
  type TapeOptions,
  type TapeSecond,
} from './simulator/index.js';
export { SimulatorFeed } from './simulator/index.js';
export {
  Ingestor,
  payloadOf,
  type CheckedRecords,
  type IngestorOptions,
  type IngestResult,
  type MarketBatch,
  type Reject,
} from './ingestor.js';
export type { Source, SourceRecord } from './source.js';
export { correctionOutcome } from './validation/index.js';
export { murmur3x86128, TradeDeduper } from './validation/index.js';
export {
  backfillFromSimulator,
  type BackfillResult,
  type HistorySink,
  type SimulatorHistoryExtras,
} from './simulator/index.js';
export {
  AGGREGATE_TIMESPANS,
  DEFAULT_POLYGON_API_URL,
  DEFAULT_POLYGON_WS_URL,
  POLYGON_CHANNELS,
  POLYGON_DATASETS,
  PolygonRestClient,
  PolygonRestSource,
  PolygonWebSocketSource,
  parsePage,
  type MicrosRange,
  type PolygonChannel,
  type PolygonDataset,
  type PolygonPage,
  type PolygonRestOptions,
  type PolygonRestSourceRequest,
  type PolygonSocketEvent,
  type PolygonStatus,
  type PolygonWebSocketOptions,
  type WebSocketLike,
  PolygonReferenceData,
  EXACT_LOOKUPS_MAX,
} from './polygon/index.js';
export {
  DEFAULT_YAHOO_API_URL,
  YahooChartClient,
  YahooDailySource,
  YahooReferenceData,
  chartRecords,
  type YahooChartOptions,
  type YahooRange,
} from './yahoo/index.js';
export {
  CallLimiter,
  VendorHttp,
  parseRetryAfter,
  type CallLimiterOptions,
  type Fetch,
  type RetryNotice,
  type Sleep,
  type VendorHttpOptions,
} from './vendor/index.js';
export {
  FileSource,
  FILE_FORMATS,
  FILE_FORMAT_NAMES,
  type FileFormat,
  type FileProgress,
  type FileSourceOptions,
} from './files/index.js';
export { ROW_LAYOUTS, type RowLayout } from './files/index.js';
export { ingestSource } from './replay.js';
export { NewsFileSource } from './files/index.js';
export { IngestTally } from './tally.js';
export {
  ProducerCheckpoint,
  type CommittedLedger,
  type ProducerCheckpointOptions,
} from './files/index.js';
export {
  backfillFile,
  BACKFILL_CHUNK_ROWS,
  completeAppId,
  type CheckpointChunk,
  type CheckpointSink,
  type JobProgress,
  type FileBackfillProgress,
} from './files/index.js';
export {
  FeedImperfector,
  imperfectFeed,
  publishSimulatorEvents,
  SimulatorEvents,
  withoutHalted,
  type FeedImperfections,
  type Halt,
  type PublishedEvents,
  type RawScale,
  type SimulatedNews,
  type SimulatorEventSink,
  type SimulatorEventSettings,
} from './simulator/index.js';
export { referenceEntryOf } from './reference-entry.js';
