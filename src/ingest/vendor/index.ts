/** Public surface of src/ingest/vendor: what the network sources share. */
export { CallLimiter, realSleep, type CallLimiterOptions, type Sleep } from './call-limiter.js';
export {
  VendorHttp,
  parseRetryAfter,
  pathOf,
  type Fetch,
  type RetryNotice,
  type VendorHttpOptions,
} from './vendor-http.js';
export { RecordChannel } from './record-channel.js';
