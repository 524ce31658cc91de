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
import { AlphalakeError } from '../../domain/index.js';
import type {
  JobDataOf,
  JobEvent,
  JobKind,
  JobService,
  JobState,
  JobStatus,
} from '../../jobs/index.js';
import type { ApiContext } from '../transport/context.js';
import { DateTimeScalar } from '../types/scalars.js';

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
    REFRESH_MASTER_DATA: {
      description: '`mdm.refresh`: master data brought up to a reference source (Polygon, Yahoo).',
    },
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
  @Field(() => DateTimeScalar, { description: 'When it happened.' })
  at!: Date;

  @Field({ description: '`locked`, `start`, `success`, `fail`, `retry`, `retry:exhausted`, …' })
  event!: string;

  @Field({ description: 'What happened, in words (`retry #1 scheduled in 30000ms`).' })
  message!: string;

  @Field(() => String, {
    nullable: true,
    description:
      'The error message, on `fail`, `retry` and `retry:exhausted` events; null on the others.',
  })
  error!: string | null;

  @Field(() => String, { nullable: true, description: 'The worker it happened on.' })
  worker!: string | null;

  static from(event: JobEvent): JobEventType {
    return Object.assign(new JobEventType(), event);
  }
}

@ObjectType('Job', { description: 'A job: its request, where it is, its progress and last error.' })
export class JobType {
  @Field(() => ID, { description: 'Its id, as the mutation that enqueued it answered.' })
  id!: string;

  @Field(() => JobKindEnum, { description: 'What it does.' })
  kind!: JobKind;

  @Field(() => JobStateEnum, { description: 'Where it is now.' })
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

  @Field(() => Int, {
    description:
      'Failures since its last success (0 after a success); retried up to JOBS_MAX_RETRIES times (default 3).',
  })
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

  @Field(() => DateTimeScalar, {
    nullable: true,
    description:
      'When it is next due (a queued job, a retry, a schedule’s next tick); null while a one-time run is in progress and once it has finished.',
  })
  nextRunAt!: Date | null;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'When its last run started; null before the first.',
  })
  lastRunAt!: Date | null;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'When its last run ended, in success or failure; null before the first ended.',
  })
  lastFinishedAt!: Date | null;

  static from(status: JobStatus): JobType {
    return Object.assign(new JobType(), status, { request: { ...status.request } });
  }
}

@ObjectType('JobPage', { description: 'A page of jobs, newest first, and how many match.' })
export class JobPageType {
  @Field(() => [JobType], { description: 'This page of them, newest first.' })
  jobs!: JobType[];

  @Field(() => Int, { description: 'How many jobs match the filters, on every page.' })
  total!: number;
}

const JOB_ID_ARG = 'The job’s id, as the mutation that enqueued it answered.';
const TABLE_ARG =
  'A lake table by its dotted name (`silver.bars_1m`); BAD_USER_INPUT for one the lake does not have.';

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

/**
 * Enqueues a job for the request's principal, its audit record (who, when, what was asked)
 * written with the job in one write and moved into the audit log after (JobService's
 * outbox). Answers the job's id.
 */
async function enqueueAudited<K extends JobKind>(
  context: ApiContext,
  kind: K,
  request: JobDataOf[K],
): Promise<string> {
  return (await jobsOf(context).enqueueAudited(kind, request, context.actor)).id;
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
    @Arg('source', {
      description:
        'A backfill source the worker has (`simulator`); an unknown one is BAD_USER_INPUT.',
    })
    source: string,
    @Arg('symbols', () => [String], {
      defaultValue: [],
      description: 'The tickers to backfill; empty (the default): every one the source has.',
    })
    symbols: string[],
    @Arg('from', () => DateTimeScalar, { description: 'Inclusive start, on a whole minute.' })
    from: number,
    @Arg('to', () => DateTimeScalar, {
      description: 'Exclusive end, on a whole minute, after `from` and not past now.',
    })
    to: number,
  ): Promise<string> {
    return enqueueAudited(context, 'backfill', { source, symbols, from, to });
  }

  @Authorized('analyst')
  @Mutation(() => ID, {
    description:
      'Enqueues compaction (OPTIMIZE) of a lake table (`silver.bars_1m`, …); answers the job id.',
  })
  async compact(
    @Ctx() context: ApiContext,
    @Arg('table', { description: TABLE_ARG }) table: string,
  ): Promise<string> {
    return enqueueAudited(context, 'compact', { table });
  }

  @Authorized('admin')
  @Mutation(() => ID, {
    description:
      'Enqueues a VACUUM of a lake table: data files replaced longer than `retentionHours` ago (default 168, no less than the table’s `delta.deletedFileRetentionDuration`) are deleted; answers the job id.',
  })
  async vacuum(
    @Ctx() context: ApiContext,
    @Arg('table', { description: TABLE_ARG }) table: string,
    @Arg('retentionHours', () => Float, {
      nullable: true,
      description:
        'Hours a replaced file is kept, 0 or more (default 168, 7 days); less than the table’s `delta.deletedFileRetentionDuration` fails the job with BAD_USER_INPUT.',
    })
    retentionHours?: number,
  ): Promise<string> {
    return enqueueAudited(context, 'vacuum', {
      table,
      ...(retentionHours === undefined || retentionHours === null ? {} : { retentionHours }),
    });
  }

  @Authorized('analyst')
  @Mutation(() => ID, {
    description:
      'Enqueues retraining of a model; answers the job id. Until a trainer is installed the job fails with NOT_IMPLEMENTED (never a pretended success).',
  })
  async retrain(
    @Ctx() context: ApiContext,
    @Arg('model', { description: 'The model’s name (not empty).' }) model: string,
  ): Promise<string> {
    return enqueueAudited(context, 'retrain', { model });
  }

  @Authorized('admin')
  @Mutation(() => ID, {
    description:
      'Enqueues `mdm.refresh`: master data brought up to a reference source (Polygon’s paged ticker list, splits and dividends; Yahoo chart splits and dividends), each change audited as `job:<id>`; a second refresh changes nothing. Answers the job id.',
  })
  async refreshMasterData(
    @Ctx() context: ApiContext,
    @Arg('source', () => String, {
      nullable: true,
      description:
        '`polygon` (needs POLYGON_API_KEY) or `yahoo`; absent: Polygon where a key is set, else Yahoo. Another is BAD_USER_INPUT.',
    })
    source: string | null | undefined,
    @Arg('symbols', () => [String], {
      nullable: true,
      description: 'Tickers to refresh; absent or empty: every symbol that is not DELISTED.',
    })
    symbols: string[] | null | undefined,
  ): Promise<string> {
    return enqueueAudited(context, 'refreshMasterData', {
      ...(source ? { source } : {}),
      ...(symbols && symbols.length > 0 ? { symbols } : {}),
    });
  }

  @Authorized('analyst')
  @Mutation(() => Boolean, {
    description:
      'Removes a job that has not finished (a running one stops at its next progress report); NOT_FOUND for an unknown id.',
  })
  async cancelJob(
    @Ctx() context: ApiContext,
    @Arg('id', () => ID, { description: JOB_ID_ARG }) id: string,
  ): Promise<boolean> {
    const cancelled = await jobsOf(context).cancel(id);
    if (cancelled)
      await context.services.masterData.recordChange(context.actor, 'job.cancel', id, null, null);
    return cancelled;
  }

  @Authorized('viewer')
  @Query(() => JobType, { nullable: true, description: 'A job by id (null when there is none).' })
  async job(
    @Ctx() context: ApiContext,
    @Arg('id', () => ID, { description: JOB_ID_ARG }) id: string,
  ): Promise<JobType | null> {
    const status = await jobsOf(context).get(id);
    return status ? JobType.from(status) : null;
  }

  @Authorized('viewer')
  @Query(() => JobPageType, {
    description: 'Jobs, newest first, filtered by kind and state; `limit` 1–500 (default 50).',
  })
  async jobs(
    @Ctx() context: ApiContext,
    @Arg('kind', () => JobKindEnum, { nullable: true, description: 'Only jobs of this kind.' })
    kind?: JobKindEnum,
    @Arg('state', () => JobStateEnum, { nullable: true, description: 'Only jobs in this state.' })
    state?: JobStateEnum,
    @Arg('limit', () => Int, {
      nullable: true,
      description: 'At most this many, 1–500 (default 50).',
    })
    limit?: number,
    @Arg('offset', () => Int, {
      nullable: true,
      description: 'How many matching jobs to skip first, 0 or more (default 0).',
    })
    offset?: number,
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
  jobProgress(
    @Root() status: JobStatus,
    @Arg('jobId', () => ID, { description: 'The job to follow: its id, as the mutation answered.' })
    _jobId: string,
  ): JobType {
    return JobType.from(status);
  }
}
