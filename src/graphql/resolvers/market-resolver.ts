import {
  Arg,
  Args,
  Authorized,
  ArgsType,
  Ctx,
  Field,
  Float,
  Int,
  ObjectType,
  Query,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql';
import type { ReadTrace } from '../../batch/index.js';
import { AlphalakeError, type Bar, type Quote, type Trade } from '../../domain/index.js';
import {
  currentThenLive,
  LIVE_BAR_INTERVALS,
  type LiveBar,
  type LiveBarInterval,
} from '../../speed/index.js';
import type { ApiContext } from '../transport/context.js';
import { DateTimeScalar } from '../types/scalars.js';
import { AsOfArgs, asOfOf, PageArgs, SymbolRangeArgs } from '../types/args.js';
import {
  BarType,
  LiveBarType,
  connectionOf,
  LakeStatusType,
  QuoteConnectionType,
  QuoteType,
  TradeConnectionType,
  TradeType,
  TradeWithQuoteConnectionType,
  TradeWithQuoteType,
} from '../types/market-types.js';

/** Which rows of one symbol a history query wants. */
@ArgsType()
class RangeArgs {
  @Field({ description: 'The ticker, e.g. `AAPL`.' })
  symbol!: string;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Inclusive start.' })
  from?: number;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Exclusive end.' })
  to?: number;

  @Field(() => Int, { nullable: true, description: 'At most this many rows (max 100000).' })
  limit?: number;

  @Field({
    defaultValue: true,
    description:
      "Prices and volumes adjusted for the symbol's splits and cash dividends (docs/mdm.md); false: the raw rows as stored.",
  })
  adjusted!: boolean;
}

@ArgsType()
class BarArgs extends AsOfArgs {
  @Field({ description: 'The ticker, e.g. `AAPL`.' })
  symbol!: string;

  @Field({
    defaultValue: '1m',
    description: 'Bar length: 1s, 1m, 5m, 15m, 30m, 1h or 1d (a trading session of the calendar).',
  })
  interval!: string;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Inclusive start.' })
  from?: number;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Exclusive end.' })
  to?: number;

  @Field(() => Int, { nullable: true, description: 'At most this many bars (max 100000).' })
  limit?: number;

  @Field({
    defaultValue: true,
    description:
      "Prices and volumes adjusted for the symbol's splits and cash dividends (docs/mdm.md), at every interval; false: the raw rows as stored.",
  })
  adjusted!: boolean;
}

@ArgsType()
class BarsManyArgs extends AsOfArgs {
  @Field(() => [String], { description: 'The tickers, e.g. `["AAPL", "MSFT"]`.' })
  symbols!: string[];

  @Field({ defaultValue: '1m', description: 'Bar length, as `bars`.' })
  interval!: string;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Inclusive start.' })
  from?: number;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Exclusive end.' })
  to?: number;

  @Field(() => Int, {
    nullable: true,
    description: 'At most this many bars per symbol (max 100000).',
  })
  limit?: number;

  @Field({
    defaultValue: true,
    description:
      "Prices and volumes adjusted for the symbol's splits and cash dividends (docs/mdm.md), at every interval; false: the raw rows as stored.",
  })
  adjusted!: boolean;
}

/** A page of quotes (alone or at each trade), which may be adjusted. */
@ArgsType()
class AdjustedPageArgs extends PageArgs {
  @Field({
    defaultValue: true,
    description:
      "Prices and sizes adjusted for the symbol's splits and cash dividends (docs/mdm.md), each row by the factors of its time; false: the raw rows as stored.",
  })
  adjusted!: boolean;
}
@ObjectType('Vwap', { description: "The volume-weighted average price of a symbol's trades." })
class VwapType {
  @Field({ description: 'The ticker asked for.' })
  symbol!: string;

  @Field(() => DateTimeScalar, { description: 'Inclusive start of the range.' })
  from!: number;

  @Field(() => DateTimeScalar, { description: 'Exclusive end of the range.' })
  to!: number;

  @Field(() => Float, { nullable: true, description: 'Null when no volume traded.' })
  vwap?: number | undefined;

  @Field(() => Float, { description: 'Σ size of the trades in the range.' })
  volume!: number;

  @Field(() => Int, { description: 'How many trades the range holds.' })
  tradeCount!: number;
}

@ObjectType('SymbolBars', { description: 'The bars of one symbol of a multi-symbol query.' })
export class SymbolBarsType {
  @Field({ description: 'The ticker asked for (normalized to upper case).' })
  symbol!: string;

  @Field(() => [BarType], { description: 'Its bars, as `bars` returns them.' })
  bars!: BarType[];
}

interface SubscribeData {
  args: { symbols: string[]; interval?: string };
  context: ApiContext;
}

/** Live bars are built by the speed layer at these lengths (1s, 1m, and roll-ups of 1m). */
function liveInterval(interval: string | undefined): LiveBarInterval {
  const value = interval ?? '1m';
  if (!(LIVE_BAR_INTERVALS as readonly string[]).includes(value)) {
    throw new AlphalakeError(
      'BAD_USER_INPUT',
      `live bars are ${LIVE_BAR_INTERVALS.join(', ')}, not ${JSON.stringify(value)}`,
      { interval: value },
    );
  }
  return value as LiveBarInterval;
}

/** Market data: history through the lambda view, live updates from the hub. */
/**
 * Runs a market read and marks the answer settled (cacheable by the response cache, keyed
 * by the data version) unless part of it came from the speed layer, which the read
 * reports through its trace.
 */
async function settledRead<T>(
  settle: (() => void) | undefined,
  read: (trace: ReadTrace) => Promise<T>,
): Promise<T> {
  const trace: ReadTrace = { speed: false };
  const result = await read(trace);
  if (!trace.speed) settle?.();
  return result;
}

@Resolver()
export class MarketResolver {
  @Authorized('viewer')
  @Query(() => [BarType], {
    description:
      'Bars of a symbol whose start lies in [from, to), oldest first, each complete: the lake below the watermark (rolled up in DuckDB), the speed layer above it; adjusted for splits and dividends at every interval unless `adjusted: false`; through ticker changes (FB before 2022-06-09, META after). Defaults: 1m, the last 7 days up to now, at most 20000 bars.',
  })
  async bars(@Ctx() { services, settle }: ApiContext, @Args() args: BarArgs): Promise<BarType[]> {
    const bars = await settledRead(settle, (trace) =>
      services.market.barsOf(
        {
          symbol: args.symbol,
          interval: args.interval,
          from: args.from,
          to: args.to,
          limit: args.limit,
          adjusted: args.adjusted,
          asOf: asOfOf(args),
        },
        trace,
      ),
    );
    return bars.map(BarType.from);
  }

  @Authorized('viewer')
  @Query(() => [SymbolBarsType], {
    description:
      'The bars of several symbols in one request, as `bars` for each — adjusted unless `adjusted: false`, through ticker changes — one lake read per symbol, run together, and one speed-layer read for them all. Costs `limit` × symbols against the query cost limit.',
  })
  async barsMany(
    @Ctx() { services, settle }: ApiContext,
    @Args() args: BarsManyArgs,
  ): Promise<SymbolBarsType[]> {
    const symbols = services.market.checkSymbols(args.symbols);
    // One read for all the symbols: the speed store is asked once (MarketData.barsManyOf).
    const all = await settledRead(settle, (trace) =>
      services.market.barsManyOf(
        {
          symbols,
          interval: args.interval,
          from: args.from,
          to: args.to,
          limit: args.limit,
          adjusted: args.adjusted,
          asOf: asOfOf(args),
        },
        trace,
      ),
    );
    return symbols.map((symbol, i) =>
      Object.assign(new SymbolBarsType(), { symbol, bars: all[i]!.map(BarType.from) }),
    );
  }

  @Authorized('viewer')
  @Query(() => TradeConnectionType, {
    description:
      'A page of trades of a symbol in [from, to) in (ts, seq, id) order, resuming after `after`: the lake below the watermark, the speed layer above it. The trades as stored (not adjusted: use `trades` for adjusted prices), through ticker changes.',
  })
  async tradesConnection(
    @Ctx() { services, settle }: ApiContext,
    @Args(() => PageArgs) args: PageArgs,
  ): Promise<TradeConnectionType> {
    const page = await settledRead(settle, (trace) =>
      services.market.tradesPage({ ...args, asOf: asOfOf(args) }, trace),
    );
    return connectionOf(page, TradeType.from, () => new TradeConnectionType());
  }

  @Authorized('viewer')
  @Query(() => QuoteConnectionType, {
    description:
      'A page of quotes of a symbol in [from, to), resuming after `after`: bronze.quotes below the watermark, the speed layer above it; adjusted for splits and dividends unless `adjusted: false`.',
  })
  async quotes(
    @Ctx() { services, settle }: ApiContext,
    @Args(() => AdjustedPageArgs) args: AdjustedPageArgs,
  ): Promise<QuoteConnectionType> {
    const page = await settledRead(settle, (trace) =>
      services.market.quotesPage({ ...args, asOf: asOfOf(args) }, trace),
    );
    return connectionOf(page, QuoteType.from, () => new QuoteConnectionType());
  }

  @Authorized('viewer')
  @Query(() => VwapType, {
    description:
      "Volume-weighted average price of a symbol's trades in [from, to): Σ price·size (summed in (ts, seq) order, in DuckDB below the watermark) / Σ size.",
  })
  async vwap(
    @Ctx() { services, settle }: ApiContext,
    @Args(() => SymbolRangeArgs) args: SymbolRangeArgs,
  ): Promise<VwapType> {
    const result = await settledRead(settle, (trace) =>
      services.market.vwap(
        { symbol: args.symbol, from: args.from, to: args.to, asOf: asOfOf(args) },
        trace,
      ),
    );
    return Object.assign(new VwapType(), result);
  }

  @Authorized('viewer')
  @Query(() => QuoteType, {
    nullable: true,
    description:
      "The symbol's latest quote: the speed layer's, else the lake's newest; adjusted for splits and dividends unless `adjusted: false`.",
  })
  async latestQuote(
    @Ctx() { loaders }: ApiContext,
    @Arg('symbol', { description: 'The ticker, e.g. `AAPL`.' }) symbol: string,
    @Arg('adjusted', {
      defaultValue: true,
      description: 'Adjusted for splits and cash dividends (docs/mdm.md); false: as stored.',
    })
    adjusted: boolean,
  ): Promise<QuoteType | undefined> {
    // Batched with every other latest quote of the request (execution/loaders.ts).
    const quote = await loaders.latestQuote.load({ symbol, adjusted });
    return quote && QuoteType.from(quote);
  }

  @Authorized('viewer')
  @Query(() => TradeWithQuoteConnectionType, {
    description:
      "A page of trades in [from, to) each with the prevailing quote (the latest at or before it): below the watermark joined in DuckDB with an ASOF JOIN of bronze.trades and bronze.quotes, above it the speed layer's trades and quotes; both adjusted for splits and dividends unless `adjusted: false`.",
  })
  async tradesWithQuote(
    @Ctx() { services, settle }: ApiContext,
    @Args(() => AdjustedPageArgs) args: AdjustedPageArgs,
  ): Promise<TradeWithQuoteConnectionType> {
    const page = await settledRead(settle, (trace) =>
      services.market.tradesWithQuote({ ...args, asOf: asOfOf(args) }, trace),
    );
    return connectionOf(
      page,
      (row) =>
        Object.assign(new TradeWithQuoteType(), {
          trade: TradeType.from(row.trade),
          quote: row.quote && QuoteType.from(row.quote),
        }),
      () => new TradeWithQuoteConnectionType(),
    );
  }

  @Authorized('viewer')
  @Query(() => [TradeType], {
    description:
      'Trades of a symbol in [from, to), oldest first, through the lambda view; adjusted for splits and dividends unless `adjusted: false`; through ticker changes. Defaults: the last 7 days up to now, at most 1000 trades.',
  })
  async trades(
    @Ctx() { services, settle }: ApiContext,
    @Args() range: RangeArgs,
  ): Promise<TradeType[]> {
    const trades = await settledRead(settle, (trace) => services.market.trades(range, trace));
    return trades.map(TradeType.from);
  }

  @Authorized('viewer')
  @Query(() => LakeStatusType, { description: 'The batch layer watermark.' })
  lakeStatus(@Ctx() { services, settle }: ApiContext): LakeStatusType {
    // The watermark is part of the data version a cached response is keyed by.
    settle?.();
    const watermark = services.watermark();
    return Object.assign(new LakeStatusType(), {
      watermark,
      watermarkMicros: watermark,
    });
  }

  @Authorized('viewer')
  @Subscription(() => TradeType, {
    name: 'trades',
    description:
      'Live trades of the given symbols (filtered on the server). A subscriber further behind than LIVE_QUEUE_LIMIT updates is closed with code 4010, reason SLOW_CONSUMER.',
    subscribe: ({ args, context }: SubscribeData) =>
      context.services.hub.subscribe('trade', context.services.market.checkSymbols(args.symbols), {
        onSlow: context.closeSlowConsumer,
      }),
  })
  tradeStream(
    @Root() trade: Trade,
    @Arg('symbols', () => [String], { description: 'The tickers to follow.' })
    _symbols: string[],
  ): TradeType {
    return TradeType.from(trade);
  }

  @Authorized('viewer')
  @Subscription(() => QuoteType, {
    name: 'quotes',
    description:
      'Live quotes of the given symbols (filtered on the server; SLOW_CONSUMER as `trades`).',
    subscribe: ({ args, context }: SubscribeData) =>
      context.services.hub.subscribe('quote', context.services.market.checkSymbols(args.symbols), {
        onSlow: context.closeSlowConsumer,
      }),
  })
  quoteStream(
    @Root() quote: Quote,
    @Arg('symbols', () => [String], { description: 'The tickers to follow.' })
    _symbols: string[],
  ): QuoteType {
    return QuoteType.from(quote);
  }

  @Authorized('viewer')
  @Subscription(() => LiveBarType, {
    name: 'bars',
    description:
      "Live bars of the given symbols at one length (1m; or 1s; or 5m, 15m, 30m, 1h, 1d rolled up from the live 1-minute bars by the lake's rules, 1d on the market's sessions): first each symbol's current bar, then every change to one, pushed on every trade, and once more with `closed: true` when its interval ends (the first trade of a later interval of the symbol, or the lake's watermark passing its end). Not adjusted (raw prices). SLOW_CONSUMER as `trades`.",
    subscribe: ({ args, context }: SubscribeData) => {
      const { hub, market } = context.services;
      const interval = liveInterval(args.interval);
      return currentThenLive(
        hub,
        market.checkSymbols(args.symbols),
        (symbol) => market.currentBar(symbol, interval),
        undefined,
        interval,
        context.closeSlowConsumer,
      );
    },
  })
  barStream(
    @Root() bar: Bar | LiveBar,
    @Arg('symbols', () => [String], { description: 'The tickers to follow.' })
    _symbols: string[],
    @Arg('interval', {
      defaultValue: '1m',
      description: 'Live bar length: 1s, 1m, 5m, 15m, 30m, 1h or 1d.',
    })
    _interval: string,
  ): LiveBarType {
    return LiveBarType.fromLive(bar);
  }
}
