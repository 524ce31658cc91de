import type { LakeBrowser, MarketData } from '../batch/index.js';
import type { MetricsRegistry } from '../metrics/index.js';
import type { LiveHub } from '../speed/index.js';

/** What resolvers may use: services, never adapters. */
export interface ApiServices {
  readonly market: MarketData;
  readonly hub: LiveHub;
  /** Exact rows of any Delta table under the lake root (`lakeRows`). */
  readonly lake: LakeBrowser;
  readonly watermark: () => number | undefined;
  /** Served at `/metrics` in the Prometheus text format. */
  readonly metrics: MetricsRegistry;
}

export interface ApiContext {
  readonly services: ApiServices;
}
