import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { ServedBar, ServedTrade } from '../batch/index.js';
import type { Quote } from '../domain/index.js';
import type { SymbolInfo } from '../domain/index.js';
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

@ObjectType('Symbol', { description: 'A ticker known to master data.' })
export class SymbolType {
  @Field()
  symbol!: string;

  @Field()
  name!: string;

  @Field({ description: 'Primary listing exchange (MIC).' })
  exchange!: string;

  @Field()
  currency!: string;

  @Field()
  active!: boolean;

  static from(info: SymbolInfo): SymbolType {
    return Object.assign(new SymbolType(), info);
  }
}

// simpleResolvers: these fields are plain properties with no middleware or auth of their
// own, so graphql-js reads them directly instead of through type-graphql's per-field
// wrapper (most of the execution time of a list of thousands of bars).
@ObjectType('Trade', { description: 'One print on the tape.', simpleResolvers: true })
export class TradeType {
  @Field()
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

  @Field(() => Float)
  price!: number;

  @Field(() => Float, { description: 'Shares.' })
  size!: number;

  @Field()
  id!: string;

  @Field()
  exchange!: string;

  @Field(() => ViewSourceEnum, { nullable: true, description: 'Null on live subscriptions.' })
  source?: ViewSourceEnum | undefined;

  static from(trade: Omit<ServedTrade, 'source'> & { source?: ServedTrade['source'] }): TradeType {
    return Object.assign(new TradeType(), {
      ...trade,
      tsMicros: trade.ts,
      source: trade.source as ViewSourceEnum | undefined,
    });
  }
}

@ObjectType('Bar', {
  description: 'Open, high, low, close and volume of the trades in [ts, ts + interval).',
  simpleResolvers: true,
})
export class BarType {
  @Field()
  symbol!: string;

  @Field({ description: 'Bar length, e.g. `1m`.' })
  interval!: string;

  @Field(() => DateTimeScalar, { description: 'Start of the interval.' })
  ts!: number;

  @Field(() => GraphQLSafeInt, {
    description: 'Start of the interval as an exact integer of epoch microseconds.',
  })
  tsMicros!: number;

  @Field(() => Float)
  open!: number;

  @Field(() => Float)
  high!: number;

  @Field(() => Float)
  low!: number;

  @Field(() => Float)
  close!: number;

  @Field(() => Float)
  volume!: number;

  @Field(() => Float, { description: 'Volume-weighted average price.' })
  vwap!: number;

  @Field(() => Int)
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
  @Field()
  symbol!: string;

  @Field(() => DateTimeScalar, { description: 'Event time (microseconds kept).' })
  ts!: number;

  @Field(() => GraphQLSafeInt, { description: 'Event time as an exact integer of epoch µs.' })
  tsMicros!: number;

  @Field(() => Float)
  bidPrice!: number;

  @Field(() => Float, { description: 'Shares.' })
  bidSize!: number;

  @Field(() => Float)
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

@ObjectType('TradeEdge', { simpleResolvers: true })
export class TradeEdgeType {
  @Field({ description: "Opaque and stable: the trade's place in (ts, seq, id) order." })
  cursor!: string;

  @Field(() => TradeType)
  node!: TradeType;
}

@ObjectType('TradeConnection', { description: 'A page of trades in (ts, seq, id) order.' })
export class TradeConnectionType {
  @Field(() => [TradeEdgeType])
  edges!: TradeEdgeType[];

  @Field(() => PageInfoType)
  pageInfo!: PageInfoType;
}

@ObjectType('QuoteEdge', { simpleResolvers: true })
export class QuoteEdgeType {
  @Field({ description: "Opaque and stable: the quote's place in its order." })
  cursor!: string;

  @Field(() => QuoteType)
  node!: QuoteType;
}

@ObjectType('QuoteConnection', {
  description: 'A page of quotes in (ts, bidPrice, bidSize, askPrice, askSize) order.',
})
export class QuoteConnectionType {
  @Field(() => [QuoteEdgeType])
  edges!: QuoteEdgeType[];

  @Field(() => PageInfoType)
  pageInfo!: PageInfoType;
}

@ObjectType('TradeWithQuote', {
  description: 'A trade and the quote prevailing at its time.',
  simpleResolvers: true,
})
export class TradeWithQuoteType {
  @Field(() => TradeType)
  trade!: TradeType;

  @Field(() => QuoteType, {
    nullable: true,
    description: 'The latest quote at or before the trade; null when none precedes it.',
  })
  quote?: QuoteType | undefined;
}

@ObjectType('TradeWithQuoteEdge', { simpleResolvers: true })
export class TradeWithQuoteEdgeType {
  @Field()
  cursor!: string;

  @Field(() => TradeWithQuoteType)
  node!: TradeWithQuoteType;
}

@ObjectType('TradeWithQuoteConnection', {
  description: 'A page of trades with their prevailing quotes, in (ts, seq, id) order.',
})
export class TradeWithQuoteConnectionType {
  @Field(() => [TradeWithQuoteEdgeType])
  edges!: TradeWithQuoteEdgeType[];

  @Field(() => PageInfoType)
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
