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
  /**
   * What a settled answer depends on besides the request: the watermark and the lake
   * tables' versions, as one token (it changes whenever any of them does). Checking it
   * also lets the tables notice commits by other processes (at most every
   * LAKE_SNAPSHOT_REFRESH_MS), so it is cheap but asynchronous.
   */
  readonly dataVersion: () => Promise<string>;
}

export interface ApiContext {
  readonly services: ApiServices;
  /**
   * Called by a root field's resolver when its answer is settled: it read only the lake
   * below the watermark (or only the watermark), so the response may be cached against
   * the data version. Absent outside HTTP.
   */
  readonly settle?: () => void;
  /**
   * Closes this WebSocket connection with code 4010, reason SLOW_CONSUMER: called by the
   * live hub when a subscription falls too far behind. Absent outside WebSocket.
   */
  readonly closeSlowConsumer?: () => void;
}
