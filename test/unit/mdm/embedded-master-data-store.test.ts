import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmbeddedMasterDataStore, type SymbolRecord } from '../../../src/mdm/index.js';
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

describe('embedded master-data store: one folder, several openers', () => {
  it('loads one at a time (loading compacts the files), and each sees what was there', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'alphalake-mdm-shared-'));
    try {
      const first = await EmbeddedMasterDataStore.open(dir);
      const symbol: SymbolRecord = {
        id: 'seed:AAPL',
        ticker: 'AAPL',
        name: 'Apple Inc.',
        exchange: 'XNAS',
        assetClass: 'EQUITY',
        currency: 'USD',
        sector: null,
        industry: null,
        listedDate: null,
        delistedDate: null,
        status: 'ACTIVE',
        version: 1,
        updatedAt: 1_795_186_050_123_457,
      };
      await first.insertSymbol(symbol);
      // Eight at once: without the lock, two loads race on the rename of a compacted file.
      const others = await Promise.all(
        Array.from({ length: 8 }, () => EmbeddedMasterDataStore.open(dir)),
      );
      for (const other of others) expect(await other.symbols()).toEqual([symbol]);
      await Promise.all([first, ...others].map((store) => store.close()));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
