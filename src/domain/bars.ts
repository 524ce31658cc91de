import { BAR_INTERVAL_US, type Bar, type BarInterval, type Trade } from './market.js';

/**
 * Folds trades into bars of one interval (1-minute by default). The speed layer feeds it
 * one trade at a time and the batch layer a whole micro-batch; both use this one fold, so
 * a bar computed live and the same bar computed for the lake are equal.
 */
export class BarBuilder {
  private readonly open = new Map<string, MutableBar>();
  private readonly length: number;

  constructor(readonly interval: BarInterval = '1m') {
    this.length = BAR_INTERVAL_US[interval];
  }

  /** Adds a trade and returns the bar it now belongs to, as it stands. */
  add(trade: Trade): Bar {
    const start = Math.floor(trade.ts / this.length) * this.length;
    const key = `${trade.symbol}\u0000${start}`;
    let bar = this.open.get(key);
    if (bar === undefined) {
      bar = {
        symbol: trade.symbol,
        interval: this.interval,
        ts: start,
        open: trade.price,
        high: trade.price,
        low: trade.price,
        close: trade.price,
        volume: 0,
        notional: 0,
        tradeCount: 0,
        firstTs: trade.ts,
        firstSeq: trade.seq,
        lastTs: trade.ts,
        lastSeq: trade.seq,
      };
      this.open.set(key, bar);
    }
    // Open and close follow the trades' order, (ts, seq), not arrival order.
    if (trade.ts < bar.firstTs || (trade.ts === bar.firstTs && trade.seq < bar.firstSeq)) {
      bar.firstTs = trade.ts;
      bar.firstSeq = trade.seq;
      bar.open = trade.price;
    }
    if (trade.ts > bar.lastTs || (trade.ts === bar.lastTs && trade.seq >= bar.lastSeq)) {
      bar.lastTs = trade.ts;
      bar.lastSeq = trade.seq;
      bar.close = trade.price;
    }
    bar.high = Math.max(bar.high, trade.price);
    bar.low = Math.min(bar.low, trade.price);
    bar.volume += trade.size;
    bar.notional += trade.price * trade.size;
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

interface MutableBar {
  symbol: string;
  interval: BarInterval;
  ts: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  notional: number;
  tradeCount: number;
  firstTs: number;
  firstSeq: number;
  lastTs: number;
  lastSeq: number;
}

function snapshotOf(bar: MutableBar): Bar {
  return {
    symbol: bar.symbol,
    interval: bar.interval,
    ts: bar.ts,
    open: bar.open,
    high: bar.high,
    low: bar.low,
    close: bar.close,
    volume: bar.volume,
    vwap: bar.volume > 0 ? bar.notional / bar.volume : bar.close,
    tradeCount: bar.tradeCount,
  };
}
