import {
  Arg,
  Args,
  Authorized,
  ArgsType,
  Ctx,
  Field,
  Int,
  Query,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql';
import type { Bar, Trade } from '../domain/index.js';
import { currentThenLive } from '../speed/index.js';
import type { ApiContext } from './context.js';
import { DateTimeScalar } from './scalars.js';
import { BarType, LakeStatusType, TradeType } from './types.js';

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

interface SubscribeData {
  args: { symbols: string[] };
  context: ApiContext;
}

/** Market data: history through the lambda view, live updates from the hub. */
@Resolver()
export class MarketResolver {
  @Authorized('viewer')
  @Query(() => [BarType], {
    description:
      '1-minute bars of a symbol in [from, to), oldest first: the lake below the watermark, the speed layer above it; adjusted for splits and dividends unless `adjusted: false`; through ticker changes (FB before 2022-06-09, META after). Defaults: the last 7 days up to now, at most 20000 bars.',
  })
  async bars(
    @Ctx() { services, settle }: ApiContext,
    @Args() range: RangeArgs,
  ): Promise<BarType[]> {
    const trace = { speed: false };
    const bars = (await services.market.bars(range, trace)).map(BarType.from);
    if (!trace.speed) settle?.();
    return bars;
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
    const trace = { speed: false };
    const trades = (await services.market.trades(range, trace)).map(TradeType.from);
    if (!trace.speed) settle?.();
    return trades;
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
    description: 'Live trades of the given symbols.',
    subscribe: ({ args, context }: SubscribeData) =>
      context.services.hub.subscribe('trade', context.services.market.checkSymbols(args.symbols)),
  })
  tradeStream(
    @Root() trade: Trade,
    @Arg('symbols', () => [String], { description: 'The tickers to follow.' })
    _symbols: string[],
  ): TradeType {
    return TradeType.from(trade);
  }

  @Authorized('viewer')
  @Subscription(() => BarType, {
    name: 'bars',
    description:
      "Live 1-minute bars of the given symbols: first each symbol's current bar from the speed store, then every change to one, pushed on every trade.",
    subscribe: ({ args, context }: SubscribeData) => {
      const { hub, market } = context.services;
      return currentThenLive(hub, market.checkSymbols(args.symbols), (symbol) =>
        market.currentBar(symbol),
      );
    },
  })
  barStream(
    @Root() bar: Bar,
    @Arg('symbols', () => [String], { description: 'The tickers to follow.' })
    _symbols: string[],
  ): BarType {
    return BarType.from(bar);
  }
}
