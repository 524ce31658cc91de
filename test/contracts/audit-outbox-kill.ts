/**
 * The audit outbox (docs/mdm.md "Audit log") under a real kill, on every master-data
 * store: a child process writes master data and is killed with SIGKILL (no handler runs,
 * nothing is flushed), right between a change and its drain, or anywhere in a run of
 * edits; the store opened again has every change's audit record exactly once.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/index.js';
import { MasterData, type MasterDataStore, type SymbolRecord } from '../../src/mdm/index.js';

export interface KilledStoreBackend {
  readonly name: string;
  /**
   * An ES-module snippet, run in the child, that ends with `const store =` the store of
   * `namespace` (it may import from `mdm`, the URL of src/mdm/index.js).
   */
  openInChild(namespace: string, mdm: string): string;
  /** The same store in this process. */
  open(namespace: string): Promise<MasterDataStore>;
  dispose?(): Promise<void>;
}

const MDM = new URL('../../src/mdm/index.js', import.meta.url).href;
const T0 = Date.parse('2026-11-30T12:00:00Z') * 1_000;

/** Runs `script` (an ES module) in a child Node; each stdout line goes to `onLine`. */
function child(
  script: string,
  onLine: (line: string, kill: () => void) => void = () => undefined,
): Promise<NodeJS.Signals | null> {
  const node = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const kill = () => node.kill('SIGKILL');
  createInterface({ input: node.stdout }).on('line', (line) => onLine(line, kill));
  return new Promise((resolve) => node.once('exit', (_code, signal) => resolve(signal)));
}

export function auditOutboxKillContract(backends: readonly KilledStoreBackend[]): void {
  for (const backend of backends) {
    describe(`audit outbox under SIGKILL: ${backend.name}`, () => {
      const opened: MasterDataStore[] = [];
      const open = async (namespace: string) => {
        const store = await backend.open(namespace);
        opened.push(store);
        return store;
      };
      afterAll(async () => {
        for (const store of opened) await store.close().catch(() => undefined);
        await backend.dispose?.();
      });

      it('a process killed right after the write, before the drain: the next open moves the record, once', async () => {
        const namespace = `between_${Date.now().toString(36)}`;
        const signal = await child(`
          ${backend.openInChild(namespace, MDM)}
          const symbol = { id: 'sym-ibm', ticker: 'IBM', name: 'IBM', exchange: 'XNYS',
            assetClass: 'EQUITY', currency: 'USD', sector: null, industry: null,
            listedDate: null, delistedDate: null, status: 'ACTIVE', version: 1, updatedAt: ${T0} };
          await store.insertSymbol(symbol, { id: 'audit-1', at: ${T0}, actor: 'ada',
            action: 'symbol.create', entity: 'sym-ibm', before: null, after: symbol });
          process.kill(process.pid, 'SIGKILL');
        `);
        expect(signal).toBe('SIGKILL');
        const store = await open(namespace);
        const masterData = await MasterData.open(store, { clock: new ManualClock(T0) });
        const log = await masterData.auditLog();
        expect(log.map((r) => [r.id, r.actor, r.action, r.entity])).toEqual([
          ['audit-1', 'ada', 'symbol.create', 'sym-ibm'],
        ]);
        expect(masterData.symbol('IBM')?.version).toBe(1);
        expect(await store.drainAudit()).toBe(0);
      });

      it('a process killed anywhere in a run of renames: each symbol has its old ticker and no history, or its new one with exactly one change and one audit record', async () => {
        const namespace = `renames_${Date.now().toString(36)}`;
        let seen = 0;
        const signal = await child(
          `
          ${backend.openInChild(namespace, MDM)}
          const { MasterData } = await import(${JSON.stringify(MDM)});
          const masterData = await MasterData.open(store, { clock: { now: () => ${T0} } });
          for (let i = 0; ; i++) {
            const symbol = await masterData.createSymbol(
              { ticker: 'OLD' + i, name: 'Company ' + i, exchange: 'XNYS' }, 'ada');
            await masterData.renameSymbol('OLD' + i, symbol.version, 'NEW' + i, '2026-11-30', 'ada');
            console.log(i);
          }
        `,
          (_line, kill) => {
            // Killed while it renames on, between whichever two steps the timing lands on.
            if (++seen === 25) kill();
          },
        );
        expect(signal).toBe('SIGKILL');
        const store = await open(namespace);
        const masterData = await MasterData.open(store, { clock: new ManualClock(T0) });
        const symbols = await store.symbols();
        const changes = await store.changes();
        const renamed = symbols.filter((s) => s.ticker.startsWith('NEW'));
        expect(renamed.length).toBeGreaterThanOrEqual(25);
        for (const symbol of symbols) {
          const i = symbol.ticker.replace(/^(OLD|NEW)/, '');
          const log = await masterData.auditLog({ entity: symbol.id });
          const history = changes.filter((c) => c.symbolId === symbol.id);
          if (symbol.ticker.startsWith('NEW')) {
            expect(history).toEqual([
              {
                id: `${symbol.id}:2026-11-30`,
                symbolId: symbol.id,
                fromTicker: `OLD${i}`,
                toTicker: `NEW${i}`,
                effectiveDate: '2026-11-30',
              },
            ]);
            expect(log.map((r) => [r.action, (r.after as SymbolRecord).version])).toEqual([
              ['symbol.create', 1],
              ['symbol.rename', 2],
            ]);
          } else {
            expect(history).toEqual([]);
            expect(log.map((r) => r.action)).toEqual(['symbol.create']);
          }
        }
        expect(new Set(changes.map((c) => c.id)).size).toBe(changes.length);
        expect(changes).toHaveLength(renamed.length);
      });

      it('a process killed anywhere in a run of edits: every version written has its audit record exactly once', async () => {
        const namespace = `run_${Date.now().toString(36)}`;
        let seen = 0;
        const signal = await child(
          `
          ${backend.openInChild(namespace, MDM)}
          const { MasterData } = await import(${JSON.stringify(MDM)});
          const masterData = await MasterData.open(store, { clock: { now: () => ${T0} } });
          let symbol = await masterData.createSymbol(
            { ticker: 'IBM', name: 'IBM', exchange: 'XNYS' }, 'ada');
          for (let i = 0; ; i++) {
            symbol = await masterData.updateSymbol('IBM', symbol.version, { name: 'IBM ' + i }, 'ada');
            console.log(symbol.version);
          }
        `,
          (_line, kill) => {
            // Killed while it writes on, between whichever two steps the timing lands on.
            if (++seen === 40) kill();
          },
        );
        expect(signal).toBe('SIGKILL');
        const store = await open(namespace);
        const masterData = await MasterData.open(store, { clock: new ManualClock(T0) });
        const symbol = masterData.symbol('IBM')!;
        expect(symbol.version).toBeGreaterThanOrEqual(40);
        const log = await masterData.auditLog({ entity: symbol.id });
        expect(new Set(log.map((r) => r.id)).size).toBe(log.length);
        // One record per version written: the create (version 1), then each update.
        expect(log.map((r) => (r.after as SymbolRecord).version)).toEqual(
          Array.from({ length: symbol.version }, (_, i) => i + 1),
        );
        expect((log.at(-1)!.after as SymbolRecord).name).toBe(symbol.name);
      });
    });
  }
}
