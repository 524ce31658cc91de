import { beforeAll } from 'vitest';
import { MongoJobBackend } from '../../src/jobs/index.js';
import { MongoMasterDataStore } from '../../src/mdm/index.js';
import { jobAuditOutboxContract } from '../contracts/job-audit-outbox.js';
import { requireService } from './endpoints.js';
import { mongoDatabase } from './mongo-database.js';

/** The job.enqueue outbox under SIGKILL on the real MongoDB-wire server: a database per case, dropped after. */
const databases = new Map<string, ReturnType<typeof mongoDatabase>>();
const databaseOf = (namespace: string) => {
  let database = databases.get(namespace);
  if (!database) {
    database = mongoDatabase(`alphalake_jobaudit_${namespace.slice(0, 8)}`);
    databases.set(namespace, database);
  }
  return database;
};

beforeAll(() => requireService('mongo'));

jobAuditOutboxContract([
  {
    name: 'MongoDB (@agendajs/mongo-backend and master data on mongo-java-server)',
    openInChild: (namespace, urls) => `
      const { MongoJobBackend } = await import(${JSON.stringify(urls.jobs)});
      const { MongoMasterDataStore } = await import(${JSON.stringify(urls.mdm)});
      const jobBackend = MongoJobBackend.create(${JSON.stringify(databaseOf(namespace).uri)});
      const mdmStore = await MongoMasterDataStore.open({ uri: ${JSON.stringify(databaseOf(namespace).uri)} });`,
    open: async (namespace) => ({
      jobBackend: MongoJobBackend.create(databaseOf(namespace).uri),
      mdmStore: await MongoMasterDataStore.open({ uri: databaseOf(namespace).uri }),
    }),
    dispose: async () => {
      for (const database of databases.values()) await database.drop();
    },
  },
]);
