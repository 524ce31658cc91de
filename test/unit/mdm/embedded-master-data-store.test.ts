import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmbeddedMasterDataStore } from '../../../src/mdm/index.js';
import { masterDataStoreContract } from '../../contracts/master-data.js';

/** The contract on the embedded store: NeDB files in a temporary folder. */
const root = mkdtempSync(path.join(tmpdir(), 'alphalake-mdm-'));

masterDataStoreContract([
  {
    name: 'embedded (NeDB files)',
    open: (namespace) => EmbeddedMasterDataStore.open(path.join(root, namespace)),
    dispose: async () => rmSync(root, { recursive: true, force: true }),
  },
]);
