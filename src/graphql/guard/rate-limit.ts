import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * A per-client rate limit on GraphQL requests (HTTP requests and WebSocket handshakes):
 * a fixed window of `requests` per `windowSeconds` for each key, kept in this process's
 * memory by rate-limiter-flexible. Over it, a request is refused before it is parsed —
 * HTTP 429 `RATE_LIMITED` with `Retry-After` (RFC 9110, 10.2.3; RFC 6585, 4) and
 * `extensions.retryAfterSeconds` — so a flood costs the server little and other clients
 * keep their latency. Each API replica counts on its own.
 */
export interface RateLimitOptions {
  /** Requests per window and key (RATE_LIMIT_REQUESTS). */
  readonly requests: number;
  /** The window (RATE_LIMIT_WINDOW_SECONDS). */
  readonly windowSeconds: number;
  /**
   * Whose budget a request spends: the client's address (the default), or per credential
   * (`credentialOrAddress`, what `serve` uses with auth on). @default clientAddress
   */
  readonly key?: (req: IncomingMessage) => string;
}

/** The answer for one request: allowed, or refused with how long to wait. */
export type RateDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly retryAfterSeconds: number };

export class RateLimiter {
  private readonly limiter: RateLimiterMemory;
  private readonly key: (req: IncomingMessage) => string;

  constructor(readonly options: RateLimitOptions) {
    if (!Number.isInteger(options.requests) || options.requests < 1) {
      throw new RangeError(`requests must be a positive integer, not ${options.requests}`);
    }
    this.limiter = new RateLimiterMemory({
      points: options.requests,
      duration: options.windowSeconds,
    });
    this.key = options.key ?? clientAddress;
  }

  async check(req: IncomingMessage): Promise<RateDecision> {
    try {
      await this.limiter.consume(this.key(req));
      return { allowed: true };
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) throw refusal;
      return {
        allowed: false,
        retryAfterSeconds: Math.max(1, Math.ceil(refusal.msBeforeNext / 1000)),
      };
    }
  }
}

/**
 * The client's address as the socket sees it. Behind a proxy every client shares the
 * proxy's: pass a `key` that reads the forwarded address the proxy sets.
 */
export function clientAddress(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}

/**
 * Per user when a request carries credentials (a bearer token or an API key: its SHA-256,
 * so the limiter never holds a secret), per address otherwise. The limit runs before the
 * credentials are verified, so it keys on the credential as sent rather than on a claim
 * inside it: a forged token naming another user cannot use up that user's allowance.
 */
export function credentialOrAddress(req: IncomingMessage): string {
  const header = req.headers.authorization ?? req.headers['x-api-key'];
  const credential = Array.isArray(header) ? header[0] : header;
  if (!credential) return `ip:${clientAddress(req)}`;
  return `credential:${createHash('sha256').update(credential).digest('base64url')}`;
}
