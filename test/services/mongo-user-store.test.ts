import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openUserStore } from '../../src/app.js';
import { Accounts, MongoUserStore } from '../../src/auth/index.js';
import { configWith } from '../../src/config/index.js';
import { systemClock } from '../../src/domain/index.js';
import { userStoreContract } from '../contracts/user-store.js';
import { endpoints, requireService } from './endpoints.js';

/** Databases of their own per run, dropped at the end. */
const run = randomUUID().slice(0, 8);
const database = `alphalake_users_${run}`;
const wiredDatabase = `alphalake_users_wired_${run}`;

async function withClient<T>(work: (client: MongoClient) => Promise<T>): Promise<T> {
  const client = new MongoClient(endpoints.mongoUri, { directConnection: true });
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}

beforeAll(async () => {
  await requireService('mongo');
});

userStoreContract([
  {
    name: 'MongoDB (real server)',
    open: () => MongoUserStore.connect(endpoints.mongoUri, { database }),
    reopen: () => MongoUserStore.connect(endpoints.mongoUri, { database }),
    async dispose() {
      await withClient((client) => client.db(database).dropDatabase());
    },
  },
]);

describe('the user store app.ts opens', () => {
  afterAll(async () => {
    await withClient((client) => client.db(wiredDatabase).dropDatabase());
  });

  it('is MongoDB when MONGODB_URI is set, in the database the URI names', async () => {
    const config = configWith({ mongodbUri: `${endpoints.mongoUri}/${wiredDatabase}` });
    const store = await openUserStore(config);
    try {
      expect(store).toBeInstanceOf(MongoUserStore);
      await new Accounts(store, systemClock).addUser('wired', 'analyst', 'test');
    } finally {
      await store.close();
    }
    const stored = await withClient((client) =>
      client
        .db(wiredDatabase)
        .collection('users')
        .findOne({ _id: 'wired' as never }),
    );
    expect(stored?.role).toBe('analyst');
  });
});
