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
} from './polygon/index.js';
export {
  DEFAULT_YAHOO_API_URL,
  YahooChartClient,
  YahooDailySource,
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
