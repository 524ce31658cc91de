/** Public surface of src/jobs: the job store port and its adapters, the worker and the job service. */
export type { JobBackend, JobWithPendingAudit } from './job-backend.js';
export { EmbeddedJobBackend } from './embedded-job-backend.js';
export { MongoJobBackend } from './mongo-job-backend.js';
export {
  JOB_KINDS,
  JOB_NAMES,
  type BackfillJobData,
  type JobDataOf,
  type JobKind,
  type JobName,
  type PendingJobAudit,
  type RetrainJobData,
  type TableJobData,
  type VacuumJobData,
} from './job-kinds.js';
export {
  jobHandlers,
  type BackfillSource,
  type JobContext,
  type JobHandler,
  type JobResources,
  type MaintainedTable,
} from './handlers.js';
export { JobWorker, SCHEDULED_BY, type JobWorkerOptions } from './job-worker.js';
export {
  JOB_STATES,
  JobService,
  MAX_JOB_PAGE,
  type JobAuditLog,
  type JobCatalog,
  type JobEnqueueAudit,
  type JobEvent,
  type JobQuery,
  type JobServiceOptions,
  type JobState,
  type JobStatus,
} from './job-service.js';
export { simulatorBackfill } from './simulator-backfill.js';
