import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileUserStore } from '../../../src/auth/index.js';
import { userStoreContract } from '../../contracts/user-store.js';

const home = mkdtempSync(path.join(tmpdir(), 'alphalake-users-'));

userStoreContract([
  {
    name: 'embedded file',
    open: async () => FileUserStore.inHome(home),
    reopen: async () => FileUserStore.inHome(home),
    dispose: async () => rmSync(home, { recursive: true, force: true }),
  },
]);
