import { AlphalakeError, type Bar, type Quote, type Trade } from '../domain/index.js';
import type { LiveBar, LiveBarInterval } from './bar-rollup.js';

/**
 * Fans live updates out to subscribers (GraphQL subscriptions). Each subscriber has a
 * bounded queue: a consumer that falls further behind than `queueLimit` updates is cut
 * off (its iterator throws SLOW_CONSUMER and `onSlow` is told) rather than growing the
 * server's memory or losing updates silently; publishing never waits for a subscriber,
 * so a slow one cannot stall the others.
 */
export interface LiveChannels {
  trade: Trade;
  quote: Quote;
  /** 1-minute bars. */
  bar: LiveBar;
  /** 1-second bars. */
  secondBar: LiveBar;
  /** Bars rolled up from the live 1-minute bars (src/speed/bar-rollup.ts), one channel per length. */
  bar5m: LiveBar;
  bar15m: LiveBar;
  bar30m: LiveBar;
  bar1h: LiveBar;
  bar1d: LiveBar;
}

/** The channel each live bar length is published on. */
export const LIVE_BAR_CHANNELS = Object.freeze({
  '1s': 'secondBar',
  '1m': 'bar',
  '5m': 'bar5m',
  '15m': 'bar15m',
  '30m': 'bar30m',
  '1h': 'bar1h',
  '1d': 'bar1d',
} as const satisfies Record<LiveBarInterval, keyof LiveChannels>);

/** The graphql-ws close code of a subscriber cut off as SLOW_CONSUMER (4000–4999 is the application's range). */
export const SLOW_CONSUMER_CLOSE_CODE = 4010;

export interface LiveHubOptions {
  /** Updates a subscriber may have waiting (LIVE_QUEUE_LIMIT). @default 10000 */
  readonly queueLimit?: number;
}

export interface SubscribeOptions {
  readonly signal?: AbortSignal | undefined;
  /** Called once when the subscriber is cut off for falling behind. */
  readonly onSlow?: (() => void) | undefined;
}

type Channel = keyof LiveChannels;
const CHANNELS: readonly Channel[] = ['trade', 'quote', ...Object.values(LIVE_BAR_CHANNELS)];

interface Subscriber<C extends Channel> {
  readonly symbols: ReadonlySet<string>;
  push(update: LiveChannels[C]): void;
}

export class LiveHub {
  private readonly subscribers = Object.fromEntries(
    CHANNELS.map((channel) => [channel, new Set()]),
  ) as unknown as { [C in Channel]: Set<Subscriber<C>> };
  private readonly queueLimit: number;
  private slowDropped = 0;
  private droppedUpdates = 0;
  private readonly latestTs = Object.fromEntries(
    CHANNELS.map((channel) => [channel, undefined]),
  ) as { [C in Channel]: number | undefined };

  constructor(options: LiveHubOptions = {}) {
    this.queueLimit = options.queueLimit ?? 10_000;
  }

  /** Event time (epoch µs) of the newest update published on `channel` (for metrics). */
  latest(channel: Channel): number | undefined {
    return this.latestTs[channel];
  }

  /**
   * Updates dropped since start because their subscriber fell too far behind and was cut
   * off as SLOW_CONSUMER: its waiting queue and the update that overflowed it (for metrics).
   */
  dropped(): number {
    return this.droppedUpdates;
  }

  /** Subscribers cut off as SLOW_CONSUMER since start. */
  droppedCount(): number {
    return this.slowDropped;
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

  /**
   * Updates on `channel` for `symbols`, until the iterator is closed or the signal
   * aborts; the iterator throws SLOW_CONSUMER once the subscriber falls too far behind.
   */
  subscribe<C extends Channel>(
    channel: C,
    symbols: readonly string[],
    options: SubscribeOptions | AbortSignal = {},
  ): AsyncIterableIterator<LiveChannels[C]> {
    const { signal, onSlow } = options instanceof AbortSignal ? { signal: options } : options;
    const set = this.subscribers[channel] as Set<Subscriber<C>>;
    const queue: LiveChannels[C][] = [];
    const countDrop = (updates: number): void => {
      this.droppedUpdates += updates;
    };
    let wake: (() => void) | undefined;
    let done = false;
    let slow = false;
    const limit = this.queueLimit;
    const subscriber: Subscriber<C> = {
      symbols: new Set(symbols),
      push: (update) => {
        if (slow || done) return;
        if (queue.length >= limit) {
          slow = true;
          this.slowDropped++;
          countDrop(queue.length + 1);
          queue.length = 0;
          finish();
          onSlow?.();
          return;
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
        if (slow) {
          throw new AlphalakeError(
            'SLOW_CONSUMER',
            `subscriber fell more than ${limit} updates behind and was closed`,
            { limit },
          );
        }
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

/** Whether two states of one bar carry the same numbers, to the bit. */
function sameNumbers(a: Bar | LiveBar, b: Bar | LiveBar): boolean {
  return (
    Object.is(a.open, b.open) &&
    Object.is(a.high, b.high) &&
    Object.is(a.low, b.low) &&
    Object.is(a.close, b.close) &&
    Object.is(a.volume, b.volume) &&
    Object.is(a.vwap, b.vwap) &&
    a.tradeCount === b.tradeCount
  );
}

/**
 * Live bars of one length (1m by default; 1s, or a roll-up of 1m: 5m … 1d) for `symbols` that begin with each symbol's current bar from the
 * store, then follow the hub with no gap: the hub subscription is registered before the
 * store is read, and the speed layer writes the store before it publishes, so every
 * update is either in the store's answer or arrives afterwards on the hub. A live update
 * the snapshot already reflects (the same bar with fewer trades, or with as many and the
 * same numbers) is skipped, so the first bar is not sent twice.
 */
export function currentThenLive(
  hub: LiveHub,
  symbols: readonly string[],
  currentBar: (symbol: string) => Promise<Bar | LiveBar | undefined>,
  signal?: AbortSignal,
  interval: LiveBarInterval = '1m',
  onSlow?: () => void,
): AsyncIterableIterator<Bar | LiveBar> {
  const live: AsyncIterableIterator<Bar | LiveBar> = hub.subscribe(
    LIVE_BAR_CHANNELS[interval],
    symbols,
    { signal, onSlow },
  );
  async function* stream(): AsyncGenerator<Bar | LiveBar> {
    try {
      const snapshot = new Map<string, Bar | LiveBar>();
      for (const bar of await Promise.all(symbols.map(currentBar))) {
        if (bar === undefined) continue;
        snapshot.set(bar.symbol, bar);
        yield bar;
      }
      for await (const bar of live) {
        const seen = snapshot.get(bar.symbol);
        if (seen !== undefined) {
          // The push that closes the bar is sent even when it adds no trade.
          const closes = 'closed' in bar && bar.closed === true;
          // A push the snapshot already reflects is skipped: one with fewer trades (an
          // older state), or the same trades and the same numbers. The same trades with
          // other numbers is sent: a rolled bar read from the store (its notional
          // rebuilt as vwap × volume) can differ in the last bit from the speed layer's.
          const older =
            bar.ts === seen.ts &&
            (bar.tradeCount < seen.tradeCount ||
              (bar.tradeCount === seen.tradeCount && sameNumbers(bar, seen)));
          if (older && !closes) continue;
          if (bar.ts >= seen.ts) snapshot.delete(bar.symbol);
        }
        yield bar;
      }
    } finally {
      await live.return?.();
    }
  }
  const bars = stream();
  // An async generator queues `return` behind a pending `next`, so a subscriber closed
  // while waiting for an update would stay in the hub until one came: closing the hub
  // subscription first ends that wait.
  const iterator: AsyncIterableIterator<Bar | LiveBar> = {
    [Symbol.asyncIterator]: () => iterator,
    next: () => bars.next(),
    async return(value?: unknown) {
      await live.return?.();
      return bars.return(value as Bar);
    },
  };
  return iterator;
}
