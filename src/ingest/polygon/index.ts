/** Public surface of src/ingest/polygon: Polygon's (Massive's) REST and WebSocket sources. */
export {
  AGGREGATE_TIMESPANS,
  DEFAULT_POLYGON_API_URL,
  PolygonRestClient,
  type MicrosRange,
  type PolygonRestOptions,
} from './rest-client.js';
export {
  POLYGON_DATASETS,
  PolygonRestSource,
  type PolygonDataset,
  type PolygonRestSourceRequest,
} from './rest-source.js';
export {
  DEFAULT_POLYGON_WS_URL,
  POLYGON_CHANNELS,
  PolygonWebSocketSource,
  type PolygonChannel,
  type PolygonSocketEvent,
  type PolygonStatus,
  type PolygonWebSocketOptions,
  type WebSocketLike,
} from './websocket.js';
export { parsePage, type PolygonPage } from './wire.js';
export { EXACT_LOOKUPS_MAX, PolygonReferenceData } from './reference-source.js';
