import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AlphalakeError, ManualClock, type Trade } from '../../../src/domain/index.js';
import { Ingestor } from '../../../src/ingest/index.js';
import {
  EmbeddedMasterDataStore,
  exportCorporateActionsCsv,
  importCorporateActionsCsv,
  MasterData,
  refreshReferenceData,
  type CorporateActionInput,
  type ReferenceDataSource,
  type SymbolInput,
  type UnknownSymbolPolicy,
} from '../../../src/mdm/index.js';
import { MemoryBus } from '../../../src/stream/index.js';

const root = mkdtempSync(path.join(tmpdir(), 'alphalake-mdm-unit-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const T0 = Date.parse('2026-11-20T15:00:00Z') * 1_000;
let n = 0;

async function open(unknownSymbols: UnknownSymbolPolicy = 'reject') {
  const store = await EmbeddedMasterDataStore.open(path.join(root, `md${++n}`));
  const clock = new ManualClock(T0);
  return { masterData: await MasterData.open(store, { clock, unknownSymbols }), clock };
}

const trade = (symbol: string, seq: number): Trade => ({
  symbol,
  ts: T0 - 1_000_000 + seq,
  seq,
  price: 10.25,
  size: 100,
  id: `${symbol}-${seq}`,
  exchange: 'XNAS',
});

async function codeOf(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run();
    return undefined;
  } catch (error) {
    return error instanceof AlphalakeError ? error.code : String(error);
  }
}

describe('unknown symbols at ingest', () => {
  it('are rejected with UNKNOWN_SYMBOL under MDM_UNKNOWN_SYMBOLS=reject', async () => {
    const { masterData, clock } = await open('reject');
    await masterData.ensureSymbols(['AAPL'], 'system');
    const ingestor = new Ingestor(new MemoryBus(), masterData, clock);
    expect(
      await ingestor.ingest({ trades: [trade('AAPL', 1), trade('NEWT', 2)], quotes: [] }, 'feed'),
    ).toEqual({
      accepted: 1,
      rejected: 1,
    });
    const { rejects } = ingestor.check({ trades: [trade('NEWT', 3)], quotes: [] }, 'feed');
    expect(rejects.map((r) => r.reason)).toEqual(['UNKNOWN_SYMBOL']);
    expect(masterData.symbol('NEWT')).toBeUndefined();
  });

  it('become PENDING symbols, audited as the ingest source, under MDM_UNKNOWN_SYMBOLS=pending', async () => {
    const { masterData, clock } = await open('pending');
    const ingestor = new Ingestor(new MemoryBus(), masterData, clock);
    expect(
      await ingestor.ingest({ trades: [trade('NEWT', 1), trade('NEWT', 2)], quotes: [] }, 'feed'),
    ).toEqual({
      accepted: 2,
      rejected: 0,
    });
    const created = masterData.symbol('NEWT');
    expect(created).toMatchObject({ ticker: 'NEWT', status: 'PENDING', version: 1 });
    const log = await masterData.auditLog({ entity: created!.id });
    expect(log.map((r) => [r.actor, r.action])).toEqual([['ingest:feed', 'symbol.create']]);
    // Unreviewed: not part of any point-in-time universe.
    expect(masterData.symbols('2026-11-20').map((s) => s.ticker)).not.toContain('NEWT');
    // A second batch creates nothing more.
    await ingestor.ingest({ trades: [trade('NEWT', 3)], quotes: [] }, 'feed');
    expect(await masterData.auditLog({ entity: created!.id })).toHaveLength(1);
  });
});

describe('ticker changes', () => {
  it('resolve either ticker, refuse a change not after the last one, and let a ticker be reused', async () => {
    const { masterData } = await open();
    const fb = await masterData.createSymbol(
      { ticker: 'FB', name: 'Facebook', exchange: 'XNAS' },
      'ada',
    );
    const meta = await masterData.renameSymbol('FB', fb.version, 'META', '2022-06-09', 'ada');
    expect(masterData.series('FB')?.symbolId).toBe(fb.id);
    expect(masterData.isKnown('FB')).toBe(true);
    expect(
      await codeOf(() => masterData.renameSymbol('META', meta.version, 'MT', '2022-06-09', 'ada')),
    ).toBe('BAD_USER_INPUT');
    await masterData.createSymbol({ ticker: 'MSFT', name: 'Microsoft', exchange: 'XNAS' }, 'ada');
    expect(
      await codeOf(() =>
        masterData.renameSymbol('META', meta.version, 'MSFT', '2023-01-03', 'ada'),
      ),
    ).toBe('CONFLICT');
    // A new security takes the old ticker: FB now names it; as of 2021, the old one.
    const reused = await masterData.createSymbol(
      { ticker: 'FB', name: 'Fresh Bakeries', exchange: 'XNYS', listedDate: '2025-01-02' },
      'ada',
    );
    expect(masterData.symbol('FB')?.id).toBe(reused.id);
    expect(masterData.symbol('FB', '2021-01-04')?.id).toBe(fb.id);
    expect(masterData.series('FB')?.symbolId).toBe(reused.id);
    expect(masterData.series('META')?.segments.map((s) => s.ticker)).toEqual(['FB', 'META']);
  });

  it('a stale version is CONFLICT and leaves no audit record', async () => {
    const { masterData } = await open();
    const ibm = await masterData.createSymbol(
      { ticker: 'IBM', name: 'IBM', exchange: 'XNYS' },
      'ada',
    );
    await masterData.updateSymbol('IBM', ibm.version, { sector: 'Technology' }, 'ada');
    expect(
      await codeOf(() => masterData.updateSymbol('IBM', ibm.version, { sector: 'Other' }, 'grace')),
    ).toBe('CONFLICT');
    expect((await masterData.auditLog({ entity: ibm.id })).map((r) => r.actor)).toEqual([
      'ada',
      'ada',
    ]);
    expect(masterData.symbol('IBM')?.sector).toBe('Technology');
  });
});

describe('corporate actions CSV', () => {
  it('imports row by row with per-row errors and exports what it holds', async () => {
    const { masterData } = await open();
    await masterData.createSymbol({ ticker: 'AAPL', name: 'Apple', exchange: 'XNAS' }, 'ada');
    const csv = [
      'symbol,kind,exDate,splitFrom,splitTo,cashAmount,currency,source',
      'AAPL,split,2020-08-31,1,4,,,polygon',
      'AAPL,dividend,2024-05-10,,,0.25,USD,polygon',
      'AAPL,split,2020-08-31,1,4,,,polygon',
      'NOPE,split,2020-08-31,1,2,,,polygon',
      'AAPL,dividend,2024-08-12,,,abc,USD,polygon',
      'AAPL,merger,2024-08-12,,,,,polygon',
    ].join('\r\n');
    const { results } = await importCorporateActionsCsv(masterData, csv, 'ada');
    expect(results.map((r) => [r.line, r.status, r.code ?? null])).toEqual([
      [2, 'CREATED', null],
      [3, 'CREATED', null],
      [4, 'ERROR', 'CONFLICT'],
      [5, 'ERROR', 'NOT_FOUND'],
      [6, 'ERROR', 'BAD_USER_INPUT'],
      [7, 'ERROR', 'BAD_USER_INPUT'],
    ]);
    expect(exportCorporateActionsCsv(masterData)).toBe(
      [
        'symbol,kind,exDate,splitFrom,splitTo,cashAmount,currency,source',
        'AAPL,split,2020-08-31,1,4,,,polygon',
        'AAPL,dividend,2024-05-10,,,0.25,USD,polygon',
        '',
      ].join('\n'),
    );
    expect(
      await codeOf(() =>
        importCorporateActionsCsv(masterData, 'symbol,kind,when\nAAPL,split,x', 'ada'),
      ),
    ).toBe('BAD_USER_INPUT');
  });
});

describe('reference data refresh', () => {
  const signal = new AbortController().signal;
  /** A vendor feed as the source clients hand it over (the records a Polygon client would yield). */
  const feed = (symbols: SymbolInput[], actions: CorporateActionInput[]): ReferenceDataSource => ({
    name: 'polygon',
    async *symbols() {
      for (const value of symbols) yield { key: value.ticker, value };
    },
    async *corporateActions() {
      for (const value of actions) yield { key: `${value.symbol} ${value.kind}`, value };
    },
  });

  it('creates and updates symbols, adds actions once, reports each record, and audits as the source', async () => {
    const { masterData } = await open();
    await masterData.createSymbol({ ticker: 'AAPL', name: 'Apple', exchange: 'XNAS' }, 'ada');
    const source = feed(
      [
        { ticker: 'AAPL', name: 'Apple Inc.', exchange: 'XNAS', sector: 'Technology' },
        { ticker: 'NVDA', name: 'NVIDIA Corporation', exchange: 'XNAS' },
        { ticker: 'BAD', name: 'Bad', exchange: 'no-mic' },
      ],
      [
        { symbol: 'NVDA', kind: 'split', exDate: '2024-06-10', splitFrom: 1, splitTo: 10 },
        { symbol: 'AAPL', kind: 'dividend', exDate: '2024-05-10', cashAmount: 0.25 },
      ],
    );
    const first = await refreshReferenceData(masterData, source, 'job:7', signal);
    expect(first.symbols.results.map((r) => [r.line, r.key, r.status, r.code ?? null])).toEqual([
      [1, 'AAPL', 'UPDATED', null],
      [2, 'NVDA', 'CREATED', null],
      [3, 'BAD', 'ERROR', 'BAD_USER_INPUT'],
    ]);
    expect(first.corporateActions.results.map((r) => r.status)).toEqual(['CREATED', 'CREATED']);
    expect(masterData.symbol('AAPL')).toMatchObject({ name: 'Apple Inc.', sector: 'Technology' });
    expect(masterData.corporateActions('NVDA').map((a) => a.source)).toEqual(['polygon']);

    // Again: nothing changes, nothing is audited.
    const audited = (await masterData.auditLog()).length;
    const again = await refreshReferenceData(masterData, source, 'job:7', signal);
    expect(again.symbols.results.map((r) => r.status)).toEqual(['UNCHANGED', 'UNCHANGED', 'ERROR']);
    expect(again.corporateActions.results.map((r) => r.status)).toEqual(['UNCHANGED', 'UNCHANGED']);
    expect(await masterData.auditLog()).toHaveLength(audited);
    expect((await masterData.auditLog({ actor: 'job:7' })).map((r) => r.action)).toEqual([
      'symbol.update',
      'symbol.create',
      'corporateAction.add',
      'corporateAction.add',
    ]);

    // A vendor that now says otherwise is reported, never written over.
    const changed = await refreshReferenceData(
      masterData,
      feed([], [{ symbol: 'AAPL', kind: 'dividend', exDate: '2024-05-10', cashAmount: 0.24 }]),
      'job:8',
      signal,
    );
    expect(changed.corporateActions.results.map((r) => [r.status, r.code])).toEqual([
      ['ERROR', 'CONFLICT'],
    ]);
    expect(
      masterData.corporateActions('AAPL').map((a) => a.kind === 'dividend' && a.cashAmount),
    ).toEqual([0.25]);
  });
});
