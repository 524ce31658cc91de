import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { endpoints } from './endpoints.js';

/** A database of its own on the shared MongoDB-wire server, and how to drop it. */
export function mongoDatabase(prefix: string): { uri: string; drop: () => Promise<void> } {
  const name = `${prefix}_${randomUUID().slice(0, 8)}`;
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
