import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmbeddedJobBackend } from '../../src/jobs/index.js';
import { EmbeddedMasterDataStore } from '../../src/mdm/index.js';
import { jobAuditOutboxContract } from '../contracts/job-audit-outbox.js';

/** The job.enqueue outbox under SIGKILL on the embedded stores (NeDB files under one home). */
const root = mkdtempSync(path.join(tmpdir(), 'alphalake-job-audit-'));

jobAuditOutboxContract([
  {
    name: 'embedded (nedb job store, NeDB master data)',
    openInChild: (namespace, urls) => `
      const { EmbeddedJobBackend } = await import(${JSON.stringify(urls.jobs)});
      const { EmbeddedMasterDataStore } = await import(${JSON.stringify(urls.mdm)});
      const jobBackend = new EmbeddedJobBackend(${JSON.stringify(path.join(root, namespace, 'jobs'))});
      const mdmStore = await EmbeddedMasterDataStore.open(${JSON.stringify(path.join(root, namespace, 'mdm'))});`,
    open: async (namespace) => ({
      jobBackend: new EmbeddedJobBackend(path.join(root, namespace, 'jobs')),
      mdmStore: await EmbeddedMasterDataStore.open(path.join(root, namespace, 'mdm')),
    }),
    dispose: async () => rmSync(root, { recursive: true, force: true }),
  },
]);
