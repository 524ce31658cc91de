import {
  BarBuilder,
  DEFAULT_CONDITION_RULES,
  type Bar,
  type ConditionRules,
  type Quote,
  type Trade,
} from '../domain/index.js';
import type { BusRecord, StreamBus } from '../stream/index.js';
import type { LiveHub } from './live-hub.js';
import type { SpeedStore } from './speed-store.js';

/**
 * The speed layer: consumes trades and quotes from the bus, folds trades into
 * 1-second and 1-minute bars as they arrive, keeps them all in the speed store and
 * pushes trades, quotes and changed 1-second and 1-minute bars to the live hub. The store is written before
 * the hub is told, so a subscriber that reads the store's current bar after subscribing
 * misses nothing (see `currentThenLive`).
 */
export class SpeedLayer {
  private readonly seconds: BarBuilder;
  private readonly minutes: BarBuilder;

  constructor(
    private readonly bus: StreamBus,
    private readonly store: SpeedStore,
    private readonly hub: LiveHub,
    /** What each trade's sale conditions let it set (the lake's bars follow the same). */
    conditionRules: ConditionRules = DEFAULT_CONDITION_RULES,
  ) {
    this.seconds = new BarBuilder('1s', conditionRules);
    this.minutes = new BarBuilder('1m', conditionRules);
  }

  async start(signal: AbortSignal): Promise<void> {
    // Partitions are keyed by symbol and the bars are built per symbol, so the partitions'
    // handlers share no state and may run at once (each waits on the store).
    await this.bus.subscribe<Trade>('trades', (records) => this.onTrades(records), {
      group: 'speed-layer',
      concurrentPartitions: true,
      signal,
    });
    await this.bus.subscribe<Quote>('quotes', (records) => this.onQuotes(records), {
      group: 'speed-layer',
      concurrentPartitions: true,
      signal,
    });
  }

  /** Drops state older than `ts` from the store and the open bars. */
  async evictBefore(ts: number): Promise<void> {
    this.seconds.takeBefore(ts);
    this.minutes.takeBefore(ts);
    await this.store.evictBefore(ts);
  }

  private async onTrades(records: readonly BusRecord<Trade>[]): Promise<void> {
    const trades = records.map((r) => r.value);
    const changedSeconds = new Map<string, Bar>();
    const changedMinutes = new Map<string, Bar>();
    for (const trade of trades) {
      const second = this.seconds.add(trade);
      changedSeconds.set(`${second.symbol}|${second.ts}`, second);
      const minute = this.minutes.add(trade);
      changedMinutes.set(`${minute.symbol}|${minute.ts}`, minute);
    }
    const minuteBars = [...changedMinutes.values()];
    // Both writes are idempotent, so they may go together; the hub hears only after both.
    await Promise.all([
      this.store.appendTrades(trades),
      this.store.upsertBars([...changedSeconds.values(), ...minuteBars]),
    ]);
    this.hub.publish('trade', trades);
    this.hub.publish('secondBar', [...changedSeconds.values()]);
    this.hub.publish('bar', minuteBars);
  }

  private async onQuotes(records: readonly BusRecord<Quote>[]): Promise<void> {
    const quotes = records.map((r) => r.value);
    await this.store.putQuotes(quotes);
    this.hub.publish('quote', quotes);
  }
}
