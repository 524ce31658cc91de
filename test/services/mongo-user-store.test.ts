import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { beforeAll } from 'vitest';
import { MongoUserStore } from '../../src/auth/index.js';
import { userStoreContract } from '../contracts/user-store.js';
import { endpoints, requireService } from './endpoints.js';

/** A database of its own per run, dropped at the end. */
const database = `alphalake_users_${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  await requireService('mongo');
});

userStoreContract([
  {
    name: 'MongoDB (real server)',
    open: () => MongoUserStore.connect(endpoints.mongoUri, { database }),
    reopen: () => MongoUserStore.connect(endpoints.mongoUri, { database }),
    async dispose() {
      const client = new MongoClient(endpoints.mongoUri, { directConnection: true });
      try {
        await client.db(database).dropDatabase();
      } finally {
        await client.close();
      }
    },
  },
]);
