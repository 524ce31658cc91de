import {
  Args,
  ArgsType,
  Authorized,
  Ctx,
  Field,
  Int,
  ObjectType,
  Query,
  Resolver,
} from 'type-graphql';
import type { Reject } from '../../ingest/index.js';
import type { ApiContext } from '../transport/context.js';
import { DateTimeScalar } from '../types/scalars.js';

@ObjectType('Reject', {
  description:
    'A record the ingest path kept out of the lake, from bronze.rejects: never dropped silently (docs/ingest.md lists the reasons).',
})
export class RejectType {
  @Field(() => DateTimeScalar, { description: 'When it was rejected.' })
  receivedAt!: number;

  @Field({ description: 'The source that produced it (`file:trades.csv.gz`, `simulator`, …).' })
  source!: string;

  @Field({ description: '`trade`, `quote`, `bar`, `news`, or `row` for an unreadable row.' })
  kind!: string;

  @Field({ description: 'Stable reason code, e.g. NEGATIVE_PRICE, MALFORMED_ROW, DUPLICATE.' })
  reason!: string;

  @Field({ description: 'The record as received: the raw row when the source has one.' })
  payload!: string;

  @Field(() => String, {
    nullable: true,
    description: 'What exactly was wrong, e.g. the column of a malformed row.',
  })
  detail?: string | undefined;

  static from(reject: Reject): RejectType {
    return Object.assign(new RejectType(), reject);
  }
}

@ArgsType()
class RejectsArgs {
  @Field(() => String, { nullable: true, description: 'Only this reason code.' })
  reason?: string;

  @Field(() => String, { nullable: true, description: 'Only this source.' })
  source?: string;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Rejected at or after.' })
  from?: number;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Rejected before.' })
  to?: number;

  @Field(() => Int, { nullable: true, description: 'At most this many (default 100, max 10000).' })
  limit?: number;
}

/** The rejects table, for whoever must explain a missing tick. */
@Resolver()
export class RejectsResolver {
  @Authorized('viewer')
  @Query(() => [RejectType], {
    description: 'Rejected records from bronze.rejects, newest first.',
  })
  async rejects(@Ctx() { services }: ApiContext, @Args() args: RejectsArgs): Promise<RejectType[]> {
    const query = Object.fromEntries(
      Object.entries(args).filter(([, value]) => value !== undefined && value !== null),
    );
    return (await services.rejects.list(query)).map(RejectType.from);
  }
}
