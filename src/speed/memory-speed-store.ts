import {
  compareTrades as compareTradeOrder,
  type Bar,
  type BarInterval,
  type Quote,
  type Trade,
} from '../domain/index.js';
import type {
  SpeedStore,
  SpeedStoreCapabilities,
  SpeedStoreHealth,
  TimeRange,
} from './speed-store.js';

/**
 * In-process speed store: per (symbol, interval) maps of bars by start time, and per
 * symbol arrays of trades ordered by (ts, seq, id) and of quotes ordered by ts. Nothing
 * expires by itself: the speed layer calls `evictBefore`.
 */
export class MemorySpeedStore implements SpeedStore {
  readonly capabilities: SpeedStoreCapabilities = { supportsTtl: false };
  private readonly barsBySeries = new Map<string, Map<number, Bar>>();
  private readonly tradesBySymbol = new Map<string, Trade[]>();
  private readonly quotesBySymbol = new Map<string, Quote[]>();
  private readonly latestQuoteOf = new Map<string, Quote>();
  private closed = false;

  async upsertBars(bars: readonly Bar[]): Promise<void> {
    for (const bar of bars) {
      const key = seriesKey(bar.symbol, bar.interval);
      let byTs = this.barsBySeries.get(key);
      if (!byTs) this.barsBySeries.set(key, (byTs = new Map()));
      byTs.set(bar.ts, bar);
    }
  }

  async appendTrades(trades: readonly Trade[]): Promise<void> {
    for (const trade of trades) {
      let list = this.tradesBySymbol.get(trade.symbol);
      if (!list) this.tradesBySymbol.set(trade.symbol, (list = []));
      const last = list[list.length - 1];
      if (last === undefined || compareTrades(last, trade) < 0) {
        list.push(trade);
        continue;
      }
      const at = searchTrade(list, trade);
      if (at < list.length && compareTrades(list[at]!, trade) === 0) list[at] = trade;
      else list.splice(at, 0, trade);
    }
  }

  async putQuotes(quotes: readonly Quote[]): Promise<void> {
    for (const quote of quotes) {
      let list = this.quotesBySymbol.get(quote.symbol);
      if (!list) this.quotesBySymbol.set(quote.symbol, (list = []));
      const at = lowerBound(list, quote.ts);
      if (at < list.length && list[at]!.ts === quote.ts) list[at] = quote;
      else list.splice(at, 0, quote);
      const current = this.latestQuoteOf.get(quote.symbol);
      if (!current || current.ts <= quote.ts) this.latestQuoteOf.set(quote.symbol, quote);
    }
  }

  async bars(
    symbol: string,
    interval: BarInterval,
    range: TimeRange,
    limit: number,
  ): Promise<Bar[]> {
    return this.barsOf(symbol, interval, range, limit);
  }

  private barsOf(symbol: string, interval: BarInterval, range: TimeRange, limit: number): Bar[] {
    const byTs = this.barsBySeries.get(seriesKey(symbol, interval));
    if (!byTs || limit <= 0) return [];
    return [...byTs.values()]
      .filter((bar) => bar.ts >= range.from && bar.ts < range.to)
      .sort((a, b) => a.ts - b.ts)
      .slice(0, limit);
  }

  async trades(symbol: string, range: TimeRange, limit: number): Promise<Trade[]> {
    return slice(this.tradesBySymbol.get(symbol), range, limit);
  }

  async quotes(symbol: string, range: TimeRange, limit: number): Promise<Quote[]> {
    return slice(this.quotesBySymbol.get(symbol), range, limit);
  }

  async latestQuote(symbol: string): Promise<Quote | undefined> {
    return this.latestQuoteOf.get(symbol);
  }

  async latestQuotes(symbols: readonly string[]): Promise<(Quote | undefined)[]> {
    return symbols.map((symbol) => this.latestQuoteOf.get(symbol));
  }

  async barsMany(
    symbols: readonly string[],
    interval: BarInterval,
    range: TimeRange,
    limit: number,
  ): Promise<Bar[][]> {
    return symbols.map((symbol) => this.barsOf(symbol, interval, range, limit));
  }

  async currentBar(symbol: string, interval: BarInterval): Promise<Bar | undefined> {
    let current: Bar | undefined;
    for (const bar of this.barsBySeries.get(seriesKey(symbol, interval))?.values() ?? []) {
      if (current === undefined || bar.ts > current.ts) current = bar;
    }
    return current;
  }

  async evictBefore(ts: number): Promise<void> {
    for (const byTs of this.barsBySeries.values()) {
      for (const start of byTs.keys()) if (start < ts) byTs.delete(start);
    }
    for (const [symbol, list] of this.tradesBySymbol) {
      this.tradesBySymbol.set(symbol, list.slice(lowerBound(list, ts)));
    }
    for (const [symbol, list] of this.quotesBySymbol) {
      this.quotesBySymbol.set(symbol, list.slice(lowerBound(list, ts)));
    }
  }

  async health(): Promise<SpeedStoreHealth> {
    if (this.closed) return { ready: false, detail: 'in-process speed store: closed' };
    return {
      ready: true,
      detail: `in-process speed store: ${this.tradesBySymbol.size} symbols with trades`,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

function seriesKey(symbol: string, interval: BarInterval): string {
  return `${symbol}\u0000${interval}`;
}

/** The store's order of trades: by ts, then by id (the key's clustering order in Cassandra). */
/** The domain's trade order, (ts, seq), then id: a trade's identity in the store (its replay replaces it). */
function compareTrades(a: Trade, b: Trade): number {
  return compareTradeOrder(a, b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function slice<T extends { readonly ts: number }>(
  list: readonly T[] | undefined,
  range: TimeRange,
  limit: number,
): T[] {
  if (!list || limit <= 0) return [];
  const start = lowerBound(list, range.from);
  const end = lowerBound(list, range.to);
  return list.slice(start, Math.min(end, start + limit));
}

/** First index whose record is at or after ts. */
function lowerBound(list: readonly { readonly ts: number }[], ts: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.ts < ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose trade is at or after `trade` in (ts, seq, id) order. */
function searchTrade(list: readonly Trade[], trade: Trade): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareTrades(list[mid]!, trade) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
