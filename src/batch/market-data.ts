import {
  AlphalakeError,
  DAY_US,
  isoOfMicros,
  MINUTE_US,
  type Bar,
  type Clock,
  type SymbolInfo,
} from '../domain/index.js';
import {
  actionFactor,
  adjustmentSpans,
  isIdentity,
  type SymbolDirectory,
  type SymbolSeries,
} from '../mdm/index.js';
import type { FactorSpan } from './bar-sql.js';
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
  /**
   * Adjust prices and volumes for the symbol's splits and cash dividends (the default);
   * false reads the raw rows as stored.
   */
  readonly adjusted?: boolean | undefined;
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

  /**
   * `trace`, when given, learns whether the answer read the speed layer.
   *
   * The symbol is resolved through its ticker changes (docs/mdm.md): the range is cut
   * into the spans in which the security traded under each of its tickers, and each span
   * is read under the ticker of its time, so a query by `FB` or by `META` returns one
   * series across the change (each bar names the ticker it traded under).
   */
  async bars(query: RangeQuery, trace?: ReadTrace): Promise<ServedBar[]> {
    const { series, range, limit } = this.check(query, DEFAULT_BAR_LIMIT);
    const factors = query.adjusted === false ? undefined : await this.factors(series);
    const served: ServedBar[] = [];
    for (const segment of segmentsIn(series, range)) {
      const room = limit - served.length;
      if (room <= 0) break;
      served.push(...(await this.view.bars(segment.ticker, segment, room, trace, factors)));
    }
    return served;
  }

  async trades(query: RangeQuery, trace?: ReadTrace): Promise<ServedTrade[]> {
    const { series, range, limit } = this.check(query, DEFAULT_TRADE_LIMIT);
    const factors = query.adjusted === false ? undefined : await this.factors(series);
    const served: ServedTrade[] = [];
    for (const segment of segmentsIn(series, range)) {
      const room = limit - served.length;
      if (room <= 0) break;
      served.push(...(await this.view.trades(segment.ticker, segment, room, trace, factors)));
    }
    return served;
  }

  /**
   * The cumulative adjustment factors of a symbol's corporate actions as spans of event
   * time (src/mdm/adjustments.ts), or undefined when they are all 1 (no actions): then
   * the adjusted read is the raw read. A dividend's factor needs the raw close of the
   * last bar before its ex-date, read under the ticker of that time.
   */
  private async factors(series: SymbolSeries): Promise<FactorSpan[] | undefined> {
    if (series.actions.length === 0) return undefined;
    const factors = await Promise.all(
      series.actions.map(async (action) => {
        if (action.kind !== 'dividend') return actionFactor(action, undefined);
        const exTs = actionFactor(action, undefined).exTs;
        const ticker = series.segments.find((s) => exTs - 1 >= s.from && exTs - 1 < s.to)?.ticker;
        const close = ticker === undefined ? undefined : await this.view.closeBefore(ticker, exTs);
        return actionFactor(action, close);
      }),
    );
    const spans = adjustmentSpans(factors);
    return isIdentity(spans) ? undefined : spans;
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
    const symbol = query.symbol.trim().toUpperCase();
    const series = this.directory.series(symbol);
    if (!series) {
      throw new AlphalakeError('BAD_USER_INPUT', `unknown symbol ${JSON.stringify(symbol)}`, {
        symbol,
      });
    }
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
    return { series, range: { from, to }, limit };
  }
}

/** The parts of `range` in each of the symbol's ticker segments, in time order. */
function segmentsIn(
  series: SymbolSeries,
  range: { from: number; to: number },
): { ticker: string; from: number; to: number }[] {
  return series.segments
    .map((s) => ({
      ticker: s.ticker,
      from: Math.max(s.from, range.from),
      to: Math.min(s.to, range.to),
    }))
    .filter((s) => s.from < s.to);
}
