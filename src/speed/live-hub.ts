import type { Bar, Trade } from '../domain/index.js';

/**
 * Fans live updates out to subscribers (GraphQL subscriptions). Each subscriber has
 * a bounded queue: a consumer too slow to keep up loses its oldest updates rather
 * than growing the server's memory without bound.
 */
export interface LiveChannels {
  trade: Trade;
  bar: Bar;
}

type Channel = keyof LiveChannels;

interface Subscriber<C extends Channel> {
  readonly symbols: ReadonlySet<string>;
  push(update: LiveChannels[C]): void;
}

const QUEUE_LIMIT = 10_000;

export class LiveHub {
  private readonly subscribers: { [C in Channel]: Set<Subscriber<C>> } = {
    trade: new Set(),
    bar: new Set(),
  };
  private droppedUpdates = 0;
  private readonly latestTs: { [C in Channel]: number | undefined } = {
    trade: undefined,
    bar: undefined,
  };

  /** Event time (epoch µs) of the newest update published on `channel` (for metrics). */
  latest(channel: Channel): number | undefined {
    return this.latestTs[channel];
  }

  /** Updates dropped since start because a subscriber's queue was full (for metrics). */
  dropped(): number {
    return this.droppedUpdates;
  }

  publish<C extends Channel>(channel: C, updates: readonly LiveChannels[C][]): void {
    let newest = this.latestTs[channel] ?? -Infinity;
    for (const update of updates) if (update.ts > newest) newest = update.ts;
    if (newest > -Infinity) this.latestTs[channel] = newest;
    const subscribers = this.subscribers[channel] as Set<Subscriber<C>>;
    if (subscribers.size === 0) return;
    for (const update of updates) {
      for (const subscriber of subscribers) {
        if (subscriber.symbols.has(update.symbol)) subscriber.push(update);
      }
    }
  }

  subscriberCount(channel: Channel): number {
    return this.subscribers[channel].size;
  }

  /** Updates on `channel` for `symbols`, until the iterator is closed or the signal aborts. */
  subscribe<C extends Channel>(
    channel: C,
    symbols: readonly string[],
    signal?: AbortSignal,
  ): AsyncIterableIterator<LiveChannels[C]> {
    const set = this.subscribers[channel] as Set<Subscriber<C>>;
    const queue: LiveChannels[C][] = [];
    const countDrop = (): void => {
      this.droppedUpdates++;
    };
    let wake: (() => void) | undefined;
    let done = false;
    const subscriber: Subscriber<C> = {
      symbols: new Set(symbols),
      push(update) {
        if (queue.length >= QUEUE_LIMIT) {
          queue.shift();
          countDrop();
        }
        queue.push(update);
        wake?.();
      },
    };
    set.add(subscriber);
    const finish = () => {
      done = true;
      set.delete(subscriber);
      wake?.();
    };
    signal?.addEventListener('abort', finish, { once: true });
    const iterator: AsyncIterableIterator<LiveChannels[C]> = {
      [Symbol.asyncIterator]: () => iterator,
      async next() {
        while (queue.length === 0 && !done) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
        if (queue.length > 0) return { value: queue.shift()!, done: false };
        return { value: undefined, done: true };
      },
      async return() {
        finish();
        return { value: undefined, done: true };
      },
    };
    return iterator;
  }
}

/**
 * Live 1-minute bars for `symbols` that begin with each symbol's current bar from the
 * store, then follow the hub with no gap: the hub subscription is registered before the
 * store is read, and the speed layer writes the store before it publishes, so every
 * update is either in the store's answer or arrives afterwards on the hub. A live update
 * the snapshot already reflects (the same bar with no more trades) is skipped, so the
 * first bar is not sent twice.
 */
export function currentThenLive(
  hub: LiveHub,
  symbols: readonly string[],
  currentBar: (symbol: string) => Promise<Bar | undefined>,
  signal?: AbortSignal,
): AsyncIterableIterator<Bar> {
  const live = hub.subscribe('bar', symbols, signal);
  async function* stream(): AsyncGenerator<Bar> {
    try {
      const snapshot = new Map<string, Bar>();
      for (const bar of await Promise.all(symbols.map(currentBar))) {
        if (bar === undefined) continue;
        snapshot.set(bar.symbol, bar);
        yield bar;
      }
      for await (const bar of live) {
        const seen = snapshot.get(bar.symbol);
        if (seen !== undefined) {
          if (bar.ts === seen.ts && bar.tradeCount <= seen.tradeCount) continue;
          if (bar.ts >= seen.ts) snapshot.delete(bar.symbol);
        }
        yield bar;
      }
    } finally {
      await live.return?.();
    }
  }
  return stream();
}
