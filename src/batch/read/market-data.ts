import {
  AlphalakeError,
  DAY_US,
  isoOfMicros,
  MINUTE_US,
  type Bar,
  type Clock,
  type SymbolInfo,
  type VendorBar,
} from '../../domain/index.js';
import {
  actionFactor,
  adjustmentSpans,
  isIdentity,
  spanAt,
  type SymbolDirectory,
  type SymbolSeries,
} from '../../mdm/index.js';
import type { FactorSpan } from './bar-sql.js';
import type { VendorBarsLog } from './vendor-bars-log.js';
import type { LiveBar, LiveBarInterval } from '../../speed/index.js';
import type { Quote, Trade } from '../../domain/index.js';
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
  readonly after?: string | null | undefined;
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
    /** bronze.vendor_bars; without it `vendorBars` answers UNAVAILABLE. */
    private readonly vendorBarsLog?: VendorBarsLog,
  ) {}

  /**
   * Bars as vendors delivered them (bronze.vendor_bars: Polygon minute aggregates from
   * files, REST and WebSocket, Yahoo daily bars) whose start lies in [from, to), oldest
   * first, from the lake alone (the sink commits them every batch interval). Adjusted for
   * the symbol's splits and cash dividends by default, as `bars` (the same spans: prices
   * and vwap × the price factor, volume × the volume factor); through ticker changes.
   */
  async vendorBars(
    query: RangeQuery & { interval?: string | undefined; source?: string | undefined },
    signal?: AbortSignal,
  ): Promise<VendorBar[]> {
    const { series, range, limit } = this.check(query, DEFAULT_BAR_LIMIT);
    if (!this.vendorBarsLog) {
      throw new AlphalakeError('UNAVAILABLE', 'bronze.vendor_bars is not open in this process');
    }
    const factors = query.adjusted === false ? undefined : await this.factors(series);
    const served: VendorBar[] = [];
    for (const segment of segmentsIn(series, range)) {
      const room = limit - served.length;
      if (room <= 0) break;
      const bars = await this.vendorBarsLog.list({
        symbol: segment.ticker,
        interval: query.interval,
        source: query.source,
        from: segment.from,
        to: segment.to,
        limit: room,
        signal,
      });
      for (const bar of bars) {
        if (!factors) {
          served.push(bar);
          continue;
        }
        const { price, volume } = spanAt(factors, bar.ts);
        served.push({
          ...bar,
          open: bar.open * price,
          high: bar.high * price,
          low: bar.low * price,
          close: bar.close * price,
          vwap: bar.vwap * price,
          volume: bar.volume * volume,
        });
      }
    }
    return served;
  }

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

  /**
   * Bars of any query interval (`1s` … `1d`), optionally as of a lake version or time;
   * adjusted (the default) at every interval, and through ticker changes as `bars`.
   */
  async barsOf(
    query: RangeQuery & { interval: string; asOf?: LakeAsOf | undefined },
    trace?: ReadTrace,
  ): Promise<ServedBar[]> {
    const { series, range, limit } = this.check(query, DEFAULT_BAR_LIMIT);
    this.checkInterval(query.interval);
    const factors = query.adjusted === false ? undefined : await this.factors(series);
    const served: ServedBar[] = [];
    for (const segment of segmentsIn(series, range)) {
      const room = limit - served.length;
      if (room <= 0) break;
      served.push(
        ...(await this.view.barsOf(
          segment.ticker,
          query.interval as QueryBarInterval,
          segment,
          room,
          trace,
          query.asOf,
          factors,
        )),
      );
    }
    return served;
  }

  /**
   * `barsOf` of several symbols over one range, in the order given: each symbol's parts
   * (its ticker segments, as `barsOf` cuts them) that cover the same span are read
   * together (`LambdaView.barsOfMany`), so N symbols without a ticker change in the range
   * cost one speed-store call, not N. Each answer equals `barsOf` of that symbol.
   */
  async barsManyOf(
    query: Omit<RangeQuery, 'symbol'> & {
      symbols: readonly string[];
      interval: string;
      asOf?: LakeAsOf | undefined;
    },
    trace?: ReadTrace,
  ): Promise<ServedBar[][]> {
    this.checkInterval(query.interval);
    // One instant for every symbol's default range, so their parts can be read together.
    const to = query.to ?? this.clock.now() + MINUTE_US;
    const checked = query.symbols.map((symbol) =>
      this.check({ ...query, symbol, to }, DEFAULT_BAR_LIMIT),
    );
    const factors = await Promise.all(
      checked.map(({ series }) => (query.adjusted === false ? undefined : this.factors(series))),
    );
    // Each symbol's parts, and the parts grouped by the span they cover.
    const parts = checked.map(({ series, range }) => segmentsIn(series, range));
    const spans = new Map<
      string,
      { range: { from: number; to: number }; at: [number, number][] }
    >();
    parts.forEach((segments, i) =>
      segments.forEach((segment, j) => {
        const key = `${segment.from}:${segment.to}`;
        const span = spans.get(key) ?? { range: { from: segment.from, to: segment.to }, at: [] };
        span.at.push([i, j]);
        spans.set(key, span);
      }),
    );
    const read = parts.map((segments) => segments.map((): ServedBar[] => []));
    await Promise.all(
      [...spans.values()].map(async ({ range, at }) => {
        const bars = await this.view.barsOfMany(
          at.map(([i, j]) => ({ symbol: parts[i]![j]!.ticker, factors: factors[i] })),
          query.interval as QueryBarInterval,
          range,
          checked[at[0]![0]]!.limit,
          trace,
          query.asOf,
        );
        at.forEach(([i, j], k) => (read[i]![j] = bars[k]!));
      }),
    );
    // The parts of a symbol are disjoint and in time order: its bars, up to the limit.
    return read.map((segments, i) => segments.flat().slice(0, checked[i]!.limit));
  }

  /**
   * A page of trades in (ts, seq, id) order, as stored (not adjusted), through ticker
   * changes: the range is cut at the changes as in `bars`, each part read under the ticker
   * of its time; the parts are disjoint in time, so the cursor order holds across them.
   */
  async tradesPage(query: PageQuery, trace?: ReadTrace): Promise<Page<ServedTrade>> {
    const { series, range, first, after } = this.checkPage(query, ['number', 'number', 'string']);
    const rows: ServedTrade[] = [];
    for (const segment of segmentsIn(series, range)) {
      const room = first + 1 - rows.length;
      if (room <= 0) break;
      rows.push(
        ...(await this.view.tradesPage(
          segment.ticker,
          segment,
          room,
          after as TradeKey | undefined,
          trace,
          query.asOf,
        )),
      );
    }
    return pageOf(rows, first, (t) => encodeCursor(keyOfTrade(t)));
  }

  /**
   * A page of quotes in (ts, bid, bid size, ask, ask size) order: bronze.quotes below the
   * watermark, the speed store above it; adjusted (the default) like trades — bid and ask
   * times the price factor of the quote's time, their sizes times the volume factor — or
   * raw with `adjusted: false`. Cursors are the raw rows' keys, so a page resumes exactly.
   */
  async quotesPage(
    query: PageQuery & { adjusted?: boolean | undefined },
    trace?: ReadTrace,
  ): Promise<Page<Quote & { source: ViewSource }>> {
    const { series, range, first, after } = this.checkPage(query, [
      'number',
      'number',
      'number',
      'number',
      'number',
    ]);
    const factors = query.adjusted === false ? undefined : await this.factors(series);
    const rows: (Quote & { source: ViewSource })[] = [];
    for (const segment of segmentsIn(series, range)) {
      const room = first + 1 - rows.length;
      if (room <= 0) break;
      rows.push(
        ...(await this.view.quotesPage(
          segment.ticker,
          segment,
          room,
          after as QuoteKey | undefined,
          trace,
          query.asOf,
        )),
      );
    }
    const page = pageOf(rows, first, (q) => encodeCursor(keyOfQuote(q)));
    return factors
      ? { ...page, rows: page.rows.map((r) => ({ ...r, node: adjustQuote(r.node, factors) })) }
      : page;
  }

  /**
   * A page of trades each with its prevailing quote: the lake's ASOF JOIN below the
   * watermark, the speed store's trades and quotes above it; both adjusted unless
   * `adjusted: false` (each by the factors of its own time).
   */
  async tradesWithQuote(
    query: PageQuery & { adjusted?: boolean | undefined },
    trace?: ReadTrace,
  ): Promise<Page<TradeWithQuote>> {
    const { series, range, first, after } = this.checkPage(query, ['number', 'number', 'string']);
    const factors = query.adjusted === false ? undefined : await this.factors(series);
    const rows: TradeWithQuote[] = [];
    for (const segment of segmentsIn(series, range)) {
      const room = first + 1 - rows.length;
      if (room <= 0) break;
      rows.push(
        ...(await this.view.tradesWithQuote(
          segment.ticker,
          segment,
          room,
          after as TradeKey | undefined,
          query.asOf,
          trace,
        )),
      );
    }
    const page = pageOf(rows, first, (r) => encodeCursor(keyOfTrade(r.trade)));
    if (!factors) return page;
    return {
      ...page,
      rows: page.rows.map((r) => ({
        ...r,
        node: {
          trade: adjustTrade(r.node.trade, factors),
          quote: r.node.quote && adjustQuote(r.node.quote, factors),
        },
      })),
    };
  }

  /** The vwap of a symbol's trades in [from, to) (no `limit`: every trade counts). */
  async vwap(
    query: Omit<RangeQuery, 'limit'> & { asOf?: LakeAsOf | undefined },
    trace?: ReadTrace,
  ) {
    // Raw prices under the ticker asked for (no adjustment, no ticker changes: a vwap
    // summed across tickers would need each part's ordered notional, not its vwap).
    const { range } = this.check({ ...query, limit: 1 }, 1);
    const symbol = query.symbol.trim().toUpperCase();
    return { symbol, ...range, ...(await this.view.vwap(symbol, range, trace, query.asOf)) };
  }

  /** The latest quote (the speed store's, else the lake's newest), adjusted unless `adjusted` is false. */
  async latestQuote(symbol: string, adjusted = true): Promise<Quote | undefined> {
    const [checked] = this.checkSymbols([symbol]);
    const quote = await this.view.latestQuote(checked!);
    if (!quote || !adjusted) return quote;
    const series = this.directory.series(checked!);
    const factors = series && (await this.factors(series));
    return factors ? adjustQuote(quote, factors) : quote;
  }

  /**
   * The latest quote of each symbol, in order, in one read of the lake (the GraphQL
   * DataLoader's batch), adjusted unless `adjusted` is false: an unknown symbol's place
   * holds its BAD_USER_INPUT error rather than failing the others.
   */
  async latestQuotes(
    symbols: readonly string[],
    adjusted = true,
  ): Promise<(Quote | undefined | AlphalakeError)[]> {
    const checked = symbols.map((symbol) => {
      try {
        return this.checkSymbols([symbol])[0]!;
      } catch (error) {
        if (error instanceof AlphalakeError) return error;
        throw error;
      }
    });
    const known = checked.filter((c): c is string => typeof c === 'string');
    const raw = known.length > 0 ? await this.view.latestQuotes(known) : [];
    const quotes = adjusted
      ? await Promise.all(
          raw.map(async (quote, i) => {
            const series = quote && this.directory.series(known[i]!);
            const factors = series && (await this.factors(series));
            return quote && factors ? adjustQuote(quote, factors) : quote;
          }),
        )
      : raw;
    let next = 0;
    return checked.map((c) => (typeof c === 'string' ? quotes[next++] : c));
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

  /**
   * The symbol's bar of `interval` with the latest start (1s, 1m: the speed store's; coarser:
   * the bucket of the latest minute, rolled up): a live subscriber's first bar.
   */
  currentBar(symbol: string, interval: LiveBarInterval = '1m'): Promise<Bar | LiveBar | undefined> {
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
    const { series, range } = this.check({ ...query, limit: 1 }, 1);
    const first = query.first ?? DEFAULT_PAGE;
    if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) {
      throw new AlphalakeError('BAD_USER_INPUT', `first must be between 1 and ${MAX_PAGE}`, {
        first,
      });
    }
    // GraphQL's explicit `after: null` (a variable left null) is the first page, like no `after`.
    const cursor = query.after ?? undefined;
    const after = cursor === undefined ? undefined : decodeCursor(cursor, kinds);
    return { series, range, first, after };
  }

  private checkInterval(interval: string): void {
    if (!(QUERY_BAR_INTERVALS as readonly string[]).includes(interval)) {
      throw new AlphalakeError(
        'BAD_USER_INPUT',
        `unknown bar interval ${JSON.stringify(interval)}: use one of ${QUERY_BAR_INTERVALS.join(', ')}`,
        { interval },
      );
    }
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

/**
 * A quote adjusted for corporate actions: bid and ask times the price factor of the span
 * holding its time, the sizes times the volume factor — one IEEE-754 multiplication each,
 * as trades are adjusted (src/mdm/adjustments.ts).
 */
function adjustQuote<Q extends Quote>(quote: Q, factors: readonly FactorSpan[]): Q {
  const span = spanAt(factors, quote.ts);
  return {
    ...quote,
    bidPrice: quote.bidPrice * span.price,
    bidSize: quote.bidSize * span.volume,
    askPrice: quote.askPrice * span.price,
    askSize: quote.askSize * span.volume,
  };
}

/** A trade adjusted as `trades` adjusts the speed layer's: price × price factor, size × volume factor. */
function adjustTrade<T extends Trade>(trade: T, factors: readonly FactorSpan[]): T {
  const span = spanAt(factors, trade.ts);
  return { ...trade, price: trade.price * span.price, size: trade.size * span.volume };
}

function pageOf<T>(rows: readonly T[], first: number, cursor: (row: T) => string): Page<T> {
  return {
    rows: rows.slice(0, first).map((node) => ({ cursor: cursor(node), node })),
    hasNextPage: rows.length > first,
  };
}
