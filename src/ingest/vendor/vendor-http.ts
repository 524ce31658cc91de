import { AlphalakeError } from '../../domain/index.js';
import { realSleep, type CallLimiter, type Sleep } from './call-limiter.js';

/** The slice of WHATWG `fetch` the vendor clients use (global in Node ≥ 18). */
export type Fetch = (
  url: string,
  init: { headers: Record<string, string>; signal: AbortSignal },
) => Promise<{
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}>;

/** Why a call is retried, for the caller's logs and tests: never carries the key. */
export interface RetryNotice {
  readonly vendor: string;
  /** The path (no query string: it may carry a cursor but never the key). */
  readonly path: string;
  /** HTTP status, or `network` when no answer came. */
  readonly status: number | 'network';
  readonly attempt: number;
  /** How long the client waits before the next attempt, ms. */
  readonly waitMs: number;
  /** `retry-after` when the vendor said how long, `backoff` otherwise. */
  readonly basis: 'retry-after' | 'backoff';
}

export interface VendorHttpOptions {
  /** Named in errors: `Polygon`, `Yahoo`. */
  readonly vendor: string;
  /** Sent with every request (e.g. `Authorization: Bearer …`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Text that must never appear in an error or notice (API keys): replaced by `***`. */
  readonly secrets?: readonly string[];
  /** Client-side call limit; none when absent. */
  readonly limiter?: CallLimiter;
  /** Attempts after the first on 429, 5xx or a network failure. @default 5 */
  readonly maxRetries?: number;
  /** First backoff, ms; doubles each attempt, with full jitter. @default 1000 */
  readonly backoffBaseMs?: number;
  /** Longest backoff or Retry-After honoured, ms. @default 60_000 */
  readonly backoffMaxMs?: number;
  readonly fetch?: Fetch;
  readonly sleep?: Sleep;
  /** Jitter source in [0, 1). @default Math.random */
  readonly random?: () => number;
  readonly onRetry?: (notice: RetryNotice) => void;
}

const RETRYABLE = new Set([429, 500, 502, 503, 504]);

/**
 * GET with the manners a vendor API expects: a client-side call limit, `Retry-After`
 * honoured on 429 (RFC 9110 §10.2.3: seconds or an HTTP date), exponential backoff with
 * full jitter on 5xx and network failures, and errors with stable codes that never echo
 * a secret (the key travels in a header, and any text from the vendor is redacted).
 */
export class VendorHttp {
  private readonly fetch: Fetch;
  private readonly sleep: Sleep;
  private readonly random: () => number;

  constructor(private readonly options: VendorHttpOptions) {
    this.fetch = options.fetch ?? (globalThis.fetch as unknown as Fetch);
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
  }

  /** The body of a 2xx answer to GET `url`, as text. */
  async getText(url: string, signal: AbortSignal): Promise<string> {
    const { vendor } = this.options;
    const path = pathOf(url);
    const maxRetries = this.options.maxRetries ?? 5;
    for (let attempt = 0; ; attempt++) {
      await this.options.limiter?.acquire(signal);
      let status: number | 'network';
      let retryAfterMs: number | undefined;
      let detail: string;
      try {
        const response = await this.fetch(url, {
          headers: { accept: 'application/json', ...this.options.headers },
          signal,
        });
        status = response.status;
        const body = await response.text();
        if (status >= 200 && status < 300) return body;
        detail = this.redact(vendorMessage(body));
        retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
        if (!RETRYABLE.has(status)) throw this.refusal(status, path, detail);
      } catch (error) {
        if (error instanceof AlphalakeError) throw error;
        signal.throwIfAborted();
        status = 'network';
        detail = this.redact(error instanceof Error ? error.message : String(error));
      }
      if (attempt >= maxRetries) {
        throw new AlphalakeError(
          status === 429 ? 'RATE_LIMITED' : 'UNAVAILABLE',
          `${vendor} ${path}: ${status === 'network' ? 'no answer' : `HTTP ${status}`} after ${attempt + 1} attempts (${detail})`,
          { vendor, path, status },
        );
      }
      const cap = this.options.backoffMaxMs ?? 60_000;
      const waitMs =
        retryAfterMs !== undefined
          ? Math.min(retryAfterMs, cap)
          : Math.floor(
              this.random() * Math.min(cap, (this.options.backoffBaseMs ?? 1000) * 2 ** attempt),
            );
      this.options.onRetry?.({
        vendor,
        path,
        status,
        attempt: attempt + 1,
        waitMs,
        basis: retryAfterMs !== undefined ? 'retry-after' : 'backoff',
      });
      await this.sleep(waitMs, signal);
    }
  }

  /** Replaces every secret in `text` by `***`. */
  redact(text: string): string {
    let out = text;
    for (const secret of this.options.secrets ?? []) {
      if (secret.length > 0) out = out.split(secret).join('***');
    }
    return out;
  }

  private refusal(status: number, path: string, detail: string): AlphalakeError {
    const { vendor } = this.options;
    if (status === 401 || status === 403) {
      return new AlphalakeError(
        'BAD_USER_INPUT',
        `${vendor} ${path}: HTTP ${status}, the API key was refused or does not cover this data (${detail})`,
        { vendor, path, status },
      );
    }
    return new AlphalakeError(
      status === 404 ? 'NOT_FOUND' : 'BAD_USER_INPUT',
      `${vendor} ${path}: HTTP ${status} (${detail})`,
      { vendor, path, status },
    );
  }
}

/** The path of a URL without its query string (which may hold a cursor or a key). */
export function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url.split('?')[0] ?? url;
  }
}

/** `Retry-After`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3), in ms from now. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The vendor's own explanation in an error body (`error`, `message`), else its start. */
function vendorMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    for (const key of ['error', 'message']) {
      const value = parsed[key];
      if (typeof value === 'string') return value;
    }
    const chart = (parsed['chart'] as { error?: { description?: unknown } } | undefined)?.error;
    if (chart && typeof chart.description === 'string') return chart.description;
  } catch {
    // not JSON: fall through
  }
  return body.slice(0, 200).replace(/\s+/g, ' ').trim() || 'empty body';
}
