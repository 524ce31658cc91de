/**
 * The master-data store contract (src/mdm/master-data-store.ts): one suite, run against
 * every adapter. The unit tier runs it on the embedded NeDB store
 * (test/unit/mdm/embedded-master-data-store.test.ts), the services tier on the real
 * MongoDB-wire server (test/services/mongo-master-data-store.test.ts).
 *
 * Records are compared whole and exactly (µs timestamps, awkward doubles in audit
 * payloads), and a restart is a real one: the store is closed and opened again on the
 * same storage.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { AlphalakeError, ManualClock } from '../../src/domain/index.js';
import {
  MasterData,
  type AuditRecord,
  type CorporateActionRecord,
  type MasterDataStore,
  type SymbolChangeRecord,
  type SymbolRecord,
} from '../../src/mdm/index.js';

export interface MasterDataBackend {
  readonly name: string;
  /** The store kept under `namespace`: empty the first time, what was written since after. */
  open(namespace: string): Promise<MasterDataStore>;
  /** Removes what the backend made; the stores are closed by then. */
  dispose?(): Promise<void>;
}

/** 2026-11-20T15:07:30.123457Z in µs: not on a millisecond, so a lost digit would show. */
const T0 = 1_795_186_050_123_457;
/** Not a short decimal: a store that rounds would change it. */
const AWKWARD = 190 + (0.1 + 0.2);

const symbol = (overrides: Partial<SymbolRecord> = {}): SymbolRecord => ({
  id: 'sym-aapl',
  ticker: 'AAPL',
  name: 'Apple Inc.',
  exchange: 'XNAS',
  assetClass: 'EQUITY',
  currency: 'USD',
  sector: 'Technology',
  industry: null,
  listedDate: '1980-12-12',
  delistedDate: null,
  status: 'ACTIVE',
  version: 1,
  updatedAt: T0,
  ...overrides,
});

const split: CorporateActionRecord = {
  id: 'sym-aapl:split:2020-08-31',
  symbolId: 'sym-aapl',
  kind: 'split',
  symbol: 'AAPL',
  exDate: '2020-08-31',
  splitFrom: 1,
  splitTo: 4,
  source: 'test',
};

const dividend: CorporateActionRecord = {
  id: 'sym-aapl:dividend:2024-05-10',
  symbolId: 'sym-aapl',
  kind: 'dividend',
  symbol: 'AAPL',
  exDate: '2024-05-10',
  cashAmount: 0.25,
  currency: 'USD',
  source: 'test',
};

const change: SymbolChangeRecord = {
  id: 'sym-fb:2022-06-09',
  symbolId: 'sym-fb',
  fromTicker: 'FB',
  toTicker: 'META',
  effectiveDate: '2022-06-09',
};

const audit = (n: number, overrides: Partial<AuditRecord> = {}): AuditRecord => ({
  id: `${String(T0 + n).padStart(17, '0')}-${n}`,
  at: T0 + n,
  actor: n % 2 === 0 ? 'ada' : 'grace',
  action: 'symbol.update',
  entity: 'sym-aapl',
  before: { price: AWKWARD, nested: { list: [1, 2.5, null] } },
  after: { price: AWKWARD * 2, flag: true },
  ...overrides,
});

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (error: unknown) => (error instanceof AlphalakeError ? error.code : String(error)),
  );
}

export function masterDataStoreContract(backends: readonly MasterDataBackend[]): void {
  for (const backend of backends) {
    describe(`master-data store contract: ${backend.name}`, () => {
      let n = 0;
      const opened: MasterDataStore[] = [];
      const fresh = async (): Promise<{ store: MasterDataStore; namespace: string }> => {
        const namespace = `ns${++n}_${Date.now().toString(36)}`;
        const store = await backend.open(namespace);
        opened.push(store);
        return { store, namespace };
      };

      afterAll(async () => {
        for (const store of opened) await store.close().catch(() => undefined);
        await backend.dispose?.();
      });

      it('answers health while open', async () => {
        const { store } = await fresh();
        const health = await store.health();
        expect(health.ready).toBe(true);
        expect(health.detail).not.toBe('');
      });

      it('inserts symbols and lists them by ticker; a taken id or ticker is CONFLICT', async () => {
        const { store } = await fresh();
        const msft = symbol({ id: 'sym-msft', ticker: 'MSFT', name: 'Microsoft', sector: null });
        await store.insertSymbol(symbol());
        await store.insertSymbol(msft);
        expect(await store.symbols()).toEqual([symbol(), msft]);
        expect(await codeOf(store.insertSymbol(symbol({ ticker: 'OTHER' })))).toBe('CONFLICT');
        expect(await codeOf(store.insertSymbol(symbol({ id: 'sym-2' })))).toBe('CONFLICT');
        expect(await store.symbols()).toEqual([symbol(), msft]);
      });

      it('replaces a symbol on its expected version only (compare-and-set)', async () => {
        const { store } = await fresh();
        await store.insertSymbol(symbol());
        const v2 = symbol({ name: 'Apple', version: 2, updatedAt: T0 + 1 });
        await store.replaceSymbol(v2, 1);
        expect(await store.symbols()).toEqual([v2]);
        const stale = symbol({ name: 'Stale', version: 2, updatedAt: T0 + 2 });
        expect(await codeOf(store.replaceSymbol(stale, 1))).toBe('CONFLICT');
        expect(await codeOf(store.replaceSymbol(symbol({ id: 'nope', ticker: 'NOPE' }), 1))).toBe(
          'NOT_FOUND',
        );
        expect(await store.symbols()).toEqual([v2]);
      });

      it('lets exactly one of many concurrent replaces of one version win', async () => {
        const { store } = await fresh();
        await store.insertSymbol(symbol());
        const contenders = Array.from({ length: 8 }, (_, i) =>
          symbol({ name: `edit ${i}`, version: 2, updatedAt: T0 + i }),
        );
        const outcomes = await Promise.allSettled(contenders.map((c) => store.replaceSymbol(c, 1)));
        const won = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
        expect(won).toHaveLength(1);
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected') {
            expect((outcome.reason as AlphalakeError).code).toBe('CONFLICT');
          }
        }
        expect(await store.symbols()).toEqual([contenders[won[0]!]]);
      });

      it('refuses a replace onto a ticker another symbol has', async () => {
        const { store } = await fresh();
        await store.insertSymbol(symbol());
        await store.insertSymbol(symbol({ id: 'sym-msft', ticker: 'MSFT' }));
        const onto = symbol({ id: 'sym-msft', ticker: 'AAPL', version: 2 });
        expect(await codeOf(store.replaceSymbol(onto, 1))).toBe('CONFLICT');
        expect((await store.symbols()).map((s) => [s.id, s.ticker, s.version])).toEqual([
          ['sym-aapl', 'AAPL', 1],
          ['sym-msft', 'MSFT', 1],
        ]);
      });

      it('keeps ticker changes and corporate actions; removes an action once', async () => {
        const { store } = await fresh();
        await store.insertChange(change);
        expect(await codeOf(store.insertChange(change))).toBe('CONFLICT');
        expect(await store.changes()).toEqual([change]);
        await store.insertCorporateAction(dividend);
        await store.insertCorporateAction(split);
        expect(await codeOf(store.insertCorporateAction(split))).toBe('CONFLICT');
        expect(await store.corporateActions()).toEqual([split, dividend]);
        expect(await store.deleteCorporateAction(split.id)).toEqual(split);
        expect(await store.deleteCorporateAction(split.id)).toBeUndefined();
        expect(await store.corporateActions()).toEqual([dividend]);
      });

      it('appends audit records and reads them in order, filtered and limited', async () => {
        const { store } = await fresh();
        const records = [3, 1, 2, 4].map((i) => audit(i));
        for (const record of records) await store.appendAudit(record);
        const inOrder = [1, 2, 3, 4].map((i) => audit(i));
        expect(await store.audit({})).toEqual(inOrder);
        expect(await store.audit({ actor: 'ada' })).toEqual([audit(2), audit(4)]);
        expect(await store.audit({ from: T0 + 3 })).toEqual([audit(3), audit(4)]);
        expect(await store.audit({ limit: 2 })).toEqual([audit(1), audit(2)]);
        expect(await store.audit({ entity: 'other' })).toEqual([]);
        expect(await codeOf(store.appendAudit(audit(1)))).toBe('CONFLICT');
        expect(await store.audit({})).toEqual(inOrder);
      });

      it('keeps every symbol, change, action and audit record across a restart', async () => {
        const { store, namespace } = await fresh();
        await store.insertSymbol(symbol());
        await store.replaceSymbol(symbol({ version: 2, sector: 'Hardware' }), 1);
        await store.insertSymbol(symbol({ id: 'sym-fb', ticker: 'META', name: 'Meta' }));
        await store.insertChange(change);
        await store.insertCorporateAction(split);
        await store.insertCorporateAction(dividend);
        await store.deleteCorporateAction(dividend.id);
        for (const i of [1, 2, 3]) await store.appendAudit(audit(i));
        const before = {
          symbols: await store.symbols(),
          changes: await store.changes(),
          actions: await store.corporateActions(),
          audit: await store.audit({}),
        };
        await store.close();
        const again = await backend.open(namespace);
        opened.push(again);
        expect({
          symbols: await again.symbols(),
          changes: await again.changes(),
          actions: await again.corporateActions(),
          audit: await again.audit({}),
        }).toEqual(before);
        expect(before.symbols.find((s) => s.id === 'sym-aapl')?.sector).toBe('Hardware');
        expect(before.actions).toEqual([split]);
        // Compare-and-set still works on what was reloaded.
        expect(await codeOf(again.replaceSymbol(symbol({ version: 2 }), 1))).toBe('CONFLICT');
        await again.replaceSymbol(symbol({ version: 3 }), 2);
      });

      it('outbox: a change carries its audit record in the same write; a crash before the drain loses nothing, and the next open moves each record once', async () => {
        const { store, namespace } = await fresh();
        const records = [
          audit(1, { action: 'symbol.create', before: null, after: symbol() }),
          audit(2, { action: 'symbol.update', before: symbol(), after: symbol({ version: 2 }) }),
          audit(3, { action: 'corporateAction.add', entity: split.id, before: null, after: split }),
          audit(4, {
            action: 'corporateAction.remove',
            entity: split.id,
            before: split,
            after: null,
          }),
        ];
        await store.insertSymbol(symbol(), records[0]);
        await store.replaceSymbol(symbol({ version: 2 }), 1, records[1]);
        await store.insertCorporateAction(split, records[2]);
        expect(await store.deleteCorporateAction(split.id, records[3])).toEqual(split);
        // The changes are there, exactly as records (the outbox is not part of them); the
        // audit log has nothing yet: the process "dies" here, before any drain.
        expect(await store.symbols()).toEqual([symbol({ version: 2 })]);
        expect(await store.corporateActions()).toEqual([]);
        expect(await store.audit({})).toEqual([]);
        await store.close();

        const again = await backend.open(namespace);
        opened.push(again);
        const masterData = await MasterData.open(again, { clock: new ManualClock(T0) });
        expect(await again.audit({})).toEqual(records);
        expect(await masterData.auditLog()).toEqual(records);
        expect(await again.drainAudit()).toBe(0);
        expect(await again.audit({})).toEqual(records);
        expect(await again.symbols()).toEqual([symbol({ version: 2 })]);
        expect(await again.corporateActions()).toEqual([]);
        // The removed action is gone for good once its record is in the log: it may be added again.
        await again.insertCorporateAction(split);
        expect(await again.corporateActions()).toEqual([split]);
      });

      it('outbox: a rename is one write — the new ticker, its ticker change and its audit record — listed at once and filed once by the drain, across a restart', async () => {
        const { store, namespace } = await fresh();
        const fb = symbol({ id: 'sym-fb', ticker: 'FB', name: 'Meta Platforms' });
        await store.insertSymbol(fb);
        const meta = { ...fb, ticker: 'META', version: 2 };
        const record = audit(5, {
          action: 'symbol.rename',
          entity: 'sym-fb',
          before: fb,
          after: { ...meta, change },
        });
        await store.replaceSymbol(meta, 1, record, change);
        // The process "dies" here, before any drain: the change is there with the ticker.
        expect(await store.symbols()).toEqual([meta]);
        expect(await store.changes()).toEqual([change]);
        await store.close();

        const again = await backend.open(namespace);
        opened.push(again);
        expect(await again.symbols()).toEqual([meta]);
        expect(await again.changes()).toEqual([change]);
        // A drain that died after filing the change and before taking it off the symbol:
        // filed once all the same.
        await again.insertChange(change);
        expect(await again.changes()).toEqual([change]);
        expect(await again.drainAudit()).toBe(1);
        expect(await again.drainAudit()).toBe(0);
        expect(await again.changes()).toEqual([change]);
        expect(await again.symbols()).toEqual([meta]);
        expect(await again.audit({})).toEqual([record]);
        // Filed: a second insert of the same change is refused, so it is in the collection.
        expect(await codeOf(again.insertChange(change))).toBe('CONFLICT');
      });

      it('outbox: a refused rename writes neither the ticker nor its change', async () => {
        const { store } = await fresh();
        const fb = symbol({ id: 'sym-fb', ticker: 'FB', name: 'Meta Platforms' });
        await store.insertSymbol(fb);
        await store.insertSymbol(symbol({ id: 'sym-meta', ticker: 'META', name: 'Other' }));
        // Onto a taken ticker, and on a stale version: CONFLICT, nothing written.
        expect(
          await codeOf(
            store.replaceSymbol({ ...fb, ticker: 'META', version: 2 }, 1, audit(1), change),
          ),
        ).toBe('CONFLICT');
        expect(
          await codeOf(
            store.replaceSymbol({ ...fb, ticker: 'FBX', version: 3 }, 2, audit(2), change),
          ),
        ).toBe('CONFLICT');
        expect(await store.changes()).toEqual([]);
        expect(await store.drainAudit()).toBe(0);
        expect(await store.changes()).toEqual([]);
        expect((await store.symbols()).map((s) => [s.id, s.ticker, s.version])).toEqual([
          ['sym-fb', 'FB', 1],
          ['sym-meta', 'META', 1],
        ]);
      });

      it('through MasterData: a rename resolves by either ticker at once and after a reopen, with one change and one audit record', async () => {
        const { store, namespace } = await fresh();
        const masterData = await MasterData.open(store, { clock: new ManualClock(T0) });
        const fb = await masterData.createSymbol(
          { ticker: 'FB', name: 'Facebook', exchange: 'XNAS' },
          'seed',
        );
        const meta = await masterData.renameSymbol('FB', fb.version, 'META', '2022-06-09', 'ada');
        expect(masterData.symbol('FB')?.id).toBe(fb.id);
        expect(masterData.symbol('META')?.id).toBe(fb.id);
        const expected = [
          {
            id: `${fb.id}:2022-06-09`,
            symbolId: fb.id,
            fromTicker: 'FB',
            toTicker: 'META',
            effectiveDate: '2022-06-09',
          },
        ];
        expect(await store.changes()).toEqual(expected);
        await store.close();
        const again = await backend.open(namespace);
        opened.push(again);
        const reopened = await MasterData.open(again, { clock: new ManualClock(T0) });
        expect(reopened.symbol('FB')?.id).toBe(meta.id);
        expect(reopened.symbol('FB')?.ticker).toBe('META');
        expect(await again.changes()).toEqual(expected);
        expect((await reopened.auditLog({ entity: fb.id })).map((r) => r.action)).toEqual([
          'symbol.create',
          'symbol.rename',
        ]);
      });

      it('outbox: a drain that dies after moving a record and before taking it off the document duplicates nothing', async () => {
        const { store, namespace } = await fresh();
        const record = audit(7, { action: 'symbol.create', before: null, after: symbol() });
        await store.insertSymbol(symbol(), record);
        // The drain's first step alone: the record is in the log, still pending on the symbol.
        await store.appendAudit(record);
        await store.close();

        const again = await backend.open(namespace);
        opened.push(again);
        expect(await again.drainAudit()).toBe(0);
        expect(await again.audit({})).toEqual([record]);
        expect(await again.drainAudit()).toBe(0);
        expect(await again.audit({})).toEqual([record]);
      });

      it('outbox: a refused compare-and-set writes neither the change nor its audit record', async () => {
        const { store } = await fresh();
        await store.insertSymbol(symbol(), audit(1, { action: 'symbol.create' }));
        await store.replaceSymbol(symbol({ version: 2 }), 1, audit(2));
        const stale = audit(3, { actor: 'loser' });
        expect(
          await codeOf(store.replaceSymbol(symbol({ name: 'Stale', version: 2 }), 1, stale)),
        ).toBe('CONFLICT');
        expect(await store.drainAudit()).toBe(2);
        expect((await store.audit({})).map((r) => r.id)).toEqual([audit(1).id, audit(2).id]);
        expect(await store.symbols()).toEqual([symbol({ version: 2 })]);
      });

      it('through MasterData: of two concurrent conflicting edits one wins, the other gets CONFLICT, and the audit log holds exactly the winner', async () => {
        const { store } = await fresh();
        const clock = new ManualClock(T0);
        const masterData = await MasterData.open(store, { clock });
        const created = await masterData.createSymbol(
          { ticker: 'IBM', name: 'IBM', exchange: 'XNYS' },
          'seed',
        );
        const edits = [
          masterData.updateSymbol(
            'IBM',
            created.version,
            { name: 'International Business Machines' },
            'ada',
          ),
          masterData.updateSymbol('IBM', created.version, { name: 'Big Blue' }, 'grace'),
        ];
        const outcomes = await Promise.allSettled(edits);
        const winners = outcomes.filter((o) => o.status === 'fulfilled');
        const losers = outcomes.filter((o) => o.status === 'rejected');
        expect(winners).toHaveLength(1);
        expect(losers).toHaveLength(1);
        expect((losers[0]!.reason as AlphalakeError).code).toBe('CONFLICT');
        const winner = (winners[0] as PromiseFulfilledResult<SymbolRecord>).value;
        const log = await masterData.auditLog({ entity: created.id });
        expect(log.map((r) => [r.action, r.actor])).toEqual([
          ['symbol.create', 'seed'],
          ['symbol.update', winner.name === 'Big Blue' ? 'grace' : 'ada'],
        ]);
        expect(log[1]!.before).toEqual(created);
        expect(log[1]!.after).toEqual(winner);
        expect(await store.symbols()).toEqual([winner]);
      });
    });
  }
}
