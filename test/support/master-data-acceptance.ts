import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authSettingsOf, createPlatform, type Platform } from '../../src/app.js';
import { mintToken, type ApiRole } from '../../src/auth/index.js';
import { configWith, type Config } from '../../src/config/index.js';
import {
  aggregateBars,
  ManualClock,
  MINUTE_US,
  type Bar,
  type Trade,
} from '../../src/domain/index.js';
import type { ApiServer } from '../../src/graphql/index.js';
import { startLoopbackApi } from './api.js';
import { dataOf, postGraphql, type GqlResult } from './graphql.js';

/**
 * Master data end to end through GraphQL (docs/mdm.md), on a master-data backend: adjusted bars and
 * trades for a split and a cash dividend against an oracle recomputed here from the raw
 * tape, FB → META as one series, the point-in-time universe, CSV import with per-row
 * errors, the CONFLICT race with its audit log, and a restart that keeps it all.
 *
 * The history is written straight into the lake (the sink's backfill path) from a tape
 * made here, so the raw bars have an independent oracle: the domain's bar builder over
 * that tape.
 */
const at = (iso: string): number => Date.parse(iso) * 1_000;
const T0 = at('2026-11-20T15:07:30Z');
const clock = new ManualClock(T0);
let platform: Platform;
let server: ApiServer;
/** Authentication is on (AUTH_MODE=jwt): every request carries a token minted for the config. */
let config: Config;

export interface MasterDataAcceptanceBackend {
  readonly name: string;
  /** The store the platform must pick from `settings`. */
  readonly store: 'embedded' | 'mongodb';
  /** Settings that pick the backend (`mongodbUri`, or none for embedded). */
  readonly settings: () => Partial<Config>;
  /** Removes what the backend kept (a database). */
  readonly dispose?: () => Promise<void>;
}

/** A token as `alphalake auth token` mints it, for the user `<role>-user`. */
const token = (role: ApiRole) =>
  mintToken(authSettingsOf(config), {
    user: `${role}-user`,
    role,
    ttlSeconds: 600,
    now: Date.now() * 1_000,
  });

/** As an admin (master data's edits and audit log need one) unless `role` says otherwise. */
async function gql<T = Record<string, unknown>>(
  query: string,
  variables: Record<string, unknown> = {},
  role: ApiRole = 'admin',
): Promise<GqlResult<T>> {
  return postGraphql<T>(server.url, query, variables, `Bearer ${await token(role)}`);
}

async function ok<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  return dataOf(await gql<T>(query, variables));
}

/** Three trades a minute for `minutes` minutes from 14:30 UTC on each day, prices near `base`. */
function tape(symbol: string, days: readonly string[], base: number, minutes = 5): Trade[] {
  const trades: Trade[] = [];
  let seq = 1;
  days.forEach((day, d) => {
    for (let m = 0; m < minutes; m++) {
      for (let k = 0; k < 3; k++) {
        const ts = at(`${day}T14:30:00Z`) + m * MINUTE_US + k * 17_000_123 + 7;
        trades.push({
          symbol,
          ts,
          seq: seq++,
          // Not short decimals: an adjustment that rounds would show.
          price: base + d * 0.75 + m * 0.1 + k * 0.03 + 1 / 3,
          size: 100 + 37 * k + m,
          id: `${symbol}-${seq}`,
          exchange: 'XNAS',
        });
      }
    }
  });
  return trades;
}

const SPLIT_DAYS = ['2024-03-01', '2024-03-04', '2024-03-05', '2024-03-06'];
const splitTape = tape('SPLT', SPLIT_DAYS, 200);
const dividendTape = tape('DIVY', SPLIT_DAYS, 54);
const fbTape = tape('FB', ['2022-06-06', '2022-06-07', '2022-06-08'], 190);
const metaTape = tape('META', ['2022-06-09', '2022-06-10'], 196);

interface ApiBar {
  symbol: string;
  tsMicros: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  vwap: number;
  tradeCount: number;
  source: string;
}
interface ApiTrade {
  symbol: string;
  tsMicros: number;
  seq: number;
  price: number;
  size: number;
  id: string;
  source: string;
}

const BARS = `query($symbol: String!, $from: DateTime, $to: DateTime, $adjusted: Boolean) {
  bars(symbol: $symbol, from: $from, to: $to, adjusted: $adjusted) {
    symbol tsMicros open high low close volume vwap tradeCount source
  }
}`;
const TRADES = `query($symbol: String!, $from: DateTime, $to: DateTime, $adjusted: Boolean) {
  trades(symbol: $symbol, from: $from, to: $to, adjusted: $adjusted, limit: 100000) {
    symbol tsMicros seq price size id source
  }
}`;

async function bars(symbol: string, from: string, to: string, adjusted?: boolean) {
  const data = await ok<{ bars: ApiBar[] }>(BARS, {
    symbol,
    from,
    to,
    ...(adjusted === undefined ? {} : { adjusted }),
  });
  return data.bars;
}

const BARS_AT = `query($symbol: String!, $interval: String!, $from: DateTime, $to: DateTime, $adjusted: Boolean) {
  bars(symbol: $symbol, interval: $interval, from: $from, to: $to, adjusted: $adjusted) {
    symbol tsMicros open high low close volume vwap tradeCount source
  }
}`;

async function barsAt(
  symbol: string,
  interval: string,
  from: string,
  to: string,
  adjusted: boolean,
): Promise<ApiBar[]> {
  const data = await ok<{ bars: ApiBar[] }>(BARS_AT, { symbol, interval, from, to, adjusted });
  return data.bars;
}

async function trades(symbol: string, from: string, to: string, adjusted?: boolean) {
  const data = await ok<{ trades: ApiTrade[] }>(TRADES, {
    symbol,
    from,
    to,
    ...(adjusted === undefined ? {} : { adjusted }),
  });
  return data.trades;
}

/**
 * Split-adjusted bars against the raw ones, bar by bar: before `exMicros` prices scale by
 * 1/ratio and volume by the ratio. The test's ratio is 2, a power of two, so each scaled
 * value is exact and equality at full precision is the right test.
 */
function expectSplitAdjusted(adjusted: ApiBar[], raw: ApiBar[], exMicros: number, ratio = 2) {
  for (const [i, bar] of adjusted.entries()) {
    const r = raw[i]!;
    const f = r.tsMicros < exMicros ? 1 / ratio : 1;
    const v = r.tsMicros < exMicros ? ratio : 1;
    expect([bar.open, bar.high, bar.low, bar.close, bar.vwap, bar.volume, bar.tradeCount]).toEqual([
      r.open * f,
      r.high * f,
      r.low * f,
      r.close * f,
      r.vwap * f,
      r.volume * v,
      r.tradeCount,
    ]);
  }
}

/** The raw bars as served, against the bar builder over the tape (every value exact). */
function expectRaw(served: ApiBar[], oracle: Bar[]) {
  expect(
    served.map((b) => [
      b.symbol,
      b.tsMicros,
      b.open,
      b.high,
      b.low,
      b.close,
      b.volume,
      b.vwap,
      b.tradeCount,
    ]),
  ).toEqual(
    oracle.map((b) => [
      b.symbol,
      b.ts,
      b.open,
      b.high,
      b.low,
      b.close,
      b.volume,
      b.vwap,
      b.tradeCount,
    ]),
  );
}

const SYMBOL_FIELDS =
  'id ticker symbol name exchange status version listedDate delistedDate changes { fromTicker toTicker effectiveDate }';

async function createSymbol(input: Record<string, unknown>) {
  const data = await ok<{ createSymbol: { id: string; ticker: string; version: number } }>(
    `mutation($input: SymbolInput!) { createSymbol(input: $input) { ${SYMBOL_FIELDS} } }`,
    { input },
  );
  return data.createSymbol;
}

async function addAction(input: Record<string, unknown>) {
  return ok<{ addCorporateAction: { id: string } }>(
    'mutation($input: CorporateActionInput!) { addCorporateAction(input: $input) { id kind exDate } }',
    { input },
  );
}

export function masterDataAcceptance(backend: MasterDataAcceptanceBackend): void {
  describe(`master data through GraphQL: ${backend.name}`, () => {
    const home = mkdtempSync(path.join(tmpdir(), 'alphalake-mdm-it-'));
    config = configWith({
      home,
      port: 0,
      simulatorEnabled: false,
      authMode: 'jwt',
      authJwtSecret: 'master-data-acceptance-secret-of-32-bytes-or-more',
      ...backend.settings(),
    });

    beforeAll(async () => {
      platform = await createPlatform(config, { clock });
      expect(platform.masterData.backend).toBe(backend.store);
      await platform.start({ live: false });
      server = await startLoopbackApi(platform, {
        backends: (signal) => platform.backends(signal),
      });
      const history = [...fbTape, ...metaTape, ...splitTape, ...dividendTape].sort(
        (a, b) => a.ts - b.ts || (a.symbol < b.symbol ? -1 : 1),
      );
      await platform.sink.writeHistory(
        { from: at('2022-06-01T00:00:00Z'), to: at('2024-03-08T00:00:00Z') },
        history,
        [],
      );
    });

    afterAll(async () => {
      await server?.close();
      await platform?.stop();
      rmSync(home, { recursive: true, force: true });
      await backend.dispose?.();
    });

    describe('adjusted prices (docs/mdm.md)', () => {
      const FROM = '2024-03-01T00:00:00Z';
      const TO = '2024-03-07T00:00:00Z';
      const EX = at('2024-03-05T00:00:00Z');

      it('a 2-for-1 split halves adjusted prices and doubles adjusted volume before the ex-date; raw bars stay unchanged', async () => {
        await createSymbol({ ticker: 'SPLT', name: 'Split Corp', exchange: 'XNYS' });
        const rawBefore = await bars('SPLT', FROM, TO, false);
        expectRaw(rawBefore, aggregateBars(splitTape));
        // With no action yet, the adjusted series is the raw one.
        expect(await bars('SPLT', FROM, TO)).toEqual(rawBefore);
        const rawTradesBefore = await trades('SPLT', FROM, TO, false);

        await addAction({
          symbol: 'SPLT',
          kind: 'SPLIT',
          exDate: '2024-03-05',
          splitFrom: 1,
          splitTo: 2,
        });
        const raw = await bars('SPLT', FROM, TO, false);
        const adjusted = await bars('SPLT', FROM, TO);
        expect(raw).toEqual(rawBefore);
        expect(adjusted.map((b) => b.tsMicros)).toEqual(raw.map((b) => b.tsMicros));
        const before = raw.filter((b) => b.tsMicros < EX).length;
        expect(before).toBe(10);
        expect(raw.length - before).toBe(10);
        expectSplitAdjusted(adjusted, raw, EX);

        const rawTrades = await trades('SPLT', FROM, TO, false);
        expect(rawTrades).toEqual(rawTradesBefore);
        expect(rawTrades.map((t) => [t.tsMicros, t.seq, t.price, t.size])).toEqual(
          splitTape.map((t) => [t.ts, t.seq, t.price, t.size]),
        );
        const adjustedTrades = await trades('SPLT', FROM, TO);
        expect(adjustedTrades.map((t) => [t.tsMicros, t.seq, t.id, t.price, t.size])).toEqual(
          rawTrades.map((t) =>
            t.tsMicros < EX
              ? [t.tsMicros, t.seq, t.id, t.price * 0.5, t.size * 2]
              : [t.tsMicros, t.seq, t.id, t.price, t.size],
          ),
        );
      });

      it('adjusts bars at every interval before rolling them up: 1s from trades, 5m, 1h, 1d', async () => {
        // SPLT's 2-for-1 split (the test above) at EX: factors 0.5 and 2 are powers of
        // two, so each adjusted value is the raw one scaled exactly, roll-ups included.
        for (const interval of ['1s', '5m', '1h', '1d']) {
          const raw = await barsAt('SPLT', interval, FROM, TO, false);
          const adjusted = await barsAt('SPLT', interval, FROM, TO, true);
          expect(raw.length).toBeGreaterThan(0);
          expect(raw.some((b) => b.tsMicros < EX)).toBe(true);
          expect(adjusted.map((b) => b.tsMicros)).toEqual(raw.map((b) => b.tsMicros));
          expectSplitAdjusted(adjusted, raw, EX);
        }
      });

      it('a cash dividend adjusts prices before the ex-date by 1 − D / (the close before the ex-date), volumes not at all', async () => {
        await createSymbol({ ticker: 'DIVY', name: 'Dividend Inc.', exchange: 'XNAS' });
        const raw = await bars('DIVY', FROM, TO, false);
        expectRaw(raw, aggregateBars(dividendTape));
        const D = 0.37;
        await addAction({
          symbol: 'DIVY',
          kind: 'DIVIDEND',
          exDate: '2024-03-05',
          cashAmount: D,
          currency: 'USD',
        });
        // The oracle: P is the raw close of the last bar before the ex-date, from the tape.
        const lastBefore = aggregateBars(dividendTape.filter((t) => t.ts < EX)).at(-1)!;
        const factor = 1 - D / lastBefore.close;
        expect(factor).toBeLessThan(1);
        const adjusted = await bars('DIVY', FROM, TO);
        expect(
          adjusted.map((b) => [b.tsMicros, b.open, b.high, b.low, b.close, b.vwap, b.volume]),
        ).toEqual(
          raw.map((r) => {
            const f = r.tsMicros < EX ? factor : 1;
            return [
              r.tsMicros,
              r.open * f,
              r.high * f,
              r.low * f,
              r.close * f,
              r.vwap * f,
              r.volume,
            ];
          }),
        );
        expect(await bars('DIVY', FROM, TO, false)).toEqual(raw);
      });

      it('speed-layer rows above the watermark take the same factors (an ex-date still ahead)', async () => {
        await createSymbol({ ticker: 'SPED', name: 'Speed Ltd', exchange: 'XNAS' });
        const live = tape('SPED', ['2026-11-20'], 80, 3);
        const ingested = await platform.ingestor.ingest({ trades: live, quotes: [] }, 'test');
        expect(ingested).toEqual({ accepted: live.length, rejected: 0 });
        await new Promise((resolve) => setTimeout(resolve, 100));
        const from = '2026-11-20T00:00:00Z';
        const to = '2026-11-21T00:00:00Z';
        const raw = await bars('SPED', from, to, false);
        expect(raw.map((b) => b.source)).toEqual(['SPEED', 'SPEED', 'SPEED']);
        expectRaw(
          raw.map((b) => ({ ...b })),
          aggregateBars(live),
        );
        await addAction({
          symbol: 'SPED',
          kind: 'SPLIT',
          exDate: '2026-11-23',
          splitFrom: 1,
          splitTo: 2,
        });
        const adjusted = await bars('SPED', from, to);
        expect(adjusted.map((b) => [b.open, b.high, b.low, b.close, b.vwap, b.volume])).toEqual(
          raw.map((r) => [
            r.open * 0.5,
            r.high * 0.5,
            r.low * 0.5,
            r.close * 0.5,
            r.vwap * 0.5,
            r.volume * 2,
          ]),
        );
        const adjustedTrades = await trades('SPED', from, to);
        expect(adjustedTrades.map((t) => [t.price, t.size, t.source])).toEqual(
          live.map((t) => [t.price * 0.5, t.size * 2, 'SPEED']),
        );
      });
    });

    describe('ticker changes', () => {
      it('FB across 2022-06-09 is one continuous series through META, by either ticker', async () => {
        const fb = await createSymbol({
          ticker: 'FB',
          name: 'Facebook, Inc.',
          exchange: 'XNAS',
          listedDate: '2012-05-18',
        });
        const renamed = await ok<{
          renameSymbol: { ticker: string; version: number; changes: unknown[] };
        }>(
          `mutation($v: Int!) { renameSymbol(ticker: "FB", version: $v, newTicker: "META", effectiveDate: "2022-06-09") { ${SYMBOL_FIELDS} } }`,
          { v: fb.version },
        );
        expect(renamed.renameSymbol.ticker).toBe('META');
        expect(renamed.renameSymbol.changes).toEqual([
          { fromTicker: 'FB', toTicker: 'META', effectiveDate: '2022-06-09' },
        ]);
        const from = '2022-06-06T00:00:00Z';
        const to = '2022-06-11T00:00:00Z';
        const oracle = [...aggregateBars(fbTape), ...aggregateBars(metaTape)];
        const byFb = await bars('FB', from, to);
        expectRaw(byFb, oracle);
        expect(byFb.map((b) => b.symbol)).toEqual([
          ...Array(15).fill('FB'),
          ...Array(10).fill('META'),
        ]);
        expect(await bars('META', from, to)).toEqual(byFb);
        expect(await bars('fb', from, to, false)).toEqual(byFb);
        const fbTrades = await trades('FB', from, to);
        expect(fbTrades.map((t) => [t.symbol, t.tsMicros, t.price, t.size])).toEqual(
          [...fbTape, ...metaTape].map((t) => [t.symbol, t.ts, t.price, t.size]),
        );
        // The paged trades and barsMany follow the change too: pages of 7 across it.
        const paged: { symbol: string; tsMicros: number; price: number; size: number }[] = [];
        let after: string | null = null;
        for (;;) {
          const page: {
            tradesConnection: {
              edges: { node: (typeof paged)[number] }[];
              pageInfo: { hasNextPage: boolean; endCursor: string | null };
            };
          } = await ok(
            `query($after: String) { tradesConnection(symbol: "FB", from: "${from}", to: "${to}", first: 7, after: $after) { edges { node { symbol tsMicros price size } } pageInfo { hasNextPage endCursor } } }`,
            { after },
          );
          paged.push(...page.tradesConnection.edges.map((e) => e.node));
          if (!page.tradesConnection.pageInfo.hasNextPage) break;
          after = page.tradesConnection.pageInfo.endCursor;
        }
        expect(paged.map((t) => [t.symbol, t.tsMicros, t.price, t.size])).toEqual(
          [...fbTape, ...metaTape].map((t) => [t.symbol, t.ts, t.price, t.size]),
        );
        const many = await ok<{ barsMany: { symbol: string; bars: ApiBar[] }[] }>(
          `{ barsMany(symbols: ["META"], from: "${from}", to: "${to}") { symbol bars { symbol tsMicros open high low close volume vwap tradeCount source } } }`,
        );
        expect(many.barsMany).toEqual([{ symbol: 'META', bars: byFb }]);

        const lookup = await ok<{
          now: { ticker: string; id: string };
          then: { ticker: string; id: string };
        }>(
          '{ now: symbol(ticker: "FB") { ticker id } then: symbol(ticker: "FB", asOf: "2021-01-04") { ticker id } }',
        );
        expect(lookup.now).toEqual({ ticker: 'META', id: fb.id });
        expect(lookup.then).toEqual({ ticker: 'META', id: fb.id });
      });

      it('the point-in-time universe lists what was listed then, under its ticker then, delisted ones included', async () => {
        const twtr = await createSymbol({
          ticker: 'TWTR',
          name: 'Twitter, Inc.',
          exchange: 'XNYS',
          listedDate: '2013-11-07',
        });
        await ok(
          `mutation($v: Int!) { delistSymbol(ticker: "TWTR", version: $v, date: "2022-11-08") { status } }`,
          { v: twtr.version },
        );
        await createSymbol({
          ticker: 'NEWCO',
          name: 'New Co',
          exchange: 'XNAS',
          listedDate: '2025-01-02',
        });
        const universe = await ok<{
          mid2022: { ticker: string; status: string }[];
          y2023: { ticker: string }[];
        }>(
          '{ mid2022: symbols(asOf: "2022-06-01") { ticker status } y2023: symbols(asOf: "2023-01-03") { ticker } }',
        );
        const mid2022 = universe.mid2022.map((s) => s.ticker);
        expect(mid2022).toContain('FB');
        expect(mid2022).toContain('TWTR');
        expect(mid2022).not.toContain('META');
        expect(mid2022).not.toContain('NEWCO');
        expect(universe.mid2022.find((s) => s.ticker === 'TWTR')?.status).toBe('DELISTED');
        const y2023 = universe.y2023.map((s) => s.ticker);
        expect(y2023).toContain('META');
        expect(y2023).not.toContain('TWTR');
      });
    });

    describe('CSV, validation and concurrency', () => {
      it('imports symbols row by row, reporting each bad row with its line and code', async () => {
        const csv = [
          'ticker,name,exchange,currency,listedDate',
          'AAA,Alpha,XNAS,USD,2001-02-03',
          'BBB,Beta,NOT-A-MIC,USD,',
          'CCC,Gamma,XLON,XYZ,',
          'AAA,Alpha Renamed,XNAS,USD,2001-02-03',
          'DDD,Delta,XNYS,EUR,2001-02-30',
        ].join('\n');
        const data = await ok<{
          importSymbolsCsv: {
            errors: number;
            results: { line: number; key: string; status: string; code: string | null }[];
          };
        }>(
          'mutation($csv: String!) { importSymbolsCsv(csv: $csv) { errors results { line key status code error } } }',
          { csv },
        );
        expect(data.importSymbolsCsv.results.map((r) => [r.line, r.key, r.status, r.code])).toEqual(
          [
            [2, 'AAA', 'CREATED', null],
            [3, 'BBB', 'ERROR', 'BAD_USER_INPUT'],
            [4, 'CCC', 'ERROR', 'BAD_USER_INPUT'],
            [5, 'AAA', 'UPDATED', null],
            [6, 'DDD', 'ERROR', 'BAD_USER_INPUT'],
          ],
        );
        expect(data.importSymbolsCsv.errors).toBe(3);
        const exported = await ok<{ symbolsCsv: string }>('{ symbolsCsv }');
        expect(exported.symbolsCsv.split('\n')[0]).toBe(
          'ticker,name,exchange,assetClass,currency,sector,industry,listedDate,delistedDate,status',
        );
        expect(exported.symbolsCsv).toContain(
          'AAA,Alpha Renamed,XNAS,EQUITY,USD,,,2001-02-03,,ACTIVE',
        );
      });

      it('names every bad field of a symbol, with BAD_USER_INPUT', async () => {
        const result = await gql(
          'mutation { createSymbol(input: { ticker: "1BAD", name: "", exchange: "XX", currency: "ZZZ" }) { id } }',
        );
        expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
        expect(result.errors?.[0]?.message).toMatch(/ticker: .*name: .*exchange: .*currency: /);
      });

      it('two concurrent conflicting edits: one wins, the other gets CONFLICT, and the audit log holds exactly the winner', async () => {
        const ibm = await createSymbol({ ticker: 'IBM', name: 'IBM', exchange: 'XNYS' });
        const edit = (name: string) =>
          gql<{ updateSymbol: { name: string; version: number } }>(
            'mutation($v: Int!, $name: String!) { updateSymbol(ticker: "IBM", version: $v, input: { name: $name }) { name version } }',
            { v: ibm.version, name },
          );
        const outcomes = await Promise.all([
          edit('International Business Machines'),
          edit('Big Blue'),
        ]);
        const won = outcomes.filter((o) => o.data?.updateSymbol);
        const lost = outcomes.filter((o) => o.errors);
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        expect(lost[0]!.errors![0]!.extensions?.code).toBe('CONFLICT');
        const winner = won[0]!.data!.updateSymbol;
        expect(winner.version).toBe(2);
        const log = await ok<{
          auditLog: {
            actor: string;
            action: string;
            before: { name: string } | null;
            after: { name: string; version: number };
          }[];
        }>('query($id: String!) { auditLog(entity: $id) { actor action before after } }', {
          id: ibm.id,
        });
        expect(
          log.auditLog.map((r) => [
            r.action,
            r.actor,
            r.before?.name ?? null,
            r.after.name,
            r.after.version,
          ]),
        ).toEqual([
          ['symbol.create', 'admin-user', null, 'IBM', 1],
          ['symbol.update', 'admin-user', 'IBM', winner.name, 2],
        ]);
        const current = await ok<{ symbol: { name: string; version: number } }>(
          '{ symbol(ticker: "IBM") { name version } }',
        );
        expect(current.symbol).toEqual(winner);
      });

      it('refuses unknown tickers at ingest with UNKNOWN_SYMBOL by default', async () => {
        const stray = tape('ZZZZ', ['2026-11-20'], 10, 1);
        expect(await platform.ingestor.ingest({ trades: stray, quotes: [] }, 'test')).toEqual({
          accepted: 0,
          rejected: stray.length,
        });
        expect(platform.masterData.symbol('ZZZZ')).toBeUndefined();
      });
    });

    it('lets a viewer read master data and refuses it the edits and the audit log (FORBIDDEN)', async () => {
      const read = await gql<{ symbols: { ticker: string }[] }>(
        '{ symbols { ticker } corporateActions(symbol: "SPLT") { id } }',
        {},
        'viewer',
      );
      expect(read.errors).toBeUndefined();
      expect(read.data!.symbols.map((s) => s.ticker)).toContain('SPLT');
      const refused = [
        'mutation { createSymbol(input: { ticker: "VWR", name: "Viewer Corp", exchange: "XNYS" }) { id } }',
        'mutation { addCorporateAction(input: { symbol: "SPLT", kind: DIVIDEND, exDate: "2024-03-06", cashAmount: 1 }) { id } }',
        'mutation { importSymbolsCsv(csv: "ticker,name,exchange\\nVWR,Viewer Corp,XNYS\\n") { errors } }',
        '{ auditLog { id } }',
      ];
      for (const query of refused) {
        const result = await gql(query, {}, 'viewer');
        expect(result.data ?? null).toBeNull();
        expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
      }
      expect(platform.masterData.symbol('VWR')).toBeUndefined();
      expect(platform.masterData.corporateActions('SPLT').map((c) => c.kind)).toEqual(['split']);
    });

    it('lists master data among the backends of /readyz', async () => {
      const response = await fetch(new URL('/readyz', server.url));
      const body = (await response.json()) as { backends: Record<string, unknown> };
      expect(body.backends['masterData']).toMatchObject({ backend: backend.store, ready: true });
    });

    describe('restart', () => {
      it('keeps every symbol, ticker change, corporate action and audit record', async () => {
        const query = `{ symbols { ${SYMBOL_FIELDS} } split: corporateActions(symbol: "SPLT") { id kind exDate splitFrom splitTo }
          dividend: corporateActions(symbol: "DIVY") { id cashAmount currency } auditLog(limit: 10000) { id at actor action entity before after } }`;
        const before = await ok<Record<string, unknown[]>>(query);
        expect(before.auditLog!.length).toBeGreaterThan(10);
        await server.close();
        await platform.stop();
        platform = await createPlatform(config, { clock });
        await platform.start({ live: false });
        server = await startLoopbackApi(platform, {
          backends: (signal) => platform.backends(signal),
        });
        expect(await ok(query)).toEqual(before);
        // Adjusted reads come back the same too.
        const bar = await bars('SPLT', '2024-03-04T14:30:00Z', '2024-03-04T14:31:00Z');
        expect(bar[0]!.open).toBe(
          splitTape.find((t) => t.ts >= at('2024-03-04T14:30:00Z'))!.price * 0.5,
        );
      });
    });
  });
}
