import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { ServedBar, ServedTrade } from '../../batch/index.js';
import type { Quote } from '../../domain/index.js';
import { DateTimeScalar } from './scalars.js';
import { GraphQLSafeInt } from 'graphql-scalars';

export enum ViewSourceEnum {
  LAKE = 'LAKE',
  SPEED = 'SPEED',
}

registerEnumType(ViewSourceEnum, {
  name: 'ViewSource',
  description: 'Which layer of the lambda view served a row.',
  valuesConfig: {
    LAKE: { description: 'The batch layer: a Delta table, below the watermark.' },
    SPEED: { description: 'The speed layer, at or above the watermark.' },
  },
});

// simpleResolvers: these fields are plain properties with no middleware or auth of their
// own, so graphql-js reads them directly instead of through type-graphql's per-field
// wrapper (most of the execution time of a list of thousands of bars).
@ObjectType('Trade', { description: 'One print on the tape.', simpleResolvers: true })
export class TradeType {
  @Field({ description: 'The ticker traded.' })
  symbol!: string;

  @Field(() => DateTimeScalar, { description: 'Event time (microseconds kept).' })
  ts!: number;

  @Field(() => GraphQLSafeInt, {
    description:
      'Event time as an exact integer of epoch microseconds (a JSON number every client reads exactly until 2255).',
  })
  tsMicros!: number;

  @Field(() => GraphQLSafeInt, {
    description:
      "The source's sequence number of this trade for its symbol: a symbol's trades are ordered by (ts, seq).",
  })
  seq!: number;

  @Field(() => Float, { description: 'Price per share.' })
  price!: number;

  @Field(() => Float, { description: 'Shares.' })
  size!: number;

  @Field({ description: 'The source’s id of the trade, unique per symbol.' })
  id!: string;

  @Field({ description: 'Exchange (MIC) where it printed.' })
  exchange!: string;

  @Field(() => String, {
    nullable: true,
    description:
      "The source's event time in epoch nanoseconds, as a decimal string (bronze.trades.ts_nanos), when the source gave nanoseconds; null otherwise.",
  })
  tsNanos?: string | undefined;

  @Field(() => ViewSourceEnum, { nullable: true, description: 'Null on live subscriptions.' })
  source?: ViewSourceEnum | undefined;

  static from(trade: Omit<ServedTrade, 'source'> & { source?: ServedTrade['source'] }): TradeType {
    return Object.assign(new TradeType(), {
      ...trade,
      tsMicros: trade.ts,
      tsNanos: trade.tsNanos === undefined ? undefined : String(trade.tsNanos),
      source: trade.source as ViewSourceEnum | undefined,
    });
  }
}

@ObjectType('Bar', {
  description: 'Open, high, low, close and volume of the trades in [ts, ts + interval).',
  simpleResolvers: true,
})
export class BarType {
  @Field({ description: 'The ticker.' })
  symbol!: string;

  @Field({ description: 'Bar length, e.g. `1m`.' })
  interval!: string;

  @Field(() => DateTimeScalar, { description: 'Start of the interval.' })
  ts!: number;

  @Field(() => GraphQLSafeInt, {
    description: 'Start of the interval as an exact integer of epoch microseconds.',
  })
  tsMicros!: number;

  @Field(() => Float, { description: 'Price of the first trade in the interval.' })
  open!: number;

  @Field(() => Float, { description: 'Highest trade price in the interval.' })
  high!: number;

  @Field(() => Float, { description: 'Lowest trade price in the interval.' })
  low!: number;

  @Field(() => Float, { description: 'Price of the last trade in the interval.' })
  close!: number;

  @Field(() => Float, { description: 'Shares traded in the interval.' })
  volume!: number;

  @Field(() => Float, { description: 'Volume-weighted average price.' })
  vwap!: number;

  @Field(() => Int, { description: 'Trades in the interval.' })
  tradeCount!: number;

  @Field(() => ViewSourceEnum, { nullable: true, description: 'Null on live subscriptions.' })
  source?: ViewSourceEnum | undefined;

  static from(bar: Omit<ServedBar, 'source'> & { source?: ServedBar['source'] }): BarType {
    return Object.assign(new BarType(), {
      ...bar,
      tsMicros: bar.ts,
      source: bar.source as ViewSourceEnum | undefined,
    });
  }
}

@ObjectType('LiveBar', {
  description:
    'A bar pushed by the `bars` subscription: the fields of `Bar`, and whether its interval has ended.',
  simpleResolvers: true,
})
export class LiveBarType extends BarType {
  @Field({
    description:
      "True on the push that says the bar's interval has ended — the first trade of a later interval of its symbol arrived, or the lake's watermark passed its end — carrying the bar's final state (a late trade restates it, still true); false while it may change. A subscriber's first bar, read from the store, is false.",
  })
  closed!: boolean;

  static fromLive(
    bar: Omit<ServedBar, 'source' | 'interval'> & { interval: string; closed?: boolean },
  ): LiveBarType {
    return Object.assign(new LiveBarType(), {
      ...bar,
      tsMicros: bar.ts,
      source: undefined,
      closed: bar.closed === true,
    });
  }
}

@ObjectType('LakeStatus', { description: 'Where the batch layer stands.' })
export class LakeStatusType {
  @Field(() => DateTimeScalar, {
    nullable: true,
    description:
      'Event time up to which the lake is complete; the speed layer serves from here on.',
  })
  watermark?: number | undefined;

  @Field(() => GraphQLSafeInt, {
    nullable: true,
    description: 'The watermark as an exact integer of epoch microseconds.',
  })
  watermarkMicros?: number | undefined;
}

@ObjectType('Quote', {
  description: 'The best bid and offer at an instant.',
  simpleResolvers: true,
})
export class QuoteType {
  @Field({ description: 'The ticker quoted.' })
  symbol!: string;

  @Field(() => DateTimeScalar, { description: 'Event time (microseconds kept).' })
  ts!: number;

  @Field(() => GraphQLSafeInt, { description: 'Event time as an exact integer of epoch µs.' })
  tsMicros!: number;

  @Field(() => Float, { description: 'Best bid price per share.' })
  bidPrice!: number;

  @Field(() => Float, { description: 'Shares.' })
  bidSize!: number;

  @Field(() => Float, { description: 'Best offer (ask) price per share.' })
  askPrice!: number;

  @Field(() => Float, { description: 'Shares.' })
  askSize!: number;

  @Field(() => ViewSourceEnum, { nullable: true, description: 'Null on live subscriptions.' })
  source?: ViewSourceEnum | undefined;

  static from(quote: Quote & { source?: 'LAKE' | 'SPEED' }): QuoteType {
    return Object.assign(new QuoteType(), {
      ...quote,
      tsMicros: quote.ts,
      source: quote.source as ViewSourceEnum | undefined,
    });
  }
}

@ObjectType('PageInfo', { description: 'Relay connection paging.' })
export class PageInfoType {
  @Field({ description: 'Whether rows follow the last edge (ask again with `after: endCursor`).' })
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true, description: 'The cursor of the last edge.' })
  endCursor?: string | undefined;
}

@ObjectType('TradeEdge', { description: 'A trade and its cursor.', simpleResolvers: true })
export class TradeEdgeType {
  @Field({ description: "Opaque and stable: the trade's place in (ts, seq, id) order." })
  cursor!: string;

  @Field(() => TradeType, { description: 'The trade.' })
  node!: TradeType;
}

@ObjectType('TradeConnection', { description: 'A page of trades in (ts, seq, id) order.' })
export class TradeConnectionType {
  @Field(() => [TradeEdgeType], { description: 'The page, in order.' })
  edges!: TradeEdgeType[];

  @Field(() => PageInfoType, { description: 'Whether more follow, and where to resume.' })
  pageInfo!: PageInfoType;
}

@ObjectType('QuoteEdge', { description: 'A quote and its cursor.', simpleResolvers: true })
export class QuoteEdgeType {
  @Field({ description: "Opaque and stable: the quote's place in its order." })
  cursor!: string;

  @Field(() => QuoteType, { description: 'The quote.' })
  node!: QuoteType;
}

@ObjectType('QuoteConnection', {
  description: 'A page of quotes in (ts, bidPrice, bidSize, askPrice, askSize) order.',
})
export class QuoteConnectionType {
  @Field(() => [QuoteEdgeType], { description: 'The page, in order.' })
  edges!: QuoteEdgeType[];

  @Field(() => PageInfoType, { description: 'Whether more follow, and where to resume.' })
  pageInfo!: PageInfoType;
}

@ObjectType('TradeWithQuote', {
  description: 'A trade and the quote prevailing at its time.',
  simpleResolvers: true,
})
export class TradeWithQuoteType {
  @Field(() => TradeType, { description: 'The trade, as stored.' })
  trade!: TradeType;

  @Field(() => QuoteType, {
    nullable: true,
    description: 'The latest quote at or before the trade; null when none precedes it.',
  })
  quote?: QuoteType | undefined;
}

@ObjectType('TradeWithQuoteEdge', {
  description: 'A trade with its quote, and its cursor.',
  simpleResolvers: true,
})
export class TradeWithQuoteEdgeType {
  @Field({ description: "Opaque and stable: the trade's place in (ts, seq, id) order." })
  cursor!: string;

  @Field(() => TradeWithQuoteType, { description: 'The trade and its prevailing quote.' })
  node!: TradeWithQuoteType;
}

@ObjectType('TradeWithQuoteConnection', {
  description: 'A page of trades with their prevailing quotes, in (ts, seq, id) order.',
})
export class TradeWithQuoteConnectionType {
  @Field(() => [TradeWithQuoteEdgeType], { description: 'The page, in order.' })
  edges!: TradeWithQuoteEdgeType[];

  @Field(() => PageInfoType, { description: 'Whether more follow, and where to resume.' })
  pageInfo!: PageInfoType;
}

/** A page as a Relay connection: edges, and pageInfo with the last cursor. */
export function connectionOf<T, N, C>(
  page: { rows: readonly { cursor: string; node: T }[]; hasNextPage: boolean },
  node: (row: T) => N,
  make: () => C,
): C {
  const edges = page.rows.map((row) => ({ cursor: row.cursor, node: node(row.node) }));
  return Object.assign(make() as object, {
    edges,
    pageInfo: Object.assign(new PageInfoType(), {
      hasNextPage: page.hasNextPage,
      endCursor: edges[edges.length - 1]?.cursor,
    }),
  }) as C;
}
