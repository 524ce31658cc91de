/** Public surface of src/graphql: the API server and its schema. */
export {
  startApiServer,
  type ApiServer,
  type ApiServerOptions,
  type BackendHealth,
} from './transport/index.js';
export { apiSchemaSdl, buildApiSchema } from './schema.js';
export type { ApiContext, ApiServices } from './transport/index.js';
export { DateTimeScalar } from './types/index.js';
export {
  ResponseCache,
  rootFieldCount,
  sharedSubscriptionExecutor,
  type CachedResponse,
  type ResponseCacheStats,
} from './execution/index.js';
export {
  CredentialWatch,
  RESPONSE_CACHE_HEADER,
  UNAUTHENTICATED_CLOSE_CODE,
  type CredentialWatchOptions,
} from './transport/index.js';
export { costLimitRule, DEFAULT_LIMITS, limitRules, type QueryLimits } from './guard/index.js';
export {
  allowListPlugin,
  PersistedQueries,
  loadPersistedQueryManifest,
  sha256Hex,
  type PersistedQueriesMode,
  type PersistedQueriesOptions,
} from './execution/index.js';
export {
  clientAddress,
  credentialOrAddress,
  RateLimiter,
  type RateLimitOptions,
} from './guard/index.js';
export { REQUEST_ID_HEADER } from './transport/index.js';
export type { ApiRequest } from './transport/index.js';
