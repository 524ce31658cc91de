import { GraphQLJSONObject, GraphQLSafeInt } from 'graphql-scalars';
import { Arg, Args, Authorized, Ctx, Field, Int, ObjectType, Query, Resolver } from 'type-graphql';
import type { LakeRows, LakeTableDetail, LakeTableInfo } from '../../batch/index.js';
import { DateTimeScalar } from '../types/scalars.js';
import { tableAsOf, TableAsOfArgs } from '../types/args.js';
import type { ApiContext } from '../transport/context.js';

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

@ObjectType('LakeTable', { description: 'A Delta table of the lake at one version.' })
export class LakeTableType {
  @Field({ description: 'Medallion name (`bronze.trades`), or the folder under the lake root.' })
  name!: string;

  @Field({ description: 'Where the table lives: the store and its path.' })
  location!: string;

  @Field(() => Int, { description: 'The version described.' })
  version!: number;

  @Field(() => [String], { description: 'The partition columns, in order (e.g. `date`).' })
  partitionColumns!: string[];

  @Field(() => GraphQLSafeInt, { description: 'Bytes of the live data files.' })
  sizeBytes!: number;

  @Field(() => Int, { description: 'Live data files.' })
  fileCount!: number;

  static from(info: LakeTableInfo): LakeTableType {
    return Object.assign(new LakeTableType(), info, {
      partitionColumns: [...info.partitionColumns],
    });
  }
}

@ObjectType('LakeCommit', { description: 'One commit of a Delta table (its commitInfo).' })
export class LakeCommitType {
  @Field(() => Int, { description: 'The version this commit made.' })
  version!: number;

  @Field(() => DateTimeScalar, { description: 'When it was committed (the commit file time).' })
  time!: number;

  @Field(() => String, { nullable: true, description: 'e.g. `WRITE`, `OPTIMIZE`, `VACUUM END`.' })
  operation?: string | undefined;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'operationMetrics, as written.' })
  metrics?: Record<string, unknown> | undefined;
}

@ObjectType('LakeTableDetail', { description: 'A table with its schema and history.' })
export class LakeTableDetailType extends LakeTableType {
  @Field(() => [LakeColumnType], { description: 'The schema’s columns at the version, in order.' })
  columns!: LakeColumnType[];

  @Field(() => [LakeCommitType], { description: 'Commits up to the version, newest first.' })
  history!: LakeCommitType[];

  static fromDetail(detail: LakeTableDetail): LakeTableDetailType {
    return Object.assign(new LakeTableDetailType(), LakeTableType.from(detail), {
      columns: detail.columns.map((c) => Object.assign(new LakeColumnType(), c)),
      history: detail.history.map((h) =>
        Object.assign(new LakeCommitType(), {
          version: h.version,
          time: h.timestamp.getTime() * 1000,
          operation: h.operation,
          metrics: h.operationMetrics as Record<string, unknown> | undefined,
        }),
      ),
    });
  }
}

/** Read access to the lake's tables, as they are stored. */
@Resolver()
export class LakeResolver {
  @Authorized('viewer')
  @Query(() => [LakeTableType], {
    description:
      "The platform's tables (bronze.trades, silver.bars_1m, bronze.quotes, bronze.rejects): location, version, partitioning, size and file count, at the latest version or as of a version or instant.",
  })
  async lakeTables(
    @Ctx() { services }: ApiContext,
    @Args(() => TableAsOfArgs) asOf: TableAsOfArgs,
  ): Promise<LakeTableType[]> {
    return (await services.lake.tables(tableAsOf(asOf))).map(LakeTableType.from);
  }

  @Authorized('viewer')
  @Query(() => LakeTableDetailType, {
    description:
      'One table (a medallion name or a folder under the lake root) with its schema and history from the Delta log, at the latest version or as of a version or instant.',
  })
  async lakeTable(
    @Ctx() { services }: ApiContext,
    @Arg('name', {
      description: 'A medallion name (`bronze.trades`) or a folder under the lake root.',
    })
    name: string,
    @Args(() => TableAsOfArgs) asOf: TableAsOfArgs,
  ): Promise<LakeTableDetailType> {
    return LakeTableDetailType.fromDetail(await services.lake.table(name, tableAsOf(asOf)));
  }

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
