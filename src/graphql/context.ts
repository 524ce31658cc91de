import type { MarketData } from '../batch/index.js';
import type { LiveHub } from '../speed/index.js';

/** What resolvers may use: services, never adapters. */
export interface ApiServices {
  readonly market: MarketData;
  readonly hub: LiveHub;
  readonly watermark: () => number | undefined;
}

export interface ApiContext {
  readonly services: ApiServices;
}
