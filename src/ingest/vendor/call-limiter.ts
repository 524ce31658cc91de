import { setTimeout as sleepFor } from 'node:timers/promises';

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const realSleep: Sleep = async (ms, signal) => {
  await sleepFor(ms, undefined, signal ? { signal } : {});
};

export interface CallLimiterOptions {
  /** Calls allowed in any window; `0` turns the limiter off. */
  readonly calls: number;
  /** Length of the window, ms. @default 60_000 */
  readonly windowMs?: number;
  /** Wall clock, ms. @default Date.now */
  readonly now?: () => number;
  /** @default a timer */
  readonly sleep?: Sleep;
}

/**
 * A client-side limit of `calls` per sliding window: Polygon's free tier allows 5 API
 * calls per minute and answers 429 to the sixth, so a backfill spaces its own calls
 * instead of spending them on refusals. The window slides (the oldest call of the last
 * `windowMs` decides when the next may go), so a burst never exceeds the limit in any
 * window, whichever minute boundary the vendor counts from.
 */
export class CallLimiter {
  private readonly starts: number[] = [];
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly sleep: Sleep;
  /** Calls wait their turn in order, even when several run at once. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly options: CallLimiterOptions) {
    this.windowMs = options.windowMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? realSleep;
  }

  /** Resolves when a call may start (and counts it as started). */
  acquire(signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.take(signal));
    // A cancelled caller must not block the ones behind it.
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async take(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.options.calls <= 0) return;
    for (;;) {
      const now = this.now();
      while (this.starts.length > 0 && (this.starts[0] as number) <= now - this.windowMs) {
        this.starts.shift();
      }
      if (this.starts.length < this.options.calls) {
        this.starts.push(now);
        return;
      }
      await this.sleep((this.starts[0] as number) + this.windowMs - now, signal);
    }
  }
}
