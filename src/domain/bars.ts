import { BAR_INTERVAL_US, type Bar, type BarInterval, type Trade } from './market.js';
import { DEFAULT_CONDITION_RULES } from './polygon-conditions.js';
import { updateRulesOf, type ConditionRules } from './trade-conditions.js';

/**
 * Folds trades into bars of one interval (1-minute by default). The speed layer feeds it
 * one trade at a time and the batch layer a whole micro-batch; both use this one fold, so
 * a bar computed live and the same bar computed for the lake are equal.
 *
 * A trade's sale conditions decide what it may set (trade-conditions.ts, the SIPs'
 * consolidated guidelines as Polygon's conditions table states them): open and close
 * come from the first and last trade, by (ts, seq), that may set them, high and low from
 * the trades that may set those, volume and the notional behind vwap from the trades
 * that count toward volume; `tradeCount` counts every trade. A bar none of whose trades
 * may set a price (a minute of odd lots only) takes that price from all its trades
 * rather than have none: its volume is still there to be priced.
 */
export class BarBuilder {
  private readonly open = new Map<string, MutableBar>();
  private readonly length: number;

  constructor(
    readonly interval: BarInterval = '1m',
    private readonly rules: ConditionRules = DEFAULT_CONDITION_RULES,
  ) {
    this.length = BAR_INTERVAL_US[interval];
  }

  /** Adds a trade and returns the bar it now belongs to, as it stands. */
  add(trade: Trade): Bar {
    const start = Math.floor(trade.ts / this.length) * this.length;
    const key = `${trade.symbol}\u0000${start}`;
    const rules = updateRulesOf(trade.conditions, this.rules);
    let bar = this.open.get(key);
    if (bar === undefined) {
      bar = {
        symbol: trade.symbol,
        interval: this.interval,
        ts: start,
        volume: 0,
        notional: 0,
        tradeCount: 0,
        priced: undefined,
        ranged: undefined,
        any: firstLast(trade),
        anyRange: { high: trade.price, low: trade.price },
      };
      this.open.set(key, bar);
    }
    fold(bar.any, trade);
    bar.anyRange.high = Math.max(bar.anyRange.high, trade.price);
    bar.anyRange.low = Math.min(bar.anyRange.low, trade.price);
    if (rules.updatesOpenClose) {
      if (bar.priced === undefined) bar.priced = firstLast(trade);
      else fold(bar.priced, trade);
    }
    if (rules.updatesHighLow) {
      if (bar.ranged === undefined) bar.ranged = { high: trade.price, low: trade.price };
      else {
        bar.ranged.high = Math.max(bar.ranged.high, trade.price);
        bar.ranged.low = Math.min(bar.ranged.low, trade.price);
      }
    }
    if (rules.updatesVolume) {
      bar.volume += trade.size;
      bar.notional += trade.price * trade.size;
    }
    bar.tradeCount += 1;
    return snapshotOf(bar);
  }

  /**
   * The notional, Σ price·size in the order the trades were added, of the bar that starts at
   * `start` (undefined once taken): the number its vwap is divided from, which roll-ups to
   * coarser bars sum (src/speed/bar-rollup.ts).
   */
  notionalOf(symbol: string, start: number): number | undefined {
    return this.open.get(`${symbol}\u0000${start}`)?.notional;
  }

  /** Removes and returns the bars that start before `before`, oldest first. */
  takeBefore(before: number): Bar[] {
    const done: Bar[] = [];
    for (const [key, bar] of this.open) {
      if (bar.ts + this.length <= before) {
        done.push(snapshotOf(bar));
        this.open.delete(key);
      }
    }
    return done.sort(compareBars);
  }

  /** Every bar built so far, oldest first, without removing them. */
  bars(): Bar[] {
    return [...this.open.values()].map(snapshotOf).sort(compareBars);
  }
}

/** Bars of a batch of trades, oldest first. */
export function aggregateBars(trades: Iterable<Trade>): Bar[] {
  const builder = new BarBuilder();
  for (const trade of trades) builder.add(trade);
  return builder.bars();
}

export function compareBars(a: Bar, b: Bar): number {
  return a.ts - b.ts || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0);
}

/** The first and last trade of a bar by (ts, seq) among those folded in. */
interface FirstLast {
  open: number;
  close: number;
  firstTs: number;
  firstSeq: number;
  lastTs: number;
  lastSeq: number;
}

interface MutableBar {
  symbol: string;
  interval: BarInterval;
  ts: number;
  volume: number;
  notional: number;
  tradeCount: number;
  /** Over the trades that may set open and close. */
  priced: FirstLast | undefined;
  /** Over the trades that may set high and low. */
  ranged: { high: number; low: number } | undefined;
  /** Over every trade: the prices of a bar none of whose trades may set them. */
  any: FirstLast;
  anyRange: { high: number; low: number };
}

function firstLast(trade: Trade): FirstLast {
  return {
    open: trade.price,
    close: trade.price,
    firstTs: trade.ts,
    firstSeq: trade.seq,
    lastTs: trade.ts,
    lastSeq: trade.seq,
  };
}

/** Open and close follow the trades' order, (ts, seq), not arrival order. */
function fold(state: FirstLast, trade: Trade): void {
  if (trade.ts < state.firstTs || (trade.ts === state.firstTs && trade.seq < state.firstSeq)) {
    state.firstTs = trade.ts;
    state.firstSeq = trade.seq;
    state.open = trade.price;
  }
  if (trade.ts > state.lastTs || (trade.ts === state.lastTs && trade.seq >= state.lastSeq)) {
    state.lastTs = trade.ts;
    state.lastSeq = trade.seq;
    state.close = trade.price;
  }
}

function snapshotOf(bar: MutableBar): Bar {
  const { open, close } = bar.priced ?? bar.any;
  const { high, low } = bar.ranged ?? bar.anyRange;
  return {
    symbol: bar.symbol,
    interval: bar.interval,
    ts: bar.ts,
    open,
    high,
    low,
    close,
    volume: bar.volume,
    vwap: bar.volume > 0 ? bar.notional / bar.volume : close,
    tradeCount: bar.tradeCount,
  };
}
