import { BarBuilder, type Bar, type Quote, type Trade } from '../domain/index.js';
import type { BusRecord, StreamBus } from '../stream/index.js';
import type { LiveHub } from './live-hub.js';
import type { SpeedStore } from './speed-store.js';

/**
 * The speed layer: consumes trades and quotes from the bus, folds trades into
 * 1-minute bars as they arrive, keeps both in the speed store and pushes every
 * change to the live hub.
 */
export class SpeedLayer {
  private readonly builder = new BarBuilder();

  constructor(
    private readonly bus: StreamBus,
    private readonly store: SpeedStore,
    private readonly hub: LiveHub,
  ) {}

  async start(signal: AbortSignal): Promise<void> {
    await this.bus.subscribe<Trade>('trades', (records) => this.onTrades(records), {
      group: 'speed-layer',
      signal,
    });
    await this.bus.subscribe<Quote>('quotes', (records) => this.onQuotes(records), {
      group: 'speed-layer',
      signal,
    });
  }

  /** Drops state older than `ts` from the store and the open bars. */
  async evictBefore(ts: number): Promise<void> {
    this.builder.takeBefore(ts);
    await this.store.evictBefore(ts);
  }

  private async onTrades(records: readonly BusRecord<Trade>[]): Promise<void> {
    const trades = records.map((r) => r.value);
    const changed = new Map<string, Bar>();
    for (const trade of trades) {
      const bar = this.builder.add(trade);
      changed.set(`${bar.symbol}|${bar.ts}`, bar);
    }
    const bars = [...changed.values()];
    await this.store.appendTrades(trades);
    await this.store.upsertBars(bars);
    this.hub.publish('trade', trades);
    this.hub.publish('bar', bars);
  }

  private async onQuotes(records: readonly BusRecord<Quote>[]): Promise<void> {
    await this.store.putQuotes(records.map((r) => r.value));
  }
}
