import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/index.js';
import { EmbeddedMasterDataStore, MasterData, type SymbolRecord } from '../../src/mdm/index.js';

/**
 * Two processes on one embedded master-data folder (docs/mdm.md "Several processes"):
 * each edits the same symbol on the version it read, retrying on CONFLICT, and both try
 * to create one ticker. Every edit of both lands exactly once (no version written twice,
 * none lost), the log has one record a version, and of the two creations one wins.
 */
const root = mkdtempSync(path.join(tmpdir(), 'alphalake-shared-mdm-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const MDM = new URL('../../src/mdm/index.js', import.meta.url).href;
const T0 = Date.parse('2026-11-30T12:00:00Z') * 1_000;
const EDITS = 25;

function editor(dir: string, name: string): Promise<{ code: number | null; lines: string[] }> {
  const script = `
    import { EmbeddedMasterDataStore, MasterData } from ${JSON.stringify(MDM)};
    const store = await EmbeddedMasterDataStore.open(${JSON.stringify(dir)});
    const masterData = await MasterData.open(store, { clock: { now: () => ${T0} } });
    const created = await masterData.createSymbol(
      { ticker: 'NEW', name: ${JSON.stringify(name)}, exchange: 'XNAS' }, ${JSON.stringify(name)},
    ).then(() => 'CREATED', (e) => e.code);
    console.log('create ' + created);
    let done = 0;
    let conflicts = 0;
    while (done < ${EDITS}) {
      const current = masterData.symbol('IBM');
      try {
        await masterData.updateSymbol('IBM', current.version, { name: ${JSON.stringify(name)} + ' ' + done }, ${JSON.stringify(name)});
        done++;
      } catch (error) {
        if (error.code !== 'CONFLICT') throw error;
        conflicts++; // MasterData re-read the store: the next attempt is on the winner's version
      }
    }
    console.log('conflicts ' + conflicts);
    await store.close();
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve) =>
    child.once('exit', (code) => resolve({ code, lines: out.trim().split('\n') })),
  );
}

describe('two processes on one embedded master-data folder', () => {
  it('loses no edit and writes no version twice; one of two creations of a ticker wins', async () => {
    const dir = path.join(root, 'mdm');
    const seed = await EmbeddedMasterDataStore.open(dir);
    const seeded = await MasterData.open(seed, { clock: new ManualClock(T0) });
    await seeded.createSymbol({ ticker: 'IBM', name: 'IBM', exchange: 'XNYS' }, 'seed');
    await seed.close();

    const [a, b] = await Promise.all([editor(dir, 'ada'), editor(dir, 'grace')]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const creations = [a.lines[0], b.lines[0]].sort();
    expect(creations).toEqual(['create CONFLICT', 'create CREATED']);

    const store = await EmbeddedMasterDataStore.open(dir);
    const masterData = await MasterData.open(store, { clock: new ManualClock(T0) });
    const ibm = masterData.symbol('IBM')!;
    expect(ibm.version).toBe(1 + 2 * EDITS);
    const log = await masterData.auditLog({ entity: ibm.id });
    // Both processes write at one clock instant (T0), so the log's order between them is
    // by their ids, not by version: what must hold is that each version has one record.
    const versions = new Map<number, number>();
    for (const r of log) {
      const version = (r.after as SymbolRecord).version;
      versions.set(version, (versions.get(version) ?? 0) + 1);
    }
    expect(log).toHaveLength(1 + 2 * EDITS);
    for (let version = 1; version <= 1 + 2 * EDITS; version++)
      expect(versions.get(version)).toBe(1);
    expect(log.filter((r) => r.actor === 'ada')).toHaveLength(EDITS);
    expect(log.filter((r) => r.actor === 'grace')).toHaveLength(EDITS);
    // Each update's `before` is the version just below its own: a chain, no fork.
    for (const r of log.filter((r) => r.action === 'symbol.update')) {
      expect((r.before as SymbolRecord).version).toBe((r.after as SymbolRecord).version - 1);
    }
    expect(masterData.symbols().filter((s) => s.ticker === 'NEW')).toHaveLength(1);
    await store.close();
  });
});
