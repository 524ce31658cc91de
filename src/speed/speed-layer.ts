import {
  ALWAYS_OPEN,
  BarBuilder,
  DEFAULT_CONDITION_RULES,
  type Bar,
  type ConditionRules,
  type Quote,
  type Trade,
  type TradingCalendar,
} from '../domain/index.js';
import type { BusRecord, StreamBus } from '../stream/index.js';
import { BarRollup, type LiveBar } from './bar-rollup.js';
import { LIVE_BAR_CHANNELS, type LiveHub } from './live-hub.js';
import type { SpeedStore } from './speed-store.js';

/**
 * The speed layer: consumes trades and quotes from the bus, folds trades into
 * 1-second and 1-minute bars as they arrive, keeps them all in the speed store and
 * pushes trades, quotes and changed 1-second and 1-minute bars to the live hub, with the
 * 5m, 15m, 30m, 1h and 1d bars rolled up from the changed minutes (bar-rollup.ts: the
 * lake's rules, so they equal the lake's bars; `1d` on the calendar's sessions). The
 * rolled bars live in this process only: the store keeps 1s and 1m, and a reader rolls
 * those up (the lambda view). The store is written before
 * the hub is told, so a subscriber that reads the store's current bar after subscribing
 * misses nothing (see `currentThenLive`).
 */
export class SpeedLayer {
  private readonly seconds: BarBuilder;
  private readonly minutes: BarBuilder;
  private readonly rollup: BarRollup;

  constructor(
    private readonly bus: StreamBus,
    private readonly store: SpeedStore,
    private readonly hub: LiveHub,
    /** Daily bars follow its sessions. @default 24x7 (UTC days) */
    calendar: TradingCalendar = ALWAYS_OPEN,
    /** What each trade's sale conditions let it set (the lake's bars follow the same). */
    conditionRules: ConditionRules = DEFAULT_CONDITION_RULES,
  ) {
    this.rollup = new BarRollup(calendar);
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
    this.rollup.takeBefore(ts);
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
    // Rolled up in time order per symbol, each minute with its notional as it stands now.
    const rolled = new Map<string, LiveBar>();
    for (const minute of [...minuteBars].sort((a, b) => a.ts - b.ts)) {
      const notional = this.minutes.notionalOf(minute.symbol, minute.ts);
      if (notional === undefined) continue;
      for (const bar of this.rollup.add(minute, notional)) {
        rolled.set(`${bar.symbol}|${bar.interval}|${bar.ts}`, bar);
      }
    }
    // Both writes are idempotent, so they may go together; the hub hears only after both.
    await Promise.all([
      this.store.appendTrades(trades),
      this.store.upsertBars([...changedSeconds.values(), ...minuteBars]),
    ]);
    this.hub.publish('trade', trades);
    this.hub.publish('secondBar', [...changedSeconds.values()]);
    this.hub.publish('bar', minuteBars);
    for (const bar of rolled.values()) {
      this.hub.publish(
        LIVE_BAR_CHANNELS[bar.interval as Exclude<LiveBar['interval'], '1s' | '1m'>],
        [bar],
      );
    }
  }

  private async onQuotes(records: readonly BusRecord<Quote>[]): Promise<void> {
    const quotes = records.map((r) => r.value);
    await this.store.putQuotes(quotes);
    this.hub.publish('quote', quotes);
  }
}
