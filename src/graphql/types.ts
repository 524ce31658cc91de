import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { ServedBar, ServedTrade } from '../batch/index.js';
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
