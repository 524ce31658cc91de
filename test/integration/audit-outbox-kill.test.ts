import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmbeddedMasterDataStore } from '../../src/mdm/index.js';
import { auditOutboxKillContract } from '../contracts/audit-outbox-kill.js';

/** The outbox under SIGKILL on the embedded store (NeDB files in a temporary folder). */
const root = mkdtempSync(path.join(tmpdir(), 'alphalake-outbox-kill-'));

auditOutboxKillContract([
  {
    name: 'embedded (NeDB)',
    openInChild: (namespace, mdm) => `
      const { EmbeddedMasterDataStore } = await import(${JSON.stringify(mdm)});
      const store = await EmbeddedMasterDataStore.open(${JSON.stringify(path.join(root, namespace))});`,
    open: (namespace) => EmbeddedMasterDataStore.open(path.join(root, namespace)),
    dispose: async () => rmSync(root, { recursive: true, force: true }),
  },
]);
