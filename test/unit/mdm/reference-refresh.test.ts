import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isAlphalakeError, ManualClock } from '../../../src/domain/index.js';
import {
  EXACT_LOOKUPS_MAX,
  PolygonReferenceData,
  PolygonRestClient,
  YahooChartClient,
  YahooReferenceData,
  type RetryNotice,
} from '../../../src/ingest/index.js';
import {
  assertRefreshComplete,
  EmbeddedMasterDataStore,
  lacksListingDate,
  MasterData,
  tickersToRefresh,
  refreshReferenceData,
  type ImportRowResult,
} from '../../../src/mdm/index.js';
import { startPolygonRest, startYahoo, type VendorServer } from '../../support/vendor-servers.js';

/**
 * `mdm.refresh`'s work: Polygon's paged ticker list (details where it lacks a field), splits and dividends, and Yahoo's chart
 * events, read over HTTP from local servers speaking their wire formats (fixtures under
 * test/fixtures), applied to master data on the embedded store.
 */

const KEY = 'pk_test_reference_5c1e';
const root = mkdtempSync(path.join(tmpdir(), 'alphalake-reference-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const servers: VendorServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const T0 = Date.parse('2026-11-30T12:00:00Z') * 1_000;
let n = 0;
const signal = new AbortController().signal;

async function open() {
  const store = await EmbeddedMasterDataStore.open(path.join(root, `md${++n}`));
  return MasterData.open(store, { clock: new ManualClock(T0) });
}

const rows = (results: readonly ImportRowResult[]) =>
  results.map((r) => [r.key, r.status, r.code ?? null]);

async function polygonServer() {
  const server = await startPolygonRest({
    apiKey: KEY,
    details: {
      '/v3/reference/tickers/AAPL': 'polygon/ticker-AAPL.json',
      '/v3/reference/tickers/SPY': 'polygon/ticker-SPY.json',
      '/v3/reference/tickers/TWTR': 'polygon/ticker-TWTR.json',
      '/v3/reference/tickers/NONAME': 'polygon/ticker-NONAME.json',
    },
    routes: {
      '/v3/reference/tickers': 'polygon/tickers-reference.json',
      '/v3/reference/splits': 'polygon/splits-AAPL.json',
      '/v3/reference/dividends': 'polygon/dividends-AAPL.json',
    },
    // Polygon's rate limit on the first details call: retried after Retry-After.
    faults: { '/v3/reference/tickers/AAPL': [{ status: 429, retryAfter: '0' }] },
  });
  servers.push(server);
  return server;
}

describe('reference data refresh from Polygon', () => {
  it('updates, creates and delists symbols, adds splits and dividends page by page, audits each change as the job, and changes nothing the second time', async () => {
    const masterData = await open();
    await masterData.createSymbol({ ticker: 'AAPL', name: 'Apple', exchange: 'XNAS' }, 'ada');
    await masterData.createSymbol(
      { ticker: 'TWTR', name: 'Twitter', exchange: 'XNYS', listedDate: '2013-11-07' },
      'ada',
    );
    const server = await polygonServer();
    const notices: RetryNotice[] = [];
    const client = new PolygonRestClient({
      apiKey: KEY,
      baseUrl: server.url,
      callsPerMinute: 0,
      backoffBaseMs: 1,
      pageLimit: 1,
      onRetry: (notice) => notices.push(notice),
    });
    const tickers = ['AAPL', 'SPY', 'TWTR', 'NONAME', 'NOPE'];
    const source = new PolygonReferenceData(
      client,
      () => tickers,
      (ticker) => lacksListingDate(masterData, ticker),
    );

    const first = await refreshReferenceData(masterData, source, 'job:41', signal);
    expect(rows(first.symbols.results)).toEqual([
      ['AAPL', 'UPDATED', null],
      ['SPY', 'CREATED', null],
      ['TWTR', 'UPDATED', null],
      ['NONAME', 'ERROR', 'UPSTREAM_MALFORMED'],
      ['NOPE', 'ERROR', 'NOT_FOUND'],
    ]);
    expect(rows(first.corporateActions.results)).toEqual([
      ['AAPL split 2014-06-09', 'CREATED', null],
      ['AAPL split 2020-08-31', 'CREATED', null],
      ['AAPL dividend 2021-11-05', 'CREATED', null],
      ['AAPL dividend 2023-05-12', 'CREATED', null],
    ]);
    expect(notices.map((n) => [n.path, n.status])).toEqual([['/v3/reference/tickers/AAPL', 429]]);
    // One record a page (pageLimit 1): each of the two splits and two dividends its own page.
    const pages = (p: string) => server.requests.filter((r) => r.url.startsWith(p)).length;
    expect(pages('/v3/reference/splits?')).toBe(2 + 4); // AAPL: 2 pages; SPY, TWTR, NONAME, NOPE: 1 empty page each
    expect(pages('/v3/reference/dividends?')).toBe(2 + 4);
    expect(server.requests.every((r) => r.authorization === `Bearer ${KEY}`)).toBe(true);
    // Five tickers (a few: looked up by name, a call each), active, then inactive for the
    // two not listed active (NOPE, TWTR): one unknown ticker costs a call, not a scan.
    // Details only for the symbols without a listing date: AAPL (after a 429), SPY and
    // NONAME (new); none for TWTR (listed since 2013) or NOPE (on no list).
    const listCalls = server.requests
      .filter((r) => r.url.startsWith('/v3/reference/tickers?'))
      .map((r) => {
        const query = new URL(r.url, server.url).searchParams;
        return [query.get('active'), query.get('ticker')];
      });
    expect(listCalls).toEqual([
      ['true', 'AAPL'],
      ['true', 'NONAME'],
      ['true', 'NOPE'],
      ['true', 'SPY'],
      ['true', 'TWTR'],
      ['false', 'NOPE'],
      ['false', 'TWTR'],
    ]);
    expect(
      server.requests.filter((r) => r.url.startsWith('/v3/reference/tickers/')).map((r) => r.url),
    ).toEqual([
      '/v3/reference/tickers/AAPL',
      '/v3/reference/tickers/AAPL',
      '/v3/reference/tickers/SPY',
      '/v3/reference/tickers/NONAME',
    ]);

    expect(masterData.symbol('AAPL')).toMatchObject({
      name: 'Apple Inc.',
      exchange: 'XNAS',
      assetClass: 'EQUITY',
      currency: 'USD',
      industry: 'ELECTRONIC COMPUTERS',
      sector: null,
      listedDate: '1980-12-12',
      delistedDate: null,
      status: 'ACTIVE',
      version: 2,
    });
    expect(masterData.symbol('SPY')).toMatchObject({
      name: 'SPDR S&P 500 ETF Trust',
      exchange: 'ARCX',
      assetClass: 'ETF',
      listedDate: '1993-01-29',
      status: 'ACTIVE',
      version: 1,
    });
    expect(masterData.symbol('TWTR')).toMatchObject({
      status: 'DELISTED',
      delistedDate: '2022-11-08',
      version: 2,
    });
    expect(masterData.corporateActions('AAPL').map((a) => [a.kind, a.exDate, a.source])).toEqual([
      ['split', '2014-06-09', 'polygon'],
      ['split', '2020-08-31', 'polygon'],
      ['dividend', '2021-11-05', 'polygon'],
      ['dividend', '2023-05-12', 'polygon'],
    ]);
    const audit = await masterData.auditLog({ actor: 'job:41' });
    expect(audit.map((r) => r.action)).toEqual([
      'symbol.update',
      'symbol.create',
      'symbol.update',
      'corporateAction.add',
      'corporateAction.add',
      'corporateAction.add',
      'corporateAction.add',
    ]);
    expect(() => assertRefreshComplete(first)).toThrow(/2 record\(s\) in error/);

    // Again: every record UNCHANGED (the errors stay errors), no audit record written.
    const all = (await masterData.auditLog()).length;
    const second = await refreshReferenceData(masterData, source, 'job:42', signal);
    expect(second.symbols.results.map((r) => r.status)).toEqual([
      'UNCHANGED',
      'UNCHANGED',
      'UNCHANGED',
      'ERROR',
      'ERROR',
    ]);
    expect(second.corporateActions.results.map((r) => r.status)).toEqual([
      'UNCHANGED',
      'UNCHANGED',
      'UNCHANGED',
      'UNCHANGED',
    ]);
    expect(await masterData.auditLog()).toHaveLength(all);
    expect(await masterData.auditLog({ actor: 'job:42' })).toEqual([]);
    expect(masterData.symbol('AAPL')?.version).toBe(2);
  });

  it('pages the ticker list for many tickers: a few pages, no per-ticker call once each symbol has its listing date', async () => {
    const masterData = await open();
    const listed = {
      AAPL: '1980-12-12',
      AMD: '1972-09-27',
      AMZN: '1997-05-15',
      BA: '1962-01-02',
      C: '1986-10-29',
      CAT: '1962-01-02',
      DIS: '1962-01-02',
      FRC: '2010-12-09',
      GE: '1962-01-02',
      IBM: '1962-01-02',
      INTC: '1971-10-13',
      KO: '1962-01-02',
      MSFT: '1986-03-13',
      NKE: '1980-12-02',
      PFE: '1972-06-01',
      SPY: '1993-01-29',
      TWTR: '2013-11-07',
      ZM: '2019-04-18',
    };
    expect(Object.keys(listed).length).toBeGreaterThan(EXACT_LOOKUPS_MAX);
    for (const [ticker, listedDate] of Object.entries(listed)) {
      await masterData.createSymbol({ ticker, name: ticker, exchange: 'XNYS', listedDate }, 'ada');
    }
    const server = await polygonServer();
    const client = new PolygonRestClient({
      apiKey: KEY,
      baseUrl: server.url,
      callsPerMinute: 0,
      pageLimit: 5,
    });
    const source = new PolygonReferenceData(
      client,
      () => tickersToRefresh(masterData, undefined),
      (ticker) => lacksListingDate(masterData, ticker),
    );
    const result = await refreshReferenceData(masterData, source, 'job:45', signal);
    expect(rows(result.symbols.results)).toEqual(
      Object.keys(listed).map((ticker) => [ticker, 'UPDATED', null]),
    );
    const tickerCalls = server.requests
      .filter((r) => r.url.startsWith('/v3/reference/tickers'))
      .map((r) => {
        const url = new URL(r.url, server.url);
        return [url.pathname, Object.fromEntries(url.searchParams)];
      });
    // 18 tickers: the active list over AAPL..ZM (17 listed there, NONAME included) in pages
    // of 5, then the two not listed active (FRC, TWTR) by name: six calls, no details.
    const first = { market: 'stocks', sort: 'ticker', order: 'asc', limit: '5' };
    const active = { ...first, active: 'true', 'ticker.gte': 'AAPL', 'ticker.lte': 'ZM' };
    const next = { ...active, cursor: expect.any(String) };
    expect(tickerCalls).toEqual([
      ['/v3/reference/tickers', active],
      ['/v3/reference/tickers', next],
      ['/v3/reference/tickers', next],
      ['/v3/reference/tickers', next],
      ['/v3/reference/tickers', { ...first, active: 'false', ticker: 'FRC' }],
      ['/v3/reference/tickers', { ...first, active: 'false', ticker: 'TWTR' }],
    ]);
    // The active record wins over a former holder's; of two delisted, the latest.
    expect(masterData.symbol('AAPL')).toMatchObject({
      name: 'Apple Inc.',
      exchange: 'XNAS',
      status: 'ACTIVE',
      listedDate: '1980-12-12',
    });
    expect(masterData.symbol('FRC')).toMatchObject({
      name: 'First Republic Bank',
      status: 'DELISTED',
      delistedDate: '2023-05-01',
      listedDate: '2010-12-09',
    });
    expect(masterData.symbol('SPY')).toMatchObject({ assetClass: 'ETF', exchange: 'ARCX' });
  });

  it('stops with the vendor refusal when the key is refused, having changed nothing', async () => {
    const masterData = await open();
    const server = await polygonServer();
    const client = new PolygonRestClient({
      apiKey: 'pk_wrong',
      baseUrl: server.url,
      callsPerMinute: 0,
    });
    const error = await refreshReferenceData(
      masterData,
      new PolygonReferenceData(client, () => ['SPY']),
      'job:43',
      signal,
    ).catch((e: unknown) => e);
    expect(isAlphalakeError(error, 'BAD_USER_INPUT')).toBe(true);
    expect(String((error as Error).message)).not.toContain('pk_wrong');
    expect(masterData.symbol('SPY')).toBeUndefined();
    expect(await masterData.auditLog()).toEqual([]);
  });
});

describe('reference data refresh from Yahoo', () => {
  it('adds chart splits and dividends (dividends read back through later splits), and knows a Polygon split already recorded', async () => {
    const masterData = await open();
    await masterData.createSymbol({ ticker: 'AAPL', name: 'Apple', exchange: 'XNAS' }, 'ada');
    await masterData.addCorporateAction(
      {
        symbol: 'AAPL',
        kind: 'split',
        exDate: '2020-08-31',
        splitFrom: 1,
        splitTo: 4,
        source: 'polygon',
      },
      'ada',
    );
    const server = await startYahoo({ symbols: { AAPL: 'yahoo/chart-AAPL.json' } });
    servers.push(server);
    const source = new YahooReferenceData(
      new YahooChartClient({ baseUrl: server.url, backoffBaseMs: 1 }),
      () => ['AAPL', 'NOPE'],
      () => T0,
    );
    const first = await refreshReferenceData(masterData, source, 'job:44', signal);
    expect(first.symbols.results).toEqual([]);
    expect(rows(first.corporateActions.results)).toEqual([
      ['AAPL split 2020-08-31', 'UNCHANGED', null],
      ['AAPL dividend 2020-08-07', 'CREATED', null],
      ['NOPE', 'ERROR', 'NOT_FOUND'],
    ]);
    const dividend = masterData
      .corporateActions('AAPL')
      .find((a) => a.kind === 'dividend' && a.exDate === '2020-08-07');
    // 0.205 split-adjusted by the 4-for-1 of 2020-08-31: 0.82 paid a share that day.
    expect(dividend).toMatchObject({ cashAmount: 0.205 * 4, currency: 'USD', source: 'yahoo' });
    expect(server.requests[0]?.url).toMatch(
      /period1=0&period2=\d+&interval=3mo&events=div%2Csplits/,
    );

    const audited = (await masterData.auditLog()).length;
    const second = await refreshReferenceData(masterData, source, 'job:45', signal);
    expect(second.corporateActions.results.map((r) => r.status)).toEqual([
      'UNCHANGED',
      'UNCHANGED',
      'ERROR',
    ]);
    expect(await masterData.auditLog()).toHaveLength(audited);
  });
});
