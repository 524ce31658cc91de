import type { SymbolInfo } from '../domain/index.js';
import { TIME_MAX, TIME_MIN } from './adjustments.js';
import type { CorporateActionRecord } from './master-data-store.js';

/**
 * Ticker master data as the rest of the platform sees it: the port the ingest
 * validation and the read side use. `MasterData` (master-data.ts) implements it over the
 * master-data store; `MemorySymbolDirectory` is a fixed list for tests and tools.
 */
export interface SymbolDirectory {
  list(): Promise<SymbolInfo[]>;
  get(symbol: string): Promise<SymbolInfo | undefined>;
  /**
   * Synchronous membership test for the hot validation path: a ticker some symbol
   * trades under now or traded under before a ticker change.
   */
  isKnown(symbol: string): boolean;
  /**
   * The security a ticker names, resolved through ticker changes (FB names the symbol
   * now called META), with the ticker it traded under over time and its corporate
   * actions; undefined for a ticker no symbol ever had.
   */
  series(symbol: string): SymbolSeries | undefined;
  /**
   * Called by ingest with tickers `isKnown` refused, before validating: a directory that
   * creates unknown symbols (MDM_UNKNOWN_SYMBOLS=pending) creates them here, as `actor`;
   * one that does not leaves them unknown, and validation rejects them (UNKNOWN_SYMBOL).
   */
  admitUnknown?(tickers: readonly string[], actor: string): Promise<void>;
}

/** A span of event time [from, to) (epoch µs) in which a security traded as `ticker`. */
export interface TickerSegment {
  readonly ticker: string;
  readonly from: number;
  readonly to: number;
}

export interface SymbolSeries {
  readonly symbolId: string;
  /** The ticker it trades under now. */
  readonly ticker: string;
  /** Its tickers over time, in order, covering the whole time line. */
  readonly segments: readonly TickerSegment[];
  /** Its corporate actions by ex-date (then id). */
  readonly actions: readonly CorporateActionRecord[];
}

const NAMES: Record<string, { name: string; exchange: string }> = {
  AAPL: { name: 'Apple Inc.', exchange: 'XNAS' },
  AMZN: { name: 'Amazon.com, Inc.', exchange: 'XNAS' },
  GOOGL: { name: 'Alphabet Inc. Class A', exchange: 'XNAS' },
  MSFT: { name: 'Microsoft Corporation', exchange: 'XNAS' },
  NVDA: { name: 'NVIDIA Corporation', exchange: 'XNAS' },
  TSLA: { name: 'Tesla, Inc.', exchange: 'XNAS' },
};

/** Name and exchange of the simulator's tickers, for seeding master data. */
export function knownListing(symbol: string): { name: string; exchange: string } {
  return NAMES[symbol] ?? { name: symbol, exchange: 'XNYS' };
}

export class MemorySymbolDirectory implements SymbolDirectory {
  private readonly symbols: ReadonlyMap<string, SymbolInfo>;

  constructor(symbols: readonly string[]) {
    this.symbols = new Map(
      symbols.map((symbol) => [
        symbol,
        { symbol, ...knownListing(symbol), currency: 'USD', active: true },
      ]),
    );
  }

  async list(): Promise<SymbolInfo[]> {
    return [...this.symbols.values()];
  }

  async get(symbol: string): Promise<SymbolInfo | undefined> {
    return this.symbols.get(symbol);
  }

  isKnown(symbol: string): boolean {
    return this.symbols.has(symbol);
  }

  series(symbol: string): SymbolSeries | undefined {
    if (!this.symbols.has(symbol)) return undefined;
    return {
      symbolId: symbol,
      ticker: symbol,
      segments: [{ ticker: symbol, from: TIME_MIN, to: TIME_MAX }],
      actions: [],
    };
  }
}
