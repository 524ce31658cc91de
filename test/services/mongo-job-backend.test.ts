import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { beforeAll } from 'vitest';
import { MongoJobBackend } from '../../src/jobs/index.js';
import { jobBackendContract, type JobBackendFactory } from '../contracts/job-backend.js';
import { endpoints, requireService } from './endpoints.js';

/** A database of its own per test on the shared server, dropped afterwards. */
export function mongoDatabaseUri(): { uri: string; drop: () => Promise<void> } {
  const name = `alphalake_jobs_${randomUUID().slice(0, 8)}`;
  const uri = `${endpoints.mongoUri}/${name}?directConnection=true`;
  return {
    uri,
    async drop() {
      const client = await MongoClient.connect(uri);
      try {
        await client.db().dropDatabase();
      } finally {
        await client.close();
      }
    },
  };
}

const BACKENDS: JobBackendFactory[] = [
  {
    name: 'MongoDB (@agendajs/mongo-backend on the MongoDB-wire server)',
    shared: true,
    async location() {
      const database = mongoDatabaseUri();
      return { open: () => MongoJobBackend.create(database.uri), dispose: database.drop };
    },
  },
];

beforeAll(() => requireService('mongo'));

jobBackendContract(BACKENDS);
