/** Public surface of src/ingest/yahoo: daily bars, splits and dividends from Yahoo's chart endpoint. */
export {
  DEFAULT_YAHOO_API_URL,
  YahooChartClient,
  YahooDailySource,
  chartRecords,
  type YahooChartOptions,
  type YahooRange,
} from './chart-client.js';
export { YahooReferenceData } from './reference-source.js';
