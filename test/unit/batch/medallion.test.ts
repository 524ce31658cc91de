import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openMedallion, TRADES_TABLE } from '../../../src/batch/index.js';
import {
  DeltaTable,
  LakeTimestamp,
  localObjectStore,
  type ObjectStore,
} from '../../../src/lake/index.js';

describe('medallion tables', () => {
  const temp = { dir: '', store: undefined as unknown as ObjectStore };
  beforeEach(async () => {
    temp.dir = await mkdtemp(path.join(tmpdir(), 'alphalake-medallion-'));
    temp.store = localObjectStore(temp.dir);
  });
  afterEach(() => rm(temp.dir, { recursive: true, force: true }));

  it('adds `seq` to a bronze.trades written before it existed; old rows read it as NULL', async () => {
    const schema = TRADES_TABLE.schema.filter((c) => c.name !== 'seq');
    const old = await DeltaTable.create(temp.store, TRADES_TABLE.path, {
      schema,
      partitionColumns: ['date'],
    });
    await old.append([
      {
        symbol: 'AAPL',
        ts: 1_709_285_409_292_971,
        price: 190.5,
        size: 100,
        id: 'old-1',
        exchange: 'XNAS',
        date: '2024-03-01',
      },
    ]);
    const { trades } = await openMedallion(temp.store);
    const snapshot = await trades.snapshot();
    expect(snapshot.schema.find((c) => c.name === 'seq')).toMatchObject({
      type: 'long',
      nullable: true,
    });
    const { rows } = await trades.query({ columns: ['id', 'ts', 'seq'] });
    expect(rows).toEqual([
      { id: 'old-1', ts: new LakeTimestamp(1_709_285_409_292_971n), seq: null },
    ]);
    // Opening again changes nothing.
    await openMedallion(temp.store);
    expect((await trades.snapshot()).version).toBe(snapshot.version);
  });
});
