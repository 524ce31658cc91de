import {
  AlphalakeError,
  ALWAYS_OPEN,
  BarBuilder,
  DAY_US,
  DEFAULT_CONDITION_RULES,
  MINUTE_US,
  SECOND_US,
  type Bar,
  type ConditionRules,
  type Quote,
  type Trade,
  type TradingCalendar,
} from '../domain/index.js';
import type { BusRecord, StreamBus } from '../stream/index.js';
import {
  BarRollup,
  liveBucketOf,
  ROLLED_BAR_INTERVALS,
  type LiveBar,
  type RolledBarInterval,
} from './bar-rollup.js';
import { LIVE_BAR_CHANNELS, type LiveHub } from './live-hub.js';
import type { SpeedStore } from './speed-store.js';

/** What `SpeedLayer.start` rebuilds its open bars from after a restart. */
export interface SpeedLayerRestore {
  /** The tickers whose open bars to rebuild (those the store may hold trades of). */
  readonly symbols: readonly string[];
  /** Event time now (epoch µs): the bars whose interval holds it are the open ones. */
  readonly now: number;
}

/** Trades read from the store per call while restoring (a ticker's open day pages through). */
const RESTORE_PAGE = 100_000;

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
 *
 * Every bar pushed says whether its interval has ended (`closed`): a bar is pushed once
 * more, closed, when the first trade of a later interval of its symbol arrives or when
 * the lake's watermark passes its end (`closeBefore`), so a subscriber knows the bar is
 * final without waiting for the next one. A late trade into a closed bar pushes it again,
 * still closed, restated.
 *
 * After a restart the open bars (the current second, minute and every coarser interval
 * that holds `now`) are rebuilt from the trades the speed store holds for them
 * (`start(signal, restore)`): the same fold in the trades' order (ts, seq), so the first
 * push after a restart carries the whole bar so far, and the next trade of the current
 * minute does not overwrite the stored minute with a partial one. Trades rather than the
 * stored 1-minute bars, because a coarse bar's vwap is Σ of the minutes' notionals
 * (Σ price·size as summed trade by trade), which the stored bars do not hold: vwap ×
 * volume does not give it back to the bit.
 */
export class SpeedLayer {
  private readonly seconds: BarBuilder;
  private readonly minutes: BarBuilder;
  private readonly rollup: BarRollup;
  /** The newest bar of each (symbol, live interval) not yet pushed closed, and where its interval ends. */
  private readonly openBars = new Map<string, { bar: LiveBar; end: number }>();
  /** Bars ending at or before this instant (epoch µs) have been pushed closed by the watermark. */
  private closedBefore = -Infinity;
  /**
   * The trades folded in by `restore`, by identity, with their ts: the bus may deliver
   * them again (their offsets were not committed before the restart), and a trade must
   * be counted once in the bars. Forgotten by `evictBefore`.
   */
  private readonly restored = new Map<string, number>();

  constructor(
    private readonly bus: StreamBus,
    private readonly store: SpeedStore,
    private readonly hub: LiveHub,
    /** Daily bars follow its sessions. @default 24x7 (UTC days) */
    private readonly calendar: TradingCalendar = ALWAYS_OPEN,
    /** What each trade's sale conditions let it set (the lake's bars follow the same). */
    conditionRules: ConditionRules = DEFAULT_CONDITION_RULES,
  ) {
    this.rollup = new BarRollup(calendar);
    this.seconds = new BarBuilder('1s', conditionRules);
    this.minutes = new BarBuilder('1m', conditionRules);
  }

  /**
   * Rebuilds the open bars (when `restore` is given), then follows the bus. The rebuild
   * comes first, so no trade from the bus is folded into a bar before the trades the
   * store already held for it.
   */
  async start(signal: AbortSignal, restore?: SpeedLayerRestore): Promise<void> {
    if (restore) await this.restore(restore, signal);
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

  /**
   * Folds the trades the store holds for the intervals open at `now` into the bars, as if
   * this process had seen them arrive; nothing is written or pushed.
   */
  async restore(restore: SpeedLayerRestore, signal?: AbortSignal): Promise<void> {
    const from = this.openWindowStart(restore.now);
    const to = restore.now + DAY_US;
    for (const symbol of new Set(restore.symbols)) {
      signal?.throwIfAborted();
      const trades = await this.storedTrades(symbol, { from, to });
      this.fold(trades, []);
      for (const trade of trades) this.restored.set(tradeKey(trade), trade.ts);
    }
  }

  /**
   * Pushes closed every open bar whose interval ends at or before `watermark` (epoch µs):
   * the lake holds every trade below it, so no later trade can change those bars.
   */
  closeBefore(watermark: number): void {
    if (!(watermark > this.closedBefore)) return;
    this.closedBefore = watermark;
    const closing: LiveBar[] = [];
    for (const [key, open] of this.openBars) {
      if (open.end > watermark) continue;
      closing.push({ ...open.bar, closed: true });
      this.openBars.delete(key);
    }
    this.publishBars(closing);
  }

  /** Drops state older than `ts` from the store and the open bars. */
  async evictBefore(ts: number): Promise<void> {
    this.seconds.takeBefore(ts);
    this.minutes.takeBefore(ts);
    this.rollup.takeBefore(ts);
    for (const [key, open] of this.openBars) if (open.end <= ts) this.openBars.delete(key);
    for (const [key, at] of this.restored) if (at < ts) this.restored.delete(key);
    await this.store.evictBefore(ts);
  }

  private async onTrades(records: readonly BusRecord<Trade>[]): Promise<void> {
    const trades = records.map((r) => r.value);
    const pushes: LiveBar[] = [];
    // A trade `restore` already folded in is stored again (idempotent) but counted once.
    const fresh =
      this.restored.size === 0 ? trades : trades.filter((t) => !this.restored.has(tradeKey(t)));
    const { seconds, minutes } = this.fold(fresh, pushes);
    // Both writes are idempotent, so they may go together; the hub hears only after both.
    await Promise.all([
      this.store.appendTrades(trades),
      this.store.upsertBars([...seconds, ...minutes]),
    ]);
    this.hub.publish('trade', trades);
    this.publishBars(pushes);
  }

  /**
   * Folds trades into the 1s and 1m bars and the rolled bars, and appends to `pushes`
   * what to push: each changed bar as it now stands, after the closing push of the bar
   * of its symbol and length that it follows. Returns the changed 1s and 1m bars.
   */
  private fold(trades: readonly Trade[], pushes: LiveBar[]): { seconds: Bar[]; minutes: Bar[] } {
    const changedSeconds = new Map<string, Bar>();
    const changedMinutes = new Map<string, Bar>();
    for (const trade of trades) {
      const second = this.seconds.add(trade);
      changedSeconds.set(`${second.symbol}|${second.ts}`, second);
      const minute = this.minutes.add(trade);
      changedMinutes.set(`${minute.symbol}|${minute.ts}`, minute);
    }
    const seconds = [...changedSeconds.values()].sort(byTs);
    const minutes = [...changedMinutes.values()].sort(byTs);
    for (const bar of seconds) this.track(bar, bar.ts + SECOND_US, pushes);
    for (const bar of minutes) this.track(bar, bar.ts + MINUTE_US, pushes);
    // Rolled up in time order per symbol, each minute with its notional as it stands now.
    const rolled = new Map<string, { bar: LiveBar; end: number }>();
    for (const minute of minutes) {
      const notional = this.minutes.notionalOf(minute.symbol, minute.ts);
      if (notional === undefined) continue;
      for (const bar of this.rollup.add(minute, notional)) {
        const interval = bar.interval as RolledBarInterval;
        const end = liveBucketOf(interval, minute.ts, this.calendar)!.close;
        rolled.set(`${bar.symbol}|${bar.interval}|${bar.ts}`, { bar, end });
      }
    }
    for (const { bar, end } of [...rolled.values()].sort((a, b) => byTs(a.bar, b.bar))) {
      this.track(bar, end, pushes);
    }
    return { seconds, minutes };
  }

  /**
   * Notes a bar's new state and appends its pushes: the bar it follows, closed, when it is
   * the first of a later interval; itself, closed when its interval has already ended.
   */
  private track(bar: LiveBar, end: number, pushes: LiveBar[]): void {
    if (end <= this.closedBefore) {
      // A late trade into a bar the watermark closed: restated, still closed.
      pushes.push({ ...bar, closed: true });
      return;
    }
    const key = `${bar.symbol}\u0000${bar.interval}`;
    const open = this.openBars.get(key);
    if (open !== undefined && bar.ts < open.bar.ts) {
      // A late trade into a bar a later one already closed.
      pushes.push({ ...bar, closed: true });
      return;
    }
    if (open !== undefined && bar.ts > open.bar.ts) pushes.push({ ...open.bar, closed: true });
    this.openBars.set(key, { bar, end });
    pushes.push({ ...bar, closed: false });
  }

  /** Each bar on its length's channel, in the order given. */
  private publishBars(bars: readonly LiveBar[]): void {
    const byChannel = new Map<keyof typeof CHANNEL_OF, LiveBar[]>();
    for (const bar of bars) {
      const list = byChannel.get(bar.interval);
      if (list) list.push(bar);
      else byChannel.set(bar.interval, [bar]);
    }
    for (const [interval, list] of byChannel) this.hub.publish(CHANNEL_OF[interval], list);
  }

  /** The earliest start of an interval open at `now`: where the trades to restore begin. */
  private openWindowStart(now: number): number {
    let from = now - (((now % MINUTE_US) + MINUTE_US) % MINUTE_US);
    for (const interval of ROLLED_BAR_INTERVALS) {
      const bucket = liveBucketOf(interval, now, this.calendar);
      if (bucket !== undefined) from = Math.min(from, bucket.open);
    }
    return from;
  }

  /** Every trade of `symbol` the store holds in `range`, in (ts, seq, id) order, page by page. */
  private async storedTrades(
    symbol: string,
    range: { from: number; to: number },
  ): Promise<Trade[]> {
    const all: Trade[] = [];
    let from = range.from;
    let atBoundary = new Set<string>();
    for (;;) {
      const page = await this.store.trades(symbol, { from, to: range.to }, RESTORE_PAGE);
      for (const trade of page) if (!atBoundary.has(tradeKey(trade))) all.push(trade);
      if (page.length < RESTORE_PAGE) return all;
      const last = page[page.length - 1]!.ts;
      if (last === from) {
        throw new AlphalakeError(
          'INTERNAL',
          `more than ${RESTORE_PAGE} trades of ${symbol} at one instant: cannot page through them to restore the open bars`,
          { symbol, ts: last },
        );
      }
      // The next page starts at the last instant read; its trades already taken are skipped.
      from = last;
      atBoundary = new Set(page.filter((t) => t.ts === last).map(tradeKey));
    }
  }

  private async onQuotes(records: readonly BusRecord<Quote>[]): Promise<void> {
    const quotes = records.map((r) => r.value);
    await this.store.putQuotes(quotes);
    this.hub.publish('quote', quotes);
  }
}

const CHANNEL_OF = LIVE_BAR_CHANNELS;

/** A trade's identity in the store: (symbol, ts, seq, id). */
function tradeKey(trade: Trade): string {
  return `${trade.symbol}\u0000${trade.ts}\u0000${trade.seq}\u0000${trade.id}`;
}

function byTs(a: { readonly ts: number }, b: { readonly ts: number }): number {
  return a.ts - b.ts;
}
