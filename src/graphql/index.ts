/** Public surface of src/graphql: the API server and its schema. */
export {
  startApiServer,
  type ApiServer,
  type ApiServerOptions,
  type BackendHealth,
} from './server.js';
export { buildApiSchema } from './schema.js';
export type { ApiContext, ApiServices } from './context.js';
export { DateTimeScalar } from './scalars.js';
export {
  ResponseCache,
  rootFieldCount,
  type CachedResponse,
  type ResponseCacheStats,
} from './response-cache.js';
export { RESPONSE_CACHE_HEADER } from './http-handler.js';
