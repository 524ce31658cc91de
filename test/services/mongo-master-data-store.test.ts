import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { beforeAll } from 'vitest';
import { MongoMasterDataStore } from '../../src/mdm/index.js';
import { masterDataStoreContract } from '../contracts/master-data.js';
import { endpoints, requireService } from './endpoints.js';

/** The contract on the real MongoDB-wire server, one database per run, dropped after. */
const database = `alphalake_mdm_${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  await requireService('mongo');
});

masterDataStoreContract([
  {
    name: 'MongoDB (mongo-java-server)',
    open: (namespace) =>
      MongoMasterDataStore.open({
        uri: endpoints.mongoUri,
        database,
        collectionPrefix: `${namespace}_`,
      }),
    dispose: async () => {
      const client = new MongoClient(endpoints.mongoUri, { directConnection: true });
      await client.connect();
      await client.db(database).dropDatabase();
      await client.close();
    },
  },
]);
