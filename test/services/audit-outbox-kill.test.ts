import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { beforeAll } from 'vitest';
import { MongoMasterDataStore } from '../../src/mdm/index.js';
import { auditOutboxKillContract } from '../contracts/audit-outbox-kill.js';
import { endpoints, requireService } from './endpoints.js';

/** The outbox under SIGKILL on the real MongoDB-wire server, one database per run, dropped after. */
const database = `alphalake_outbox_${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  await requireService('mongo');
});

auditOutboxKillContract([
  {
    name: 'MongoDB (mongo-java-server)',
    openInChild: (namespace, mdm) => `
      const { MongoMasterDataStore } = await import(${JSON.stringify(mdm)});
      const store = await MongoMasterDataStore.open(${JSON.stringify({
        uri: endpoints.mongoUri,
        database,
        collectionPrefix: `${namespace}_`,
      })});`,
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
