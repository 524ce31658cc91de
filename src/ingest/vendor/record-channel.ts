/**
 * A queue between a push-driven producer (a WebSocket's messages) and a pull-driven
 * consumer (an async iterator). Unbounded by design: a live feed cannot be paused, so
 * what the consumer has not taken yet waits here (the bus publishes far faster than a
 * vendor feed sends).
 */
export class RecordChannel<T> {
  private readonly items: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | undefined;
  private failWaiting: ((error: unknown) => void) | undefined;
  private closed = false;
  private failure: { error: unknown } | undefined;

  push(item: T): void {
    if (this.closed) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      this.failWaiting = undefined;
      resolve({ value: item, done: false });
    } else this.items.push(item);
  }

  /** Ends the stream after what is queued. */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.wake();
  }

  /** Ends the stream with an error, after what is queued. */
  fail(error: unknown): void {
    if (this.closed) return;
    this.failure = { error };
    this.closed = true;
    this.wake();
  }

  async next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return { value: this.items.shift() as T, done: false };
    if (this.failure) throw this.failure.error;
    if (this.closed) return { value: undefined, done: true };
    return new Promise<IteratorResult<T>>((resolve, reject) => {
      this.waiting = resolve;
      this.failWaiting = reject;
    });
  }

  private wake(): void {
    const resolve = this.waiting;
    const reject = this.failWaiting;
    this.waiting = undefined;
    this.failWaiting = undefined;
    if (this.failure && reject) reject(this.failure.error);
    else resolve?.({ value: undefined, done: true });
  }
}
