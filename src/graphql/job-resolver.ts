import { GraphQLJSONObject, GraphQLSafeInt } from 'graphql-scalars';
import {
  Arg,
  Authorized,
  Ctx,
  Field,
  FieldResolver,
  Float,
  ID,
  Int,
  Mutation,
  ObjectType,
  Query,
  registerEnumType,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql';
import { AlphalakeError } from '../domain/index.js';
import type { JobEvent, JobKind, JobService, JobState, JobStatus } from '../jobs/index.js';
import type { ApiContext } from './context.js';
import { DateTimeScalar } from './scalars.js';

export enum JobKindEnum {
  SYNC = 'sync',
  COMPACT = 'compact',
  VACUUM = 'vacuum',
  CHECKPOINT = 'checkpoint',
  BACKFILL = 'backfill',
  REFRESH_MASTER_DATA = 'refreshMasterData',
  RETRAIN = 'retrain',
}

registerEnumType(JobKindEnum, {
  name: 'JobKind',
  description: 'What a job does (docs/jobs.md).',
  valuesConfig: {
    SYNC: { description: '`lake.sync`: commits what the stream has delivered to the lake.' },
    COMPACT: { description: '`lake.compact`: OPTIMIZE, small files bin-packed.' },
    VACUUM: { description: '`lake.vacuum`: files no version within the retention needs deleted.' },
    CHECKPOINT: { description: '`lake.checkpoint`: a Delta checkpoint of the latest version.' },
    BACKFILL: { description: '`backfill`: history from a source into the lake.' },
    REFRESH_MASTER_DATA: { description: '`mdm.refresh`: master data reloaded from its sources.' },
    RETRAIN: { description: '`ml.retrain`: a model trained again.' },
  },
});

export enum JobStateEnum {
  QUEUED = 'QUEUED',
  SCHEDULED = 'SCHEDULED',
  RUNNING = 'RUNNING',
  RETRYING = 'RETRYING',
  COMPLETED = 'COMPLETED',
  FAILED = 'FAILED',
  REPEATING = 'REPEATING',
  PAUSED = 'PAUSED',
}

registerEnumType(JobStateEnum, {
  name: 'JobState',
  description: 'Where a job is.',
  valuesConfig: {
    QUEUED: { description: 'Due: the next free worker runs it.' },
    SCHEDULED: { description: 'Due later (`nextRunAt`).' },
    RUNNING: { description: 'Locked by a worker and running.' },
    RETRYING: { description: 'Failed (`lastError`); another attempt is scheduled at `nextRunAt`.' },
    COMPLETED: { description: 'Finished without error.' },
    FAILED: { description: 'Failed for good: retries used up, or an error no retry can fix.' },
    REPEATING: { description: 'A cron schedule (`schedule`); each run updates it.' },
    PAUSED: { description: 'Disabled: no worker runs it.' },
  },
});

@ObjectType('JobEvent', { description: 'Something that happened to a job.' })
export class JobEventType {
  @Field(() => DateTimeScalar)
  at!: Date;

  @Field({ description: '`locked`, `start`, `success`, `fail`, `retry`, `retry:exhausted`, …' })
  event!: string;

  @Field()
  message!: string;

  @Field(() => String, { nullable: true })
  error!: string | null;

  @Field(() => String, { nullable: true, description: 'The worker it happened on.' })
  worker!: string | null;

  static from(event: JobEvent): JobEventType {
    return Object.assign(new JobEventType(), event);
  }
}

@ObjectType('Job', { description: 'A job: its request, where it is, its progress and last error.' })
export class JobType {
  @Field(() => ID)
  id!: string;

  @Field(() => JobKindEnum)
  kind!: JobKind;

  @Field(() => JobStateEnum)
  state!: JobState;

  @Field(() => Float, {
    nullable: true,
    description: 'Progress in percent (0–100) as last reported by the running job.',
  })
  percent!: number | null;

  @Field(() => GraphQLSafeInt, {
    nullable: true,
    description: 'Rows done so far (a backfill: trades that passed the ingest checks).',
  })
  rows!: number | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Reason of the last failure, e.g. `no model trainer is installed` for a retrain (code NOT_IMPLEMENTED).',
  })
  lastError!: string | null;

  @Field(() => Int)
  failCount!: number;

  @Field(() => String, {
    nullable: true,
    description: 'Who enqueued it; `schedule` for cron runs.',
  })
  requestedBy!: string | null;

  @Field(() => GraphQLJSONObject, { description: 'The request as enqueued (times in epoch µs).' })
  request!: Record<string, unknown>;

  @Field(() => String, { nullable: true, description: 'Cron expression (UTC) of a schedule.' })
  schedule!: string | null;

  @Field(() => DateTimeScalar, { nullable: true })
  nextRunAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  lastRunAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  lastFinishedAt!: Date | null;

  static from(status: JobStatus): JobType {
    return Object.assign(new JobType(), status, { request: { ...status.request } });
  }
}

@ObjectType('JobPage', { description: 'A page of jobs, newest first, and how many match.' })
export class JobPageType {
  @Field(() => [JobType])
  jobs!: JobType[];

  @Field(() => Int)
  total!: number;
}

function jobsOf(context: ApiContext): JobService {
  const jobs = context.services.jobs;
  if (!jobs) {
    throw new AlphalakeError(
      'UNAVAILABLE',
      'this process has no job store: jobs need the process that runs every role (embedded), or MONGODB_URI',
    );
  }
  return jobs;
}

/** Jobs: mutations enqueue them and answer with the job's id; queries and a subscription follow them. */
@Resolver(() => JobType)
export class JobResolver {
  @Authorized('analyst')
  @Mutation(() => ID, {
    description:
      'Enqueues a backfill of [from, to) (whole minutes, not past now) of the given symbols (empty: all the source has) from a backfill source (`simulator`); answers the job id. Follow it with `jobProgress`.',
  })
  async backfill(
    @Ctx() context: ApiContext,
    @Arg('source') source: string,
    @Arg('symbols', () => [String], { defaultValue: [] }) symbols: string[],
    @Arg('from', () => DateTimeScalar) from: number,
    @Arg('to', () => DateTimeScalar) to: number,
  ): Promise<string> {
    return (await jobsOf(context).enqueue('backfill', { source, symbols, from, to }, context.actor))
      .id;
  }

  @Authorized('analyst')
  @Mutation(() => ID, {
    description:
      'Enqueues compaction (OPTIMIZE) of a lake table (`silver.bars_1m`, …); answers the job id.',
  })
  async compact(@Ctx() context: ApiContext, @Arg('table') table: string): Promise<string> {
    return (await jobsOf(context).enqueue('compact', { table }, context.actor)).id;
  }

  @Authorized('admin')
  @Mutation(() => ID, {
    description:
      'Enqueues a VACUUM of a lake table: data files replaced longer than `retentionHours` ago (default 168, no less than the table’s `delta.deletedFileRetentionDuration`) are deleted; answers the job id.',
  })
  async vacuum(
    @Ctx() context: ApiContext,
    @Arg('table') table: string,
    @Arg('retentionHours', () => Float, { nullable: true }) retentionHours?: number,
  ): Promise<string> {
    return (
      await jobsOf(context).enqueue(
        'vacuum',
        {
          table,
          ...(retentionHours === undefined || retentionHours === null ? {} : { retentionHours }),
        },
        context.actor,
      )
    ).id;
  }

  @Authorized('analyst')
  @Mutation(() => ID, {
    description:
      'Enqueues retraining of a model; answers the job id. Until a trainer is installed the job fails with NOT_IMPLEMENTED (never a pretended success).',
  })
  async retrain(@Ctx() context: ApiContext, @Arg('model') model: string): Promise<string> {
    return (await jobsOf(context).enqueue('retrain', { model }, context.actor)).id;
  }

  @Authorized('analyst')
  @Mutation(() => Boolean, {
    description:
      'Removes a job that has not finished (a running one stops at its next progress report); NOT_FOUND for an unknown id.',
  })
  async cancelJob(@Ctx() context: ApiContext, @Arg('id', () => ID) id: string): Promise<boolean> {
    return jobsOf(context).cancel(id);
  }

  @Authorized('viewer')
  @Query(() => JobType, { nullable: true, description: 'A job by id (null when there is none).' })
  async job(@Ctx() context: ApiContext, @Arg('id', () => ID) id: string): Promise<JobType | null> {
    const status = await jobsOf(context).get(id);
    return status ? JobType.from(status) : null;
  }

  @Authorized('viewer')
  @Query(() => JobPageType, {
    description: 'Jobs, newest first, filtered by kind and state; `limit` 1–500 (default 50).',
  })
  async jobs(
    @Ctx() context: ApiContext,
    @Arg('kind', () => JobKindEnum, { nullable: true }) kind?: JobKindEnum,
    @Arg('state', () => JobStateEnum, { nullable: true }) state?: JobStateEnum,
    @Arg('limit', () => Int, { nullable: true }) limit?: number,
    @Arg('offset', () => Int, { nullable: true }) offset?: number,
  ): Promise<JobPageType> {
    const page = await jobsOf(context).list({
      ...(kind ? { kind: kind as JobKind } : {}),
      ...(state ? { state: state as JobState } : {}),
      ...(limit === undefined || limit === null ? {} : { limit }),
      ...(offset === undefined || offset === null ? {} : { offset }),
    });
    return Object.assign(new JobPageType(), {
      jobs: page.jobs.map(JobType.from),
      total: page.total,
    });
  }

  @FieldResolver(() => [JobEventType], {
    description: 'What happened to the job, oldest first: locks, starts, failures, retries.',
  })
  async history(@Root() job: JobType, @Ctx() context: ApiContext): Promise<JobEventType[]> {
    return (await jobsOf(context).history(job.id)).map(JobEventType.from);
  }

  @Authorized('viewer')
  @Subscription(() => JobType, {
    name: 'jobProgress',
    description:
      'A job’s status now, then each change of its state, progress or error, ending when it completes or fails for good (the last event says which). NOT_FOUND for an unknown id.',
    subscribe: ({ args, context }: { args: { jobId: string }; context: ApiContext }) =>
      jobsOf(context).watch(args.jobId),
  })
  jobProgress(@Root() status: JobStatus, @Arg('jobId', () => ID) _jobId: string): JobType {
    return JobType.from(status);
  }
}
