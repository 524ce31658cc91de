import type { SymbolInfo } from '../domain/index.js';

/**
 * Ticker master data as the rest of the platform sees it. The embedded directory is
 * seeded from configuration; the MongoDB-backed MDM (a later adapter) keeps the same port.
 */
export interface SymbolDirectory {
  list(): Promise<SymbolInfo[]>;
  get(symbol: string): Promise<SymbolInfo | undefined>;
  /** Synchronous membership test for the hot validation path. */
  isKnown(symbol: string): boolean;
}

const NAMES: Record<string, { name: string; exchange: string }> = {
  AAPL: { name: 'Apple Inc.', exchange: 'XNAS' },
  AMZN: { name: 'Amazon.com, Inc.', exchange: 'XNAS' },
  GOOGL: { name: 'Alphabet Inc. Class A', exchange: 'XNAS' },
  MSFT: { name: 'Microsoft Corporation', exchange: 'XNAS' },
  NVDA: { name: 'NVIDIA Corporation', exchange: 'XNAS' },
  TSLA: { name: 'Tesla, Inc.', exchange: 'XNAS' },
};

export class MemorySymbolDirectory implements SymbolDirectory {
  private readonly symbols: ReadonlyMap<string, SymbolInfo>;

  constructor(symbols: readonly string[]) {
    this.symbols = new Map(
      symbols.map((symbol) => [
        symbol,
        {
          symbol,
          name: NAMES[symbol]?.name ?? symbol,
          exchange: NAMES[symbol]?.exchange ?? 'XNYS',
          currency: 'USD',
          active: true,
        },
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
}
