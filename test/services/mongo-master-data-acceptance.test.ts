import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { beforeAll } from 'vitest';
import { masterDataAcceptance } from '../support/master-data-acceptance.js';
import { endpoints, requireService } from './endpoints.js';

/**
 * The master-data acceptance through GraphQL with master data on the real MongoDB-wire
 * server (MONGODB_URI): adjustments, FB → META, the universe, CSV, the CONFLICT race and
 * its audit log, and a restart that keeps it all. One database per run, dropped after.
 */
const database = `alphalake_mdm_it_${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  await requireService('mongo');
});

masterDataAcceptance({
  name: 'MongoDB (mongo-java-server)',
  store: 'mongodb',
  settings: () => ({ mongodbUri: `${endpoints.mongoUri}/${database}` }),
  dispose: async () => {
    const client = new MongoClient(endpoints.mongoUri, { directConnection: true });
    await client.connect();
    await client.db(database).dropDatabase();
    await client.close();
  },
});
