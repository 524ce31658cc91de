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
import type { Quote } from '../domain/index.js';
import {
  QUERY_BAR_INTERVALS,
  keyOfQuote,
  keyOfTrade,
  type LakeAsOf,
  type LambdaView,
  type QueryBarInterval,
  type QuoteKey,
  type ReadTrace,
  type ServedBar,
  type ServedTrade,
  type TradeKey,
  type TradeWithQuote,
  type ViewSource,
} from './lambda-view.js';

/** Largest page of a connection (`first`). */
export const MAX_PAGE = 10_000;
const DEFAULT_PAGE = 100;

export interface PageQuery {
  readonly symbol: string;
  readonly from?: number | undefined;
  readonly to?: number | undefined;
  readonly first?: number | undefined;
  /** An opaque cursor from an earlier page: the page starts after its row. */
  readonly after?: string | undefined;
  readonly asOf?: LakeAsOf | undefined;
}

/** A page of rows, each with its cursor, and whether more follow. */
export interface Page<T> {
  readonly rows: readonly { readonly cursor: string; readonly node: T }[];
  readonly hasNextPage: boolean;
}

/**
 * Cursors are opaque to clients: base64url of the row's sort key as JSON. Stable: the
 * same row has the same cursor on every read, and a page after it starts where the total
 * order says, whatever was inserted before it meanwhile.
 */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(cursor: string, kinds: readonly ('number' | 'string')[]): unknown[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  if (
    !Array.isArray(key) ||
    key.length !== kinds.length ||
    !key.every((v, i) => typeof v === kinds[i] && (typeof v !== 'number' || Number.isFinite(v)))
  ) {
    throw new AlphalakeError('BAD_USER_INPUT', 'invalid cursor', { cursor });
  }
  return key;
}

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

  /** Bars of any query interval (`1s` … `1d`), optionally as of a lake version or time. */
  async barsOf(
    query: RangeQuery & { interval: string; asOf?: LakeAsOf | undefined },
    trace?: ReadTrace,
  ): Promise<ServedBar[]> {
    const { symbol, range, limit } = this.check(query, DEFAULT_BAR_LIMIT);
    if (!(QUERY_BAR_INTERVALS as readonly string[]).includes(query.interval)) {
      throw new AlphalakeError(
        'BAD_USER_INPUT',
        `unknown bar interval ${JSON.stringify(query.interval)}: use one of ${QUERY_BAR_INTERVALS.join(', ')}`,
        { interval: query.interval },
      );
    }
    return this.view.barsOf(
      symbol,
      query.interval as QueryBarInterval,
      range,
      limit,
      trace,
      query.asOf,
    );
  }

  /** A page of trades in (ts, seq, id) order. */
  async tradesPage(query: PageQuery, trace?: ReadTrace): Promise<Page<ServedTrade>> {
    const { symbol, range, first, after } = this.checkPage(query, ['number', 'number', 'string']);
    const rows = await this.view.tradesPage(
      symbol,
      range,
      first + 1,
      after as TradeKey | undefined,
      trace,
      query.asOf,
    );
    return pageOf(rows, first, (t) => encodeCursor(keyOfTrade(t)));
  }

  /** A page of quotes in (ts, bid, bid size, ask, ask size) order. */
  async quotesPage(
    query: PageQuery,
    trace?: ReadTrace,
  ): Promise<Page<Quote & { source: ViewSource }>> {
    const { symbol, range, first, after } = this.checkPage(query, [
      'number',
      'number',
      'number',
      'number',
      'number',
    ]);
    const rows = await this.view.quotesPage(
      symbol,
      range,
      first + 1,
      after as QuoteKey | undefined,
      trace,
      query.asOf,
    );
    return pageOf(rows, first, (q) => encodeCursor(keyOfQuote(q)));
  }

  /** A page of trades each with its prevailing quote (the lake's, below the watermark). */
  async tradesWithQuote(query: PageQuery): Promise<Page<TradeWithQuote>> {
    const { symbol, range, first, after } = this.checkPage(query, ['number', 'number', 'string']);
    const rows = await this.view.tradesWithQuote(
      symbol,
      range,
      first + 1,
      after as TradeKey | undefined,
      query.asOf,
    );
    return pageOf(rows, first, (r) => encodeCursor(keyOfTrade(r.trade)));
  }

  /** The vwap of a symbol's trades in [from, to) (no `limit`: every trade counts). */
  async vwap(
    query: Omit<RangeQuery, 'limit'> & { asOf?: LakeAsOf | undefined },
    trace?: ReadTrace,
  ) {
    const { symbol, range } = this.check({ ...query, limit: 1 }, 1);
    return { symbol, ...range, ...(await this.view.vwap(symbol, range, trace, query.asOf)) };
  }

  latestQuote(symbol: string): Promise<Quote | undefined> {
    const [checked] = this.checkSymbols([symbol]);
    return this.view.latestQuote(checked!);
  }

  async trades(query: RangeQuery, trace?: ReadTrace): Promise<ServedTrade[]> {
    const { symbol, range, limit } = this.check(query, DEFAULT_TRADE_LIMIT);
    return this.view.trades(symbol, range, limit, trace);
  }

  /** The symbol's 1-minute bar with the latest start in the speed store: a live subscriber's first bar. */
  currentBar(symbol: string, interval: '1s' | '1m' = '1m'): Promise<Bar | undefined> {
    return this.view.currentBar(symbol, interval);
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

  private checkPage(query: PageQuery, kinds: readonly ('number' | 'string')[]) {
    const { symbol, range } = this.check({ ...query, limit: 1 }, 1);
    const first = query.first ?? DEFAULT_PAGE;
    if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) {
      throw new AlphalakeError('BAD_USER_INPUT', `first must be between 1 and ${MAX_PAGE}`, {
        first,
      });
    }
    const after = query.after === undefined ? undefined : decodeCursor(query.after, kinds);
    return { symbol, range, first, after };
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

function pageOf<T>(rows: readonly T[], first: number, cursor: (row: T) => string): Page<T> {
  return {
    rows: rows.slice(0, first).map((node) => ({ cursor: cursor(node), node })),
    hasNextPage: rows.length > first,
  };
}
