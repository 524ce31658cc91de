import { compareTrades, type Bar, type Quote, type Trade } from '../domain/index.js';
import type { SpeedStore, SpeedStoreCapabilities, TimeRange } from './speed-store.js';

/** In-process speed store: per-symbol maps of bars by start time and trades in (ts, seq) order. */
export class MemorySpeedStore implements SpeedStore {
  readonly capabilities: SpeedStoreCapabilities = { supportsTtl: false };
  private readonly barsBySymbol = new Map<string, Map<number, Bar>>();
  private readonly tradesBySymbol = new Map<string, Trade[]>();
  private readonly quotes = new Map<string, Quote>();

  async upsertBars(bars: readonly Bar[]): Promise<void> {
    for (const bar of bars) {
      let byTs = this.barsBySymbol.get(bar.symbol);
      if (!byTs) this.barsBySymbol.set(bar.symbol, (byTs = new Map()));
      byTs.set(bar.ts, bar);
    }
  }

  async appendTrades(trades: readonly Trade[]): Promise<void> {
    for (const trade of trades) {
      let list = this.tradesBySymbol.get(trade.symbol);
      if (!list) this.tradesBySymbol.set(trade.symbol, (list = []));
      const last = list[list.length - 1];
      if (last === undefined || compareTrades(last, trade) <= 0) list.push(trade);
      else list.splice(upperBound(list, trade), 0, trade);
    }
  }

  async putQuotes(quotes: readonly Quote[]): Promise<void> {
    for (const quote of quotes) {
      const current = this.quotes.get(quote.symbol);
      if (!current || current.ts <= quote.ts) this.quotes.set(quote.symbol, quote);
    }
  }

  async bars(symbol: string, range: TimeRange): Promise<Bar[]> {
    const byTs = this.barsBySymbol.get(symbol);
    if (!byTs) return [];
    return [...byTs.values()]
      .filter((bar) => bar.ts >= range.from && bar.ts < range.to)
      .sort((a, b) => a.ts - b.ts);
  }

  async trades(symbol: string, range: TimeRange, limit: number): Promise<Trade[]> {
    const list = this.tradesBySymbol.get(symbol) ?? [];
    const start = lowerBound(list, range.from);
    const end = lowerBound(list, range.to);
    return list.slice(start, Math.min(end, start + limit));
  }

  async latestQuote(symbol: string): Promise<Quote | undefined> {
    return this.quotes.get(symbol);
  }

  async evictBefore(ts: number): Promise<void> {
    for (const byTs of this.barsBySymbol.values()) {
      for (const start of byTs.keys()) if (start < ts) byTs.delete(start);
    }
    for (const [symbol, list] of this.tradesBySymbol) {
      this.tradesBySymbol.set(symbol, list.slice(lowerBound(list, ts)));
    }
  }

  async close(): Promise<void> {}
}

/** First index whose trade is at or after ts. */
function lowerBound(list: readonly Trade[], ts: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.ts < ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose trade comes after `trade` in (ts, seq) order. */
function upperBound(list: readonly Trade[], trade: Trade): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareTrades(list[mid]!, trade) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
