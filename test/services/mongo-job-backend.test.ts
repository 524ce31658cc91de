import { beforeAll } from 'vitest';
import { MongoJobBackend } from '../../src/jobs/index.js';
import { jobBackendContract, type JobBackendFactory } from '../contracts/job-backend.js';
import { requireService } from './endpoints.js';
import { mongoDatabase } from './mongo-database.js';

const BACKENDS: JobBackendFactory[] = [
  {
    name: 'MongoDB (@agendajs/mongo-backend on the MongoDB-wire server)',
    shared: true,
    async location() {
      const database = mongoDatabase('alphalake_jobs');
      return { open: () => MongoJobBackend.create(database.uri), dispose: database.drop };
    },
  },
];

beforeAll(() => requireService('mongo'));

jobBackendContract(BACKENDS);
