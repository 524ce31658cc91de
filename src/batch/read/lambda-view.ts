import {
  ALWAYS_OPEN,
  AlphalakeError,
  DAY_US,
  DEFAULT_CONDITION_RULES,
  sessionsBetween,
  utcDate,
  type Bar,
  type ConditionRules,
  type Quote,
  type Session,
  type Trade,
  type TradingCalendar,
} from '../../domain/index.js';
import {
  LakeTimestamp,
  type AggregateSql,
  type ColumnSpec,
  type ColumnarQueryResult,
  type DeltaTable,
  type Filter,
} from '../../lake/index.js';
import {
  liveBucketOf,
  type LiveBarInterval,
  type SpeedStore,
  type TimeRange,
} from '../../speed/index.js';
import type { Snapshot } from '../../lake/index.js';
import {
  adjustedBarsSql,
  adjustedTradesSql,
  coarserBarsSql,
  intervalMicros,
  secondBarsSql,
  sessionBarsSql,
  type FactorSpan,
} from './bar-sql.js';
import type { Medallion } from '../medallion.js';
import { QUOTES_TABLE, TRADES_TABLE } from '../tables.js';

/** One symbol of a `barsOfMany`: its ticker and, when adjusted, its factor spans. */
export interface BarSeries {
  readonly symbol: string;
  readonly factors?: readonly FactorSpan[] | undefined;
}

/** Which layer served a row. */
export type ViewSource = 'LAKE' | 'SPEED';

/** Bar lengths a query may ask for: the speed layer's 1s and 1m, and roll-ups of 1m. */
export const QUERY_BAR_INTERVALS = ['1s', '1m', '5m', '15m', '30m', '1h', '1d'] as const;
export type QueryBarInterval = (typeof QUERY_BAR_INTERVALS)[number];

export type ServedBar = Omit<Bar, 'interval'> & {
  readonly interval: QueryBarInterval;
  readonly source: ViewSource;
};

/**
 * Time travel: read the lake as of one table version, or as of an instant (the latest
 * commit at or before it, PROTOCOL.md "Time Travel"). A read that names either answers
 * from that snapshot alone: the speed layer has no past, so it takes no part.
 */
export interface LakeAsOf {
  readonly version?: number | undefined;
  /** Epoch µs. */
  readonly time?: number | undefined;
}

/** Where a page of trades or quotes resumes: after the row with this key. */
export type TradeKey = readonly [ts: number, seq: number, id: string];
export type QuoteKey = readonly [
  ts: number,
  bidPrice: number,
  bidSize: number,
  askPrice: number,
  askSize: number,
];

export interface TradeWithQuote {
  readonly trade: Trade;
  /** The latest quote at or before the trade's time; undefined when none precedes it. */
  readonly quote: Quote | undefined;
}
export type ServedTrade = Trade & { readonly source: ViewSource };

/**
 * What a read touched, for callers that cache answers: an answer that read the speed
 * layer can change with every trade; one that read only the lake is fixed by the lake's
 * table versions and the watermark.
 */
export interface ReadTrace {
  speed: boolean;
}

/** The columns of `silver.bars_1m` a served bar is made of. */
const BAR_COLUMNS = ['ts', 'open', 'high', 'low', 'close', 'volume', 'vwap', 'trade_count'];

/**
 * The lambda view: the lake answers for event times below the watermark, the speed
 * store at and above it. The two ranges are disjoint and together cover the query,
 * so no row is missing or counted twice. With no watermark yet, the speed store
 * answers alone.
 */
export class LambdaView {
  constructor(
    private readonly tables: Medallion,
    private readonly speed: SpeedStore,
    private readonly watermark: () => number | undefined,
    /** Daily bars follow its sessions (a 24x7 calendar: UTC days). */
    private readonly calendar?: TradingCalendar,
    /** What each trade's sale conditions let it set in the 1s bars read from bronze.trades. */
    private readonly conditionRules: ConditionRules = DEFAULT_CONDITION_RULES,
  ) {}

  /**
   * Bars of any query interval whose start lies in [from, to), each complete: `1m` from
   * `silver.bars_1m`, `1s` from `bronze.trades`, coarser ones rolled up from
   * `silver.bars_1m` in DuckDB, `1d` per trading session of the calendar. Below the
   * watermark the lake answers; above it the speed store's bars (1s, or 1m rolled up
   * here). A bucket that the watermark cuts in two is the combination of its two parts.
   *
   * `factors`, when given, adjusts for corporate actions at every interval, before any
   * roll-up: in DuckDB each trade (1s) or 1-minute bar (coarser, 1d) is multiplied by the
   * factors of the span it lies in, then bucketed; the speed layer's 1s or 1m bars the
   * same way here (docs/mdm.md, "Adjusted prices").
   */
  async barsOf(
    symbol: string,
    interval: QueryBarInterval,
    range: TimeRange,
    limit: number,
    trace?: ReadTrace,
    asOf?: LakeAsOf,
    factors?: readonly FactorSpan[],
  ): Promise<ServedBar[]> {
    const [bars] = await this.barsOfMany(
      [{ symbol, factors }],
      interval,
      range,
      limit,
      trace,
      asOf,
    );
    return bars!;
  }

  /**
   * `barsOf` for several symbols over one range, each answer as `barsOf` gives it: the
   * lake read per symbol, all at once, and the speed store asked once for them all
   * (`SpeedStore.barsMany`), so `barsMany` over N tickers costs one speed-store call.
   */
  async barsOfMany(
    series: readonly BarSeries[],
    interval: QueryBarInterval,
    range: TimeRange,
    limit: number,
    trace?: ReadTrace,
    asOf?: LakeAsOf,
  ): Promise<ServedBar[][]> {
    const symbols = series.map((s) => s.symbol);
    const none = <B>(): B[][] => series.map(() => []);
    if (interval === '1m' && !asOf) {
      const { lake, speed } = this.split(range);
      if (speed && trace) trace.speed = true;
      const [fromLake, fromSpeed] = await Promise.all([
        Promise.all(
          series.map((s) =>
            lake ? this.lakeBars(s.symbol, lake, limit, s.factors) : ([] as ServedBar[]),
          ),
        ),
        speed ? this.speed.barsMany(symbols, '1m', speed, limit) : none<Bar>(),
      ]);
      return series.map((s, i) => {
        const served = fromLake[i]!;
        for (const bar of fromSpeed[i]!.slice(0, Math.max(0, limit - served.length))) {
          served.push(adjustBar({ ...bar, source: 'SPEED' as const }, s.factors));
        }
        return served;
      });
    }
    const buckets = this.buckets(interval, range);
    if (buckets.length === 0) return none<ServedBar>();
    const covered = { from: buckets[0]!.open, to: buckets[buckets.length - 1]!.close };
    const { lake, speed } = asOf ? { lake: covered, speed: undefined } : this.split(covered);
    if (speed && trace) trace.speed = true;
    const [fromLake, fromSpeed] = await Promise.all([
      Promise.all(
        series.map((s) =>
          lake
            ? this.lakeBarsOf(s.symbol, interval, lake, buckets, asOf, s.factors)
            : ([] as ServedBar[]),
        ),
      ),
      speed
        ? this.speed.barsMany(symbols, interval === '1s' ? '1s' : '1m', speed, SPEED_READ_LIMIT)
        : none<Bar>(),
    ]);
    return series.map((s, i) => {
      const merged: ServedBar[] = [];
      const rolled = this.speedBarsOf(interval, fromSpeed[i]!, buckets, s.factors);
      for (const bar of [...fromLake[i]!, ...rolled]) {
        const last = merged[merged.length - 1];
        if (last && last.ts === bar.ts) merged[merged.length - 1] = combineBars(last, bar);
        else merged.push(bar);
      }
      return merged.filter((bar) => bar.ts >= range.from && bar.ts < range.to).slice(0, limit);
    });
  }

  /**
   * The buckets whose start lies in [from, to): fixed widths from the epoch, or the
   * calendar's sessions for `1d` (labelled by the UTC midnight of their date).
   */
  private buckets(interval: QueryBarInterval, range: TimeRange): Bucket[] {
    if (interval === '1d' && this.calendar) {
      return sessionsBetween(this.calendar, range.from - DAY_US, range.to + DAY_US)
        .map((session) => ({ label: labelOf(session), open: session.open, close: session.close }))
        .filter((b) => b.label >= range.from && b.label < range.to);
    }
    const width = interval === '1s' ? 1_000_000 : intervalMicros(interval);
    const first = Math.ceil(range.from / width) * width;
    const count = Math.max(0, Math.ceil((range.to - first) / width));
    if (count > 10_000_000) {
      throw new AlphalakeError('BAD_USER_INPUT', `range holds too many ${interval} bars`, {
        interval,
      });
    }
    // The span is what matters to the reads; buckets beyond the first and last are implied.
    if (count === 0) return [];
    const last = first + (count - 1) * width;
    return [
      { label: first, open: first, close: first + width },
      ...(count > 1 ? [{ label: last, open: last, close: last + width }] : []),
    ];
  }

  private async lakeBarsOf(
    symbol: string,
    interval: QueryBarInterval,
    range: TimeRange,
    buckets: readonly Bucket[],
    asOf: LakeAsOf | undefined,
    factors: readonly FactorSpan[] | undefined,
  ): Promise<ServedBar[]> {
    const fromTrades = interval === '1s';
    const table = fromTrades ? this.tables.trades : this.tables.bars1m;
    const snapshot = await snapshotAt(table, asOf);
    // A snapshot from before `bronze.trades.conditions` existed has no such column.
    const conditions =
      fromTrades &&
      (snapshot ?? (await table.snapshot())).schema.some((c) => c.name === 'conditions');
    const aggregate = fromTrades
      ? secondBarsSql('seq', factors, conditions, this.conditionRules)
      : interval === '1d' && this.calendar
        ? sessionBarsSql(buckets.map(sessionOf), factors)
        : interval === '1m'
          ? factors && adjustedBarsSql(factors)
          : coarserBarsSql(interval as Exclude<QueryBarInterval, '1s'>, factors);
    const columns = fromTrades
      ? ['ts', 'price', 'size', 'seq', ...(conditions ? ['conditions'] : [])]
      : [...BAR_COLUMNS, 'notional'];
    const result = await table.queryColumns({
      ...(snapshot ? { snapshot } : {}),
      columns: aggregate ? columns : BAR_COLUMNS,
      filters: lakeFilters(symbol, range),
      orderBy: BAR_ORDER,
      ...(aggregate ? { aggregate } : {}),
    });
    return barsFromColumns(symbol, result, interval);
  }

  /** The speed store's 1s bars as they are, or its 1m bars rolled up to `interval`. */
  private speedBarsOf(
    interval: QueryBarInterval,
    read: readonly Bar[],
    buckets: readonly Bucket[],
    factors: readonly FactorSpan[] | undefined,
  ): ServedBar[] {
    if (interval === '1s') {
      return read.map((bar) => adjustBar({ ...bar, source: 'SPEED' as const }, factors));
    }
    const minutes = read.map((bar) => adjustBar({ ...bar, source: 'SPEED' as const }, factors));
    const label =
      interval === '1d' && this.calendar
        ? sessionLabeller(buckets)
        : (ts: number) => {
            const width = intervalMicros(interval);
            return ts - (((ts % width) + width) % width);
          };
    const rolled: ServedBar[] = [];
    for (const minute of minutes) {
      const ts = label(minute.ts);
      if (ts === undefined) continue;
      const bar: ServedBar = { ...minute, interval, ts, source: 'SPEED' };
      const last = rolled[rolled.length - 1];
      if (last && last.ts === ts) rolled[rolled.length - 1] = combineBars(last, bar);
      else rolled.push(bar);
    }
    return rolled;
  }

  /**
   * One page of a symbol's trades in [from, to) in their total order (ts, seq, id),
   * starting after `after`: the lake below the watermark (or at `asOf`), the speed store
   * above it. `limit` + 1 rows are read so the caller learns whether another page exists.
   */
  async tradesPage(
    symbol: string,
    range: TimeRange,
    limit: number,
    after: TradeKey | undefined,
    trace?: ReadTrace,
    asOf?: LakeAsOf,
  ): Promise<ServedTrade[]> {
    const { lake, speed } = asOf ? { lake: range, speed: undefined } : this.split(range);
    if (speed && trace) trace.speed = true;
    const page: ServedTrade[] = [];
    if (lake && !(after && after[0] >= lake.to)) {
      const snapshot =
        (await snapshotAt(this.tables.trades, asOf)) ?? (await this.tables.trades.snapshot());
      const from = after ? Math.max(lake.from, after[0]) : lake.from;
      // The page's rows are the first `limit` after the cursor, so a window of event time
      // from the cursor that already holds `limit` of them holds exactly those: reading the
      // window lets file statistics prune every file past it, where [cursor, end) would scan
      // the rest of the range for every page (quadratic over a long range). The window
      // starts at a minute and doubles until it holds the page or reaches the range's end.
      for (let width = PAGE_WINDOW_US; ; width *= 2) {
        const to = Math.min(lake.to, from + width);
        const result = await this.tables.trades.query({
          snapshot,
          columns: ['ts', 'seq', 'price', 'size', 'id', 'exchange', 'ts_nanos'],
          filters: lakeFilters(symbol, { from, to }),
          aggregate: tradesAfterSql(after),
          orderBy: TRADE_PAGE_ORDER,
          limit,
        });
        if (result.rows.length < limit && to < lake.to) continue;
        for (const row of result.rows)
          page.push({ ...tradeFromRow({ ...row, symbol }), source: 'LAKE' });
        break;
      }
    }
    if (speed && page.length < limit) {
      const from = after ? Math.max(speed.from, after[0]) : speed.from;
      const room = limit - page.length;
      let want = room + 1;
      for (;;) {
        const read = await this.speed.trades(symbol, { from, to: speed.to }, want);
        const kept = read.filter((t) => !after || compareTradeKey(keyOfTrade(t), after) > 0);
        if (kept.length >= room || read.length < want) {
          for (const trade of kept.slice(0, room)) page.push({ ...trade, source: 'SPEED' });
          break;
        }
        want *= 2;
      }
    }
    return page;
  }

  /** One page of a symbol's quotes in [from, to), ordered by (ts, bid, bid size, ask, ask size). */
  async quotesPage(
    symbol: string,
    range: TimeRange,
    limit: number,
    after: QuoteKey | undefined,
    trace?: ReadTrace,
    asOf?: LakeAsOf,
  ): Promise<(Quote & { source: ViewSource })[]> {
    const { lake, speed } = asOf ? { lake: range, speed: undefined } : this.split(range);
    if (speed && trace) trace.speed = true;
    const page: (Quote & { source: ViewSource })[] = [];
    if (lake && !(after && after[0] >= lake.to)) {
      const snapshot = await snapshotAt(this.tables.quotes, asOf);
      const start = after ? { from: Math.max(lake.from, after[0]), to: lake.to } : lake;
      const result = await this.tables.quotes.query({
        ...(snapshot ? { snapshot } : {}),
        columns: ['ts', 'bid_price', 'bid_size', 'ask_price', 'ask_size'],
        filters: lakeFilters(symbol, start),
        aggregate: quotesAfterSql(after),
        orderBy: QUOTE_PAGE_ORDER,
        limit,
      });
      for (const row of result.rows) page.push({ ...quoteFromRow(symbol, row), source: 'LAKE' });
    }
    if (speed && page.length < limit) {
      const from = after ? Math.max(speed.from, after[0]) : speed.from;
      const room = limit - page.length;
      let want = room + 1;
      for (;;) {
        const read = await this.speed.quotes(symbol, { from, to: speed.to }, want);
        const kept = read.filter((q) => !after || compareQuoteKey(keyOfQuote(q), after) > 0);
        if (kept.length >= room || read.length < want) {
          for (const quote of kept.slice(0, room)) page.push({ ...quote, source: 'SPEED' });
          break;
        }
        want *= 2;
      }
    }
    return page;
  }

  /**
   * The volume-weighted average price of a symbol's trades in [from, to): Σ price·size
   * summed in (ts, seq) order (in DuckDB over bronze.trades below the watermark, then on
   * over the speed store's trades above it) divided by Σ size. Undefined with no volume.
   */
  async vwap(
    symbol: string,
    range: TimeRange,
    trace?: ReadTrace,
    asOf?: LakeAsOf,
  ): Promise<{ vwap: number | undefined; volume: number; tradeCount: number }> {
    const { lake, speed } = asOf ? { lake: range, speed: undefined } : this.split(range);
    if (speed && trace) trace.speed = true;
    let notional = 0;
    let volume = 0;
    let tradeCount = 0;
    if (lake) {
      const snapshot = await snapshotAt(this.tables.trades, asOf);
      const result = await this.tables.trades.query({
        ...(snapshot ? { snapshot } : {}),
        columns: ['ts', 'seq', 'price', 'size'],
        filters: lakeFilters(symbol, lake),
        aggregate: VWAP_SQL,
      });
      const row = result.rows[0];
      if (row && row.trade_count !== null && Number(row.trade_count) > 0) {
        notional = Number(row.notional);
        volume = Number(row.volume);
        tradeCount = Number(row.trade_count);
      }
    }
    if (speed) {
      for (const trade of await this.speed.trades(symbol, speed, SPEED_READ_LIMIT)) {
        notional += trade.price * trade.size;
        volume += trade.size;
        tradeCount++;
      }
    }
    return { vwap: volume > 0 ? notional / volume : undefined, volume, tradeCount };
  }

  /** The latest quote: the speed store's, else the lake's newest (below the watermark). */
  async latestQuote(symbol: string): Promise<Quote | undefined> {
    const [quote] = await this.latestQuotes([symbol]);
    return quote;
  }

  /**
   * The latest quote of each symbol, in order: the speed store's, else the lake's newest.
   * The speed store is asked once for all of them (`SpeedStore.latestQuotes`); the symbols
   * it has no quote for are read from `bronze.quotes` in one DuckDB query (the newest row
   * per symbol, ties broken by the quote page order, highest first), so a request for many
   * symbols costs one speed-store call and one lake read, not one each.
   */
  async latestQuotes(symbols: readonly string[]): Promise<(Quote | undefined)[]> {
    const live = await this.speed.latestQuotes(symbols);
    const missing = [...new Set(symbols.filter((_, i) => live[i] === undefined))];
    const lake = new Map<string, Quote>();
    if (missing.length > 0) {
      const result = await this.tables.quotes.query({
        columns: ['symbol', 'ts', 'bid_price', 'bid_size', 'ask_price', 'ask_size'],
        filters: [{ column: 'symbol', op: 'in', value: missing }],
        aggregate: LATEST_QUOTE_PER_SYMBOL,
      });
      for (const row of result.rows) {
        const symbol = String(row.symbol);
        lake.set(symbol, quoteFromRow(symbol, row));
      }
    }
    return symbols.map((symbol, i) => live[i] ?? lake.get(symbol));
  }

  /**
   * A page of trades in [from, to) with the prevailing quote of each (the latest quote
   * at or before the trade's time). Below the watermark (or at `asOf`, both tables at the
   * same instant or the given version of `bronze.trades` with the quotes as of that
   * commit's time) the lake answers, joined in DuckDB with an ASOF LEFT JOIN over
   * `bronze.trades` and `bronze.quotes`; above it the speed store's trades and quotes, joined
   * here (a merge of two time-ordered lists: the speed layer holds minutes, not history).
   */
  async tradesWithQuote(
    symbol: string,
    range: TimeRange,
    limit: number,
    after: TradeKey | undefined,
    asOf?: LakeAsOf,
    trace?: ReadTrace,
  ): Promise<TradeWithQuote[]> {
    if (asOf) return this.lakeTradesWithQuote(symbol, range, limit, after, asOf);
    const { lake, speed } = this.split(range);
    const page = lake ? await this.lakeTradesWithQuote(symbol, lake, limit, after) : [];
    if (speed && page.length < limit) {
      if (trace) trace.speed = true;
      page.push(...(await this.speedTradesWithQuote(symbol, speed, limit - page.length, after)));
    }
    return page;
  }

  /** The speed store's part of `tradesWithQuote`: trades in `range` after `after`, each with its quote. */
  private async speedTradesWithQuote(
    symbol: string,
    range: TimeRange,
    limit: number,
    after: TradeKey | undefined,
  ): Promise<TradeWithQuote[]> {
    const from = after ? Math.max(range.from, after[0]) : range.from;
    if (from >= range.to) return [];
    let trades: Trade[];
    for (let want = limit + 1; ; want *= 2) {
      const read = await this.speed.trades(symbol, { from, to: range.to }, want);
      const kept = read.filter((t) => !after || compareTradeKey(keyOfTrade(t), after) > 0);
      if (kept.length >= limit || read.length < want) {
        trades = kept.slice(0, limit);
        break;
      }
    }
    if (trades.length === 0) return [];
    const first = trades[0]!.ts;
    // The store's quotes from a little before the first trade (what it holds below the
    // watermark: eviction keeps a margin) up to the last trade; the prevailing quote at the
    // first trade comes from the lake when the store has none at or before it.
    const quotes = await this.speed.quotes(
      symbol,
      { from: first - SPEED_QUOTE_LOOKBACK_US, to: trades[trades.length - 1]!.ts + 1 },
      SPEED_READ_LIMIT,
    );
    let prevailing: Quote | undefined =
      quotes.length === 0 || quotes[0]!.ts > first
        ? await this.lakeQuoteAtOrBefore(symbol, first)
        : undefined;
    let next = 0;
    return trades.map((trade) => {
      while (next < quotes.length && quotes[next]!.ts <= trade.ts) prevailing = quotes[next++];
      return { trade, quote: prevailing };
    });
  }

  /** The lake's latest quote of `symbol` at or before `ts`. */
  private async lakeQuoteAtOrBefore(symbol: string, ts: number): Promise<Quote | undefined> {
    const result = await this.tables.quotes.query({
      columns: ['ts', 'bid_price', 'bid_size', 'ask_price', 'ask_size'],
      filters: [
        { column: 'date', op: '<=', value: utcDate(ts) },
        { column: 'symbol', op: '=', value: symbol },
        { column: 'ts', op: '<=', value: ts },
      ],
      orderBy: [{ column: 'ts', desc: true }],
      limit: 1,
    });
    const row = result.rows[0];
    return row && quoteFromRow(symbol, row);
  }

  /** The lake's part of `tradesWithQuote`: an ASOF JOIN in DuckDB. */
  private async lakeTradesWithQuote(
    symbol: string,
    range: TimeRange,
    limit: number,
    after: TradeKey | undefined,
    asOf?: LakeAsOf,
  ): Promise<TradeWithQuote[]> {
    const to = range.to;
    const from = after ? Math.max(range.from, after[0]) : range.from;
    if (from >= to) return [];
    const trades = await snapshotAt(this.tables.trades, asOf);
    const tradeSnapshot = trades ?? (await this.tables.trades.snapshot());
    const quoteTarget: LakeAsOf | undefined =
      asOf?.version !== undefined
        ? { time: (await commitTimeOf(this.tables.trades, asOf.version)) ?? 0 }
        : asOf;
    const quotes =
      (await snapshotAt(this.tables.quotes, quoteTarget)) ?? (await this.tables.quotes.snapshot());
    const quoteScan = await this.tables.quotes.parquetRelationSql(quotes, [
      { column: 'date', op: '<=', value: utcDate(to - 1) },
      { column: 'symbol', op: '=', value: symbol },
      { column: 'ts', op: '<', value: to },
    ]);
    const result = await this.tables.trades.query({
      snapshot: tradeSnapshot,
      columns: ['ts', 'seq', 'price', 'size', 'id', 'exchange', 'ts_nanos'],
      filters: lakeFilters(symbol, { from, to }),
      aggregate: tradesWithQuoteSql(symbol, after, quoteScan),
      orderBy: TRADE_PAGE_ORDER,
      limit,
    });
    return result.rows.map((row) => ({
      trade: tradeFromRow({ ...row, symbol }),
      quote:
        row.q_ts === null || row.q_ts === undefined
          ? undefined
          : quoteFromRow(symbol, {
              ts: row.q_ts,
              bid_price: row.bid_price,
              bid_size: row.bid_size,
              ask_price: row.ask_price,
              ask_size: row.ask_size,
            }),
    }));
  }

  /**
   * `factors`, when given, adjusts the bars for corporate actions (src/mdm/adjustments.ts):
   * the lake's rows in the DuckDB query (a join to the factor spans), the speed layer's
   * here, each value times the factor of the span its bar starts in. Both are one
   * IEEE-754 double multiplication by the same factor, so a bar adjusted on either side
   * of the watermark is the same number (docs/mdm.md, "Adjusted prices").
   */
  async bars(
    symbol: string,
    range: TimeRange,
    limit: number,
    trace?: ReadTrace,
    factors?: readonly FactorSpan[],
  ): Promise<ServedBar[]> {
    const { lake, speed } = this.split(range);
    if (speed && trace) trace.speed = true;
    const served: ServedBar[] = lake ? await this.lakeBars(symbol, lake, limit, factors) : [];
    const room = limit - served.length;
    const fromSpeed = speed && room > 0 ? await this.speed.bars(symbol, '1m', speed, room) : [];
    for (const bar of fromSpeed) served.push(adjustBar({ ...bar, source: 'SPEED' }, factors));
    return served;
  }

  /**
   * Bars from `silver.bars_1m`, read as columns (the lake caches them per table version)
   * and made into bars here: one object per bar, nothing per row in between.
   */
  private async lakeBars(
    symbol: string,
    range: TimeRange,
    limit: number,
    factors: readonly FactorSpan[] | undefined,
  ): Promise<ServedBar[]> {
    const result = await this.tables.bars1m.queryColumns({
      columns: BAR_COLUMNS,
      filters: lakeFilters(symbol, range),
      orderBy: BAR_ORDER,
      limit,
      ...(factors ? { aggregate: adjustedBarsSql(factors) } : {}),
    });
    return barsFromColumns(symbol, result);
  }

  /**
   * The raw close of the symbol's last 1-minute bar before `ts` within `lookbackUs` (the
   * price a cash dividend's factor divides by), from the speed store above the watermark
   * and the lake below it; undefined when there is none.
   */
  async closeBefore(
    symbol: string,
    ts: number,
    lookbackUs = 31 * DAY_US,
  ): Promise<number | undefined> {
    const { lake, speed } = this.split({ from: ts - lookbackUs, to: ts });
    if (speed) {
      const bars = await this.speed.bars(symbol, '1m', speed, 100_000);
      const last = bars.at(-1);
      if (last) return last.close;
    }
    if (!lake) return undefined;
    const result = await this.tables.bars1m.queryColumns({
      columns: ['ts', 'close'],
      filters: lakeFilters(symbol, lake),
      orderBy: [{ column: 'ts', desc: true }],
      limit: 1,
    });
    if (result.length === 0) return undefined;
    return Number((result.columns.close as { values: ArrayLike<unknown> }).values[0]);
  }

  /** `factors` adjusts prices and sizes as in `bars`: in DuckDB below the watermark. */
  async trades(
    symbol: string,
    range: TimeRange,
    limit: number,
    trace?: ReadTrace,
    factors?: readonly FactorSpan[],
  ): Promise<ServedTrade[]> {
    const { lake, speed } = this.split(range);
    if (speed && trace) trace.speed = true;
    const fromLake = lake
      ? (await this.lakeTrades(symbol, lake, limit, factors)).map(tradeFromRow)
      : [];
    const room = limit - fromLake.length;
    const fromSpeed = speed && room > 0 ? await this.speed.trades(symbol, speed, room) : [];
    return [
      ...fromLake.map((trade) => ({ ...trade, source: 'LAKE' as const })),
      ...fromSpeed.map((trade) => {
        const span = factors && spanAt(factors, trade.ts);
        return span
          ? {
              ...trade,
              price: trade.price * span.price,
              size: trade.size * span.volume,
              source: 'SPEED' as const,
            }
          : { ...trade, source: 'SPEED' as const };
      }),
    ];
  }

  private async lakeTrades(
    symbol: string,
    range: TimeRange,
    limit: number,
    factors: readonly FactorSpan[] | undefined,
  ): Promise<Record<string, unknown>[]> {
    if (!factors) return this.queryLake(this.tables.trades, symbol, range, limit, TRADE_ORDER);
    const result = await this.tables.trades.query({
      columns: TRADE_COLUMNS,
      filters: lakeFilters(symbol, range),
      orderBy: TRADE_ORDER,
      limit,
      aggregate: adjustedTradesSql(factors),
    });
    return result.rows;
  }

  /** The bar (1m or 1s) with the latest start: live, so always the speed store's. */
  async currentBar(
    symbol: string,
    interval: LiveBarInterval = '1m',
  ): Promise<ServedBar | Bar | undefined> {
    if (interval === '1s' || interval === '1m') return this.speed.currentBar(symbol, interval);
    // A rolled-up length: the bucket of the latest minute, as a query of that bucket answers
    // it (lake below the watermark, the speed store's minutes above), not adjusted, as the
    // live bars are not. Its vwap combines the parts' vwap·volume, so it may differ from the
    // speed layer's exact roll-up in the last bit; the live updates that follow are exact.
    const latest = await this.speed.currentBar(symbol, '1m');
    if (latest === undefined) return undefined;
    const bucket = liveBucketOf(interval, latest.ts, this.calendar ?? ALWAYS_OPEN);
    if (bucket === undefined) return undefined;
    const [bar] = await this.barsOf(
      symbol,
      interval,
      { from: bucket.label, to: bucket.label + 1 },
      1,
    );
    return bar;
  }

  /** The part of a range each layer serves; either may be empty. */
  private split(range: TimeRange): { lake?: TimeRange; speed?: TimeRange } {
    const watermark = this.watermark();
    if (watermark === undefined) return { speed: range };
    const lakeTo = Math.min(range.to, watermark);
    const speedFrom = Math.max(range.from, watermark);
    return {
      ...(range.from < lakeTo ? { lake: { from: range.from, to: lakeTo } } : {}),
      ...(speedFrom < range.to ? { speed: { from: speedFrom, to: range.to } } : {}),
    };
  }

  private async queryLake(
    table: DeltaTable,
    symbol: string,
    range: TimeRange,
    limit: number,
    orderBy: readonly { column: string }[],
  ): Promise<Record<string, unknown>[]> {
    const filters = lakeFilters(symbol, range);
    const result = await table.query({ filters, orderBy, limit });
    return result.rows;
  }
}

/** Partition filters on `date` let the lake prune whole days before it reads stats. */
function lakeFilters(symbol: string, range: TimeRange): Filter[] {
  return [
    { column: 'date', op: '>=', value: utcDate(range.from) },
    { column: 'date', op: '<=', value: utcDate(range.to - 1) },
    { column: 'symbol', op: '=', value: symbol },
    // Epoch µs: the lake takes a number for a timestamp as epoch µs.
    { column: 'ts', op: '>=', value: range.from },
    { column: 'ts', op: '<', value: range.to },
  ];
}

/**
 * Served bars from the columns of a bars_1m read (every column non-null by schema);
 * timestamps arrive as epoch µs, the domain's unit.
 */
function barsFromColumns(
  symbol: string,
  result: ColumnarQueryResult,
  interval: QueryBarInterval = '1m',
): ServedBar[] {
  const column = (name: string): ArrayLike<unknown> =>
    (result.columns[name] as { values: ArrayLike<unknown> }).values;
  const ts = column('ts');
  const open = column('open');
  const high = column('high');
  const low = column('low');
  const close = column('close');
  const volume = column('volume');
  const vwap = column('vwap');
  const count = column('trade_count');
  const bars = new Array<ServedBar>(result.length);
  for (let i = 0; i < result.length; i++) {
    bars[i] = {
      symbol,
      interval,
      ts: columnMicros(ts[i]),
      open: Number(open[i]),
      high: Number(high[i]),
      low: Number(low[i]),
      close: Number(close[i]),
      volume: Number(volume[i]),
      vwap: Number(vwap[i]),
      tradeCount: Number(count[i]),
      source: 'LAKE',
    };
  }
  return bars;
}

/** A timestamp of a columnar read: epoch µs, or a LakeTimestamp beyond ±(2^53−1) µs. */
function columnMicros(value: unknown): number {
  return typeof value === 'number' ? value : toMicros(value);
}

const BAR_ORDER = [{ column: 'ts' }];
const TRADE_COLUMNS = ['symbol', 'ts', 'seq', 'price', 'size', 'id', 'exchange', 'ts_nanos'];

/** The span holding `ts` (the spans cover the time line). */
function spanAt(spans: readonly FactorSpan[], ts: number): FactorSpan | undefined {
  return spans.find((s) => ts >= s.from && ts < s.to);
}

/**
 * A speed-layer bar adjusted by the factors of the span its start lies in: each value one
 * IEEE-754 double multiplication, as the lake's rows are multiplied in DuckDB.
 */
function adjustBar<B extends Bar | ServedBar>(
  bar: B,
  factors: readonly FactorSpan[] | undefined,
): B {
  const span = factors && spanAt(factors, bar.ts);
  if (!span) return bar;
  return {
    ...bar,
    open: bar.open * span.price,
    high: bar.high * span.price,
    low: bar.low * span.price,
    close: bar.close * span.price,
    volume: bar.volume * span.volume,
    vwap: bar.vwap * span.price,
  };
}
/** A symbol's trades in their total order, (ts, seq) (docs/time.md). */
const TRADE_ORDER = [{ column: 'ts' }, { column: 'seq' }];

/** Epoch µs of a lake timestamp (the domain's range: always a safe integer). */
function toMicros(value: unknown): number {
  const micros = value instanceof LakeTimestamp ? value.epochMicros : undefined;
  if (micros === undefined) throw new Error(`lake row ts ${String(value)} is not a domain time`);
  return micros;
}

function tradeFromRow(row: Record<string, unknown>): Trade {
  return {
    symbol: String(row.symbol),
    ts: toMicros(row.ts),
    // NULL in rows written before `seq` existed: they keep their ts order.
    seq: Number(row.seq ?? 0),
    price: Number(row.price),
    size: Number(row.size),
    id: String(row.id),
    exchange: String(row.exchange ?? ''),
    // The source's nanoseconds when it gave them (a nullable column: docs/time.md).
    ...(row.ts_nanos === null || row.ts_nanos === undefined
      ? {}
      : { tsNanos: BigInt(row.ts_nanos as bigint | number | string) }),
  };
}

/** Most speed-store rows one bar read takes (the speed layer holds hours, not years). */
const SPEED_READ_LIMIT = 1_000_000;
/** The first window of event time a lake page of trades reads (see `tradesPage`). */
const PAGE_WINDOW_US = 60_000_000;
/**
 * How far before its first trade the speed part of `tradesWithQuote` looks for the
 * prevailing quote in the store: the eviction margin below the watermark (src/app.ts).
 */
const SPEED_QUOTE_LOOKBACK_US = 5 * 60_000_000;

/** A bar's span: it starts at `label` and holds the rows in [open, close). */
interface Bucket {
  readonly label: number;
  readonly open: number;
  readonly close: number;
}

function labelOf(session: Session): number {
  return Date.parse(`${session.date}T00:00:00Z`) * 1000;
}

function sessionOf(bucket: Bucket): Session {
  return { date: utcDate(bucket.label), open: bucket.open, close: bucket.close };
}

/** The label of the session a minute falls in, or undefined outside every session. */
function sessionLabeller(buckets: readonly Bucket[]): (ts: number) => number | undefined {
  return (ts) => buckets.find((b) => ts >= b.open && ts < b.close)?.label;
}

/**
 * Two consecutive parts of one bucket as one bar (the watermark split it): the vwap is
 * recombined from each part's vwap·volume, exact only to within an ulp or two.
 */
function combineBars(a: ServedBar, b: ServedBar): ServedBar {
  const volume = a.volume + b.volume;
  return {
    ...a,
    high: Math.max(a.high, b.high),
    low: Math.min(a.low, b.low),
    close: b.close,
    volume,
    vwap: volume > 0 ? (a.vwap * a.volume + b.vwap * b.volume) / volume : b.close,
    tradeCount: a.tradeCount + b.tradeCount,
    source: a.source === b.source ? a.source : 'SPEED',
  };
}

/** The snapshot a time-travelling read names, or undefined for the latest. */
async function snapshotAt(
  table: DeltaTable,
  asOf: LakeAsOf | undefined,
): Promise<Snapshot | undefined> {
  if (!asOf) return undefined;
  if (asOf.version !== undefined && asOf.time !== undefined) {
    throw new AlphalakeError('BAD_USER_INPUT', 'name asOfVersion or asOfTime, not both');
  }
  if (asOf.version !== undefined) {
    if (!Number.isInteger(asOf.version) || asOf.version < 0) {
      throw new AlphalakeError('BAD_USER_INPUT', 'asOfVersion must be a non-negative integer', {
        asOfVersion: asOf.version,
      });
    }
    return table.snapshot({ version: asOf.version });
  }
  if (asOf.time !== undefined) return table.snapshot({ timestamp: new Date(asOf.time / 1000) });
  return undefined;
}

/** When commit `version` of `table` was made, epoch µs (undefined if its file is gone). */
async function commitTimeOf(table: DeltaTable, version: number): Promise<number | undefined> {
  const entry = (await table.history()).find((h) => h.version === version);
  return entry && entry.timestamp.getTime() * 1000;
}

/** Σ price·size in the trades' order, Σ size and the count, in one DuckDB aggregate. */
const VWAP_SQL: AggregateSql = {
  output: [
    { name: 'notional', type: 'double', nullable: true },
    { name: 'volume', type: 'long', nullable: true },
    { name: 'trade_count', type: 'long', nullable: true },
  ],
  sql: () =>
    'SELECT sum(price * size ORDER BY ts, coalesce(seq, 0)) AS notional, sum(size) AS volume, ' +
    'count(*) AS trade_count FROM scan',
};

const TRADE_PAGE_ORDER = [{ column: 'ts' }, { column: 'seq' }, { column: 'id' }];
const QUOTE_PAGE_ORDER = [
  { column: 'ts' },
  { column: 'bid_price' },
  { column: 'bid_size' },
  { column: 'ask_price' },
  { column: 'ask_size' },
];

const TRADE_PAGE_OUTPUT = TRADES_TABLE.schema.filter((c) =>
  ['ts', 'seq', 'price', 'size', 'id', 'exchange', 'ts_nanos'].includes(c.name),
);
const QUOTE_PAGE_OUTPUT = QUOTES_TABLE.schema.filter((c) => !['symbol', 'date'].includes(c.name));

/** Trades after a key in (ts, seq, id) order: a row-value comparison in DuckDB. */
function tradesAfterSql(after: TradeKey | undefined): AggregateSql {
  return {
    output: TRADE_PAGE_OUTPUT,
    sql: (param) =>
      `SELECT ts, coalesce(seq, 0) AS seq, price, size, id, exchange, ts_nanos FROM scan` +
      (after
        ? ` WHERE (epoch_us(ts), coalesce(seq, 0), id) > (CAST(${param(after[0])} AS BIGINT), CAST(${param(after[1])} AS BIGINT), CAST(${param(after[2])} AS VARCHAR))`
        : ''),
  };
}

function quotesAfterSql(after: QuoteKey | undefined): AggregateSql {
  return {
    output: QUOTE_PAGE_OUTPUT,
    sql: (param) =>
      `SELECT ts, bid_price, bid_size, ask_price, ask_size FROM scan` +
      (after
        ? ` WHERE (epoch_us(ts), bid_price, bid_size, ask_price, ask_size) > (CAST(${param(after[0])} AS BIGINT), CAST(${param(after[1])} AS DOUBLE), CAST(${param(after[2])} AS BIGINT), CAST(${param(after[3])} AS DOUBLE), CAST(${param(after[4])} AS BIGINT))`
        : ''),
  };
}

/** The newest quote of each symbol of the scan (QUALIFY: DuckDB's filter on a window). */
const LATEST_QUOTE_PER_SYMBOL: AggregateSql = {
  output: QUOTES_TABLE.schema.filter((c) => c.name !== 'date'),
  sql: () =>
    'SELECT symbol, ts, bid_price, bid_size, ask_price, ask_size FROM scan ' +
    'QUALIFY row_number() OVER (PARTITION BY symbol ' +
    'ORDER BY ts DESC, bid_price DESC, bid_size DESC, ask_price DESC, ask_size DESC) = 1',
};

const TRADE_WITH_QUOTE_OUTPUT = [
  ...TRADE_PAGE_OUTPUT,
  { name: 'q_ts', type: 'timestamp', nullable: true },
  ...QUOTE_PAGE_OUTPUT.filter((c) => c.name !== 'ts').map((c) => ({ ...c, nullable: true })),
] as const satisfies readonly ColumnSpec[];

/**
 * The as-of join: each trade of the scan with the latest quote of the symbol at or
 * before its time (DuckDB's ASOF LEFT JOIN, `t.ts >= q.ts`: the greatest such `q.ts`).
 */
function tradesWithQuoteSql(
  symbol: string,
  after: TradeKey | undefined,
  quotes: string | undefined,
): AggregateSql {
  const page = tradesAfterSql(after);
  return {
    output: TRADE_WITH_QUOTE_OUTPUT,
    sql: (param) => {
      const trades = page.sql(param);
      const quoteRows = quotes
        ? `SELECT CAST(ts AS TIMESTAMPTZ) AS q_ts, bid_price, bid_size, ask_price, ask_size ` +
          `FROM ${quotes} WHERE symbol = ${param(symbol)}`
        : `SELECT CAST(NULL AS TIMESTAMPTZ) AS q_ts, CAST(NULL AS DOUBLE) AS bid_price, ` +
          `CAST(NULL AS BIGINT) AS bid_size, CAST(NULL AS DOUBLE) AS ask_price, ` +
          `CAST(NULL AS BIGINT) AS ask_size WHERE false`;
      return (
        `SELECT t.ts, t.seq, t.price, t.size, t.id, t.exchange, t.ts_nanos, q.q_ts, q.bid_price, q.bid_size, ` +
        `q.ask_price, q.ask_size FROM (${trades}) AS t ASOF LEFT JOIN (${quoteRows}) AS q ` +
        `ON t.ts >= q.q_ts`
      );
    },
  };
}

export function keyOfTrade(trade: Trade): TradeKey {
  return [trade.ts, trade.seq, trade.id];
}

export function keyOfQuote(quote: Quote): QuoteKey {
  return [quote.ts, quote.bidPrice, quote.bidSize, quote.askPrice, quote.askSize];
}

function compareTradeKey(a: TradeKey, b: TradeKey): number {
  return a[0] - b[0] || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0);
}

function compareQuoteKey(a: QuoteKey, b: QuoteKey): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2] || a[3] - b[3] || a[4] - b[4];
}

function quoteFromRow(symbol: string, row: Record<string, unknown>): Quote {
  return {
    symbol,
    ts: toMicros(row.ts),
    bidPrice: Number(row.bid_price),
    bidSize: Number(row.bid_size),
    askPrice: Number(row.ask_price),
    askSize: Number(row.ask_size),
  };
}
