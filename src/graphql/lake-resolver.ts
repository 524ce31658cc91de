import { GraphQLJSONObject } from 'graphql-scalars';
import { Arg, Authorized, Ctx, Field, Int, ObjectType, Query, Resolver } from 'type-graphql';
import type { LakeRows } from '../batch/index.js';
import type { ApiContext } from './context.js';

@ObjectType('LakeColumn', { description: 'A column of a Delta table.' })
export class LakeColumnType {
  @Field({ description: 'The column’s logical name.' })
  name!: string;

  @Field({ description: 'Delta type, e.g. `timestamp`, `decimal(38,18)`, `array<string>`.' })
  type!: string;

  @Field({ description: 'Whether the column may hold nulls.' })
  nullable!: boolean;
}

@ObjectType('LakeRows', { description: 'Rows of a Delta table under the lake root, exactly.' })
export class LakeRowsType {
  @Field({ description: 'The table folder under the lake root.' })
  table!: string;

  @Field(() => Int, { description: 'The table version read.' })
  version!: number;

  @Field(() => [LakeColumnType], { description: 'The table schema’s columns, in order.' })
  columns!: LakeColumnType[];

  @Field(() => [GraphQLJSONObject], {
    description:
      'One object per row, keyed by column: numbers as JSON numbers, longs beyond ±(2^53−1) and decimals as strings of their digits, timestamps as ISO 8601 with every microsecond, binary as base64 (docs/lake.md "JSON").',
  })
  rows!: Record<string, unknown>[];

  static from(rows: LakeRows): LakeRowsType {
    return Object.assign(new LakeRowsType(), {
      table: rows.table,
      version: rows.version,
      columns: rows.columns.map((c) => Object.assign(new LakeColumnType(), c)),
      rows: rows.rows,
    });
  }
}

/** Read access to the lake's tables, as they are stored. */
@Resolver()
export class LakeResolver {
  @Authorized('viewer')
  @Query(() => LakeRowsType, {
    description:
      'Rows of a Delta table under the lake root (a medallion name such as `bronze.trades`, or a relative folder), at its latest or a given version, at most `limit` (default 100, max 10000). A path outside the lake root is BAD_USER_INPUT.',
  })
  async lakeRows(
    @Ctx() { services }: ApiContext,
    @Arg('table', {
      description: 'A medallion name (`bronze.trades`) or a folder under the lake root.',
    })
    table: string,
    @Arg('version', () => Int, {
      nullable: true,
      description: 'The table version to read (time travel); the latest when absent.',
    })
    version?: number,
    @Arg('limit', () => Int, {
      nullable: true,
      description: 'At most this many rows (default 100, max 10000).',
    })
    limit?: number,
  ): Promise<LakeRowsType> {
    return LakeRowsType.from(await services.lake.rows({ table, version, limit }));
  }
}
