/** Public surface of src/graphql: the API server and its schema. */
export {
  startApiServer,
  type ApiServer,
  type ApiServerOptions,
  type BackendHealth,
} from './server.js';
export { apiSchemaSdl, buildApiSchema } from './schema.js';
export type { ApiContext, ApiServices } from './context.js';
export { DateTimeScalar } from './scalars.js';
export {
  ResponseCache,
  rootFieldCount,
  type CachedResponse,
  type ResponseCacheStats,
} from './response-cache.js';
export { RESPONSE_CACHE_HEADER } from './http-handler.js';
export { costLimitRule, DEFAULT_LIMITS, limitRules, type QueryLimits } from './limits.js';
export {
  allowListPlugin,
  apolloPersistedQueries,
  loadPersistedQueryManifest,
  sha256Hex,
  type PersistedQueriesMode,
  type PersistedQueriesOptions,
} from './persisted-queries.js';
export {
  clientAddress,
  credentialOrAddress,
  RateLimiter,
  type RateLimitOptions,
} from './rate-limit.js';
export { REQUEST_ID_HEADER } from './observability.js';
export type { ApiRequest } from './context.js';
