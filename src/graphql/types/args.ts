import { ArgsType, Field, Int } from 'type-graphql';
import type { LakeAsOf } from '../../batch/index.js';
import { DateTimeScalar } from './scalars.js';

/**
 * Arguments several fields take, declared once (type-graphql `@ArgsType` inheritance:
 * a subclass's arguments follow its parent's in the schema, so each chain below keeps
 * the argument order the fields always had).
 */

/** Time travel on a lake-backed market query. */
@ArgsType()
export class AsOfArgs {
  @Field(() => Int, {
    nullable: true,
    description:
      'Answer from this version of the table the query reads (bars 1m and coarser: silver.bars_1m; 1s bars, trades, tradesWithQuote: bronze.trades; quotes: bronze.quotes), the lake alone.',
  })
  asOfVersion?: number;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description:
      'Answer from the latest commit at or before this instant (every table read), the lake alone.',
  })
  asOfTime?: number;
}

/** One symbol's rows in [from, to), with time travel (`vwap`, and the pages below). */
@ArgsType()
export class SymbolRangeArgs extends AsOfArgs {
  @Field({ description: 'The ticker, e.g. `AAPL`.' })
  symbol!: string;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Inclusive start.' })
  from?: number;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Exclusive end.' })
  to?: number;
}

/** A page of a connection (`tradesConnection`, `quotes`, `tradesWithQuote`). */
@ArgsType()
export class PageArgs extends SymbolRangeArgs {
  @Field(() => Int, { nullable: true, description: 'Page size (default 100, max 10000).' })
  first?: number;

  @Field({ nullable: true, description: 'The `endCursor` of the previous page.' })
  after?: string;
}

/**
 * The snapshot of a lake table to describe (`lakeTables`, `lakeTable`); `asOfTime` first,
 * as the schema has always listed them.
 */
@ArgsType()
export class TableAsOfArgs {
  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'Describe the table at its latest commit at or before this instant.',
  })
  asOfTime?: number;

  @Field(() => Int, {
    nullable: true,
    description: 'Describe the table at this version (not with asOfTime).',
  })
  asOfVersion?: number;
}

/** The snapshot a market query's time-travel arguments name; undefined for the latest. */
export function asOfOf(args: AsOfArgs): LakeAsOf | undefined {
  if (args.asOfVersion === undefined && args.asOfTime === undefined) return undefined;
  return { version: args.asOfVersion ?? undefined, time: args.asOfTime ?? undefined };
}

/** The snapshot a table description asks for (both absent: the latest). */
export function tableAsOf(args: TableAsOfArgs): LakeAsOf {
  return { version: args.asOfVersion ?? undefined, time: args.asOfTime ?? undefined };
}
