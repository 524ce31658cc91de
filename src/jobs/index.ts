/** Public surface of src/jobs: the job store port and its adapters, the worker and the job service. */
export type { JobBackend } from './job-backend.js';
export { EmbeddedJobBackend } from './embedded-job-backend.js';
export { MongoJobBackend } from './mongo-job-backend.js';
