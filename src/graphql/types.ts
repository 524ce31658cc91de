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
