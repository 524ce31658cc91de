/** Public surface of src/batch: the lake's tables, the stream→lake sink, the lambda view. */
export {
  LAKE_TABLES,
  TRADES_TABLE,
  BARS_1M_TABLE,
  REJECTS_TABLE,
  NEWS_TABLE,
  QUOTES_TABLE,
  VENDOR_BARS_TABLE,
  type TableDefinition,
} from './tables.js';
export { openMedallion, type Medallion } from './medallion.js';
export {
  LakeSink,
  offsetAppId,
  quoteRow,
  SINK_APP_ID,
  tradeColumns,
  vendorBarColumns,
  type LakeSinkOptions,
  type RowCounter,
} from './sink/index.js';
export { LakeCheckpointSink } from './sink/index.js';
export { LakeLedger, SinkCheckpoint } from './sink/index.js';
export { NewsWriter } from './sink/index.js';
export { MAX_REJECTS, RejectsLog, type RejectsQuery } from './sink/index.js';
export { VendorBarsLog, type VendorBarsQuery } from './read/index.js';
export {
  LambdaView,
  QUERY_BAR_INTERVALS,
  type LakeAsOf,
  type QueryBarInterval,
  type TradeWithQuote,
  type ReadTrace,
  type ServedBar,
  type ServedTrade,
  type ViewSource,
} from './read/index.js';
export {
  ADJUSTED_BAR_OUTPUT,
  ADJUSTED_TRADE_OUTPUT,
  adjustedBarsSql,
  adjustedTradesSql,
  BAR_OUTPUT,
  barsFromTradesSql,
  coarserBarsSql,
  intervalMicros,
  secondBarsSql,
  sessionBarsSql,
  type FactorSpan,
} from './read/index.js';
export {
  MarketData,
  MAX_LIMIT,
  MAX_PAGE,
  encodeCursor,
  type Page,
  type PageQuery,
  type RangeQuery,
} from './read/index.js';
export { maintainLake, type MaintenanceResult } from './maintenance.js';
export {
  LakeBrowser,
  MAX_LAKE_ROWS,
  resolveTablePath,
  type LakeRows,
  type LakeRowsQuery,
  type LakeTableDetail,
  type LakeTableInfo,
} from './read/index.js';
