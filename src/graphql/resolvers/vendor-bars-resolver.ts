import { GraphQLSafeInt } from 'graphql-scalars';
import {
  Args,
  ArgsType,
  Authorized,
  Ctx,
  Field,
  Float,
  Int,
  ObjectType,
  Query,
  Resolver,
} from 'type-graphql';
import type { VendorBar } from '../../domain/index.js';
import type { ApiContext } from '../transport/context.js';
import { DateTimeScalar } from '../types/scalars.js';

@ObjectType('VendorBar', {
  description:
    'A bar as a vendor delivered it (bronze.vendor_bars): Polygon minute aggregates from flat files, REST aggregates, WebSocket `A`/`AM`, Yahoo daily bars. Not built from trades: compare with `bars`.',
  simpleResolvers: true,
})
export class VendorBarType {
  @Field({ description: 'The ticker the bar traded under.' })
  symbol!: string;

  @Field({ description: 'Bar length as delivered: `1s`, `1m` or `1d`.' })
  interval!: string;

  @Field(() => DateTimeScalar, { description: 'Start of the interval.' })
  ts!: number;

  @Field(() => GraphQLSafeInt, {
    description: 'Start of the interval as an exact integer of epoch microseconds.',
  })
  tsMicros!: number;

  @Field(() => Float, { description: 'Opening price.' })
  open!: number;

  @Field(() => Float, { description: 'Highest price.' })
  high!: number;

  @Field(() => Float, { description: 'Lowest price.' })
  low!: number;

  @Field(() => Float, { description: 'Closing price.' })
  close!: number;

  @Field(() => Float, { description: 'Volume as the vendor counts it.' })
  volume!: number;

  @Field(() => Float, {
    nullable: true,
    description:
      "The vendor's volume-weighted average price; null when it gives none (Polygon's flat-file minute aggregates).",
  })
  vwap?: number | undefined;

  @Field(() => Int, {
    nullable: true,
    description:
      "The vendor's trade count (Polygon's `n`, `transactions`; Yahoo's bars say 0); null when it gave none.",
  })
  transactions?: number | undefined;

  @Field({
    description: 'The ingest source that delivered it (`polygon-rest`, `file:…`, `yahoo`, …).',
  })
  source!: string;

  static from(bar: VendorBar): VendorBarType {
    return Object.assign(new VendorBarType(), {
      symbol: bar.symbol,
      interval: bar.interval,
      ts: bar.ts,
      tsMicros: bar.ts,
      open: bar.open,
      high: bar.high,
      low: bar.low,
      close: bar.close,
      volume: bar.volume,
      vwap: Number.isNaN(bar.vwap) ? undefined : bar.vwap,
      transactions: Number.isSafeInteger(bar.tradeCount) ? bar.tradeCount : undefined,
      source: bar.source,
    });
  }
}

@ArgsType()
class VendorBarsArgs {
  @Field({ description: 'The ticker, e.g. `AAPL` (through ticker changes, as `bars`).' })
  symbol!: string;

  @Field(() => String, {
    nullable: true,
    description: 'Only bars of this length: `1s`, `1m` or `1d`; every length when absent.',
  })
  interval?: string;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Inclusive start.' })
  from?: number;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Exclusive end.' })
  to?: number;

  @Field(() => String, {
    nullable: true,
    description: 'Only bars this ingest source delivered (e.g. `polygon-rest`).',
  })
  source?: string;

  @Field(() => Int, {
    nullable: true,
    description: 'At most this many bars (default 20000, max 100000).',
  })
  limit?: number;

  @Field({
    defaultValue: true,
    description:
      "Prices, vwap and volume adjusted for the symbol's splits and cash dividends (docs/mdm.md), as `bars`; false: the bars as stored.",
  })
  adjusted!: boolean;
}

/** Vendor bars from the lake. */
@Resolver()
export class VendorBarsResolver {
  @Authorized('viewer')
  @Query(() => [VendorBarType], {
    description:
      'Bars of a symbol as vendors delivered them (bronze.vendor_bars), whose start lies in [from, to), oldest first (then by interval and source), from the lake alone; adjusted for splits and dividends unless `adjusted: false`. Defaults: the last 7 days up to now, at most 20000 bars; costs `limit` against the query cost limit.',
  })
  async vendorBars(
    @Ctx() { services }: ApiContext,
    @Args() args: VendorBarsArgs,
  ): Promise<VendorBarType[]> {
    const bars = await services.market.vendorBars({
      symbol: args.symbol,
      interval: args.interval ?? undefined,
      source: args.source ?? undefined,
      from: args.from ?? undefined,
      to: args.to ?? undefined,
      limit: args.limit ?? undefined,
      adjusted: args.adjusted,
    });
    return bars.map(VendorBarType.from);
  }
}
