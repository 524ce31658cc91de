import type { Accounts, Principal } from '../../auth/index.js';
import type { LakeBrowser, MarketData, RejectsLog } from '../../batch/index.js';
import type { JobService } from '../../jobs/index.js';
import type { MasterData } from '../../mdm/index.js';
import type { MetricsRegistry } from '../../metrics/index.js';
import type { LiveHub } from '../../speed/index.js';
import type { RequestLoaders } from '../execution/loaders.js';

/** What resolvers may use: services, never adapters. */
export interface ApiServices {
  readonly market: MarketData;
  /** Symbols, ticker changes, corporate actions and the audit log (src/mdm). */
  readonly masterData: MasterData;
  readonly hub: LiveHub;
  /** Exact rows of any Delta table under the lake root (`lakeRows`). */
  readonly lake: LakeBrowser;
  /** bronze.rejects, newest first (`rejects`). */
  readonly rejects: Pick<RejectsLog, 'list'>;
  readonly watermark: () => number | undefined;
  /** Served at `/metrics` in the Prometheus text format. */
  readonly metrics: MetricsRegistry;
  /** Users and API keys (the `users` query and the admin mutations). */
  readonly accounts: Accounts;
  /**
   * What a settled answer depends on besides the request: the watermark and the lake
   * tables' versions, as one token (it changes whenever any of them does). Checking it
   * also lets the tables notice commits by other processes (at most every
   * LAKE_SNAPSHOT_REFRESH_MS), so it is cheap but asynchronous.
   */
  readonly dataVersion: () => Promise<string>;
  /** Jobs (enqueue, status, progress); absent where this process has no job store. */
  readonly jobs?: JobService;
}

/** One HTTP request as the access log and the request metrics see it. */
export interface ApiRequest {
  /** From `x-request-id`, or generated; returned in that header. */
  readonly id: string;
  /** The operation's name and type, once Apollo has resolved them. */
  operation?: string;
  type?: string;
}

export interface ApiContext {
  readonly services: ApiServices;
  /** The HTTP request being served (absent over WebSocket). */
  readonly request?: ApiRequest;
  /**
   * Who sent the request, verified (src/auth): with AUTH_MODE=jwt a request without valid
   * credentials is refused before any resolver runs, so a resolver always sees one; with
   * AUTH_MODE=off it is the anonymous admin. Undefined only where no request is
   * authenticated at all, and then every `@Authorized` field answers UNAUTHENTICATED.
   */
  readonly principal: Principal | undefined;
  /** Who acted, as the audit log records it (`actorOf(principal)`). */
  readonly actor: string;
  /** Per-request DataLoaders (execution/loaders.ts): fan-outs read in one batch. */
  readonly loaders: RequestLoaders;
  /**
   * Called by a field below the root whose answer is not settled (it read the speed
   * layer): the response is then never cached, whatever its root fields declared.
   */
  readonly unsettle?: () => void;
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
