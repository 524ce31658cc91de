import {
  AlphalakeError,
  DAY_US,
  isoOfMicros,
  MINUTE_US,
  type Bar,
  type Clock,
  type SymbolInfo,
} from '../domain/index.js';
import type { SymbolDirectory } from '../mdm/index.js';
import type { LambdaView, ReadTrace, ServedBar, ServedTrade } from './lambda-view.js';

/** Largest page a client may ask for in one query. */
export const MAX_LIMIT = 100_000;
const DEFAULT_BAR_LIMIT = 20_000;
const DEFAULT_TRADE_LIMIT = 1_000;
/** Default look-back when a query names no `from`: a week covers the last five sessions. */
const DEFAULT_LOOKBACK_US = 7 * DAY_US;

export interface RangeQuery {
  readonly symbol: string;
  /** Inclusive, epoch µs. */
  readonly from?: number | undefined;
  /** Exclusive, epoch µs. */
  readonly to?: number | undefined;
  readonly limit?: number | undefined;
}

/**
 * The read side the API calls: checks what the client asked for (known symbol,
 * from <= to, a sane limit), fills in defaults, and asks the lambda view.
 */
export class MarketData {
  constructor(
    private readonly directory: SymbolDirectory,
    private readonly view: LambdaView,
    private readonly clock: Clock,
  ) {}

  symbols(): Promise<SymbolInfo[]> {
    return this.directory.list();
  }

  /** `trace`, when given, learns whether the answer read the speed layer. */
  async bars(query: RangeQuery, trace?: ReadTrace): Promise<ServedBar[]> {
    const { symbol, range, limit } = this.check(query, DEFAULT_BAR_LIMIT);
    return this.view.bars(symbol, range, limit, trace);
  }

  async trades(query: RangeQuery, trace?: ReadTrace): Promise<ServedTrade[]> {
    const { symbol, range, limit } = this.check(query, DEFAULT_TRADE_LIMIT);
    return this.view.trades(symbol, range, limit, trace);
  }

  /** The symbol's 1-minute bar with the latest start in the speed store: a live subscriber's first bar. */
  currentBar(symbol: string): Promise<Bar | undefined> {
    return this.view.currentBar(symbol);
  }

  /** Throws BAD_USER_INPUT for a symbol master data does not know. */
  checkSymbols(symbols: readonly string[]): string[] {
    const normalized = symbols.map((s) => s.trim().toUpperCase());
    if (normalized.length === 0)
      throw new AlphalakeError('BAD_USER_INPUT', 'name at least one symbol');
    for (const symbol of normalized) {
      if (!this.directory.isKnown(symbol)) {
        throw new AlphalakeError('BAD_USER_INPUT', `unknown symbol ${JSON.stringify(symbol)}`, {
          symbol,
        });
      }
    }
    return normalized;
  }

  private check(query: RangeQuery, defaultLimit: number) {
    const [symbol] = this.checkSymbols([query.symbol]);
    const to = query.to ?? this.clock.now() + MINUTE_US;
    const from = query.from ?? to - DEFAULT_LOOKBACK_US;
    if (from > to) {
      throw new AlphalakeError('BAD_USER_INPUT', '`from` must not be after `to`', {
        from: isoOfMicros(from),
        to: isoOfMicros(to),
      });
    }
    const limit = query.limit ?? defaultLimit;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw new AlphalakeError('BAD_USER_INPUT', `limit must be between 1 and ${MAX_LIMIT}`, {
        limit,
      });
    }
    return { symbol: symbol!, range: { from, to }, limit };
  }
}
