import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlatform, type Platform, type StartReport } from '../../src/app.js';
import { configWith, type Config } from '../../src/config/index.js';
import {
  DAY_US,
  HOUR_US,
  isoOfMicros,
  ManualClock,
  MINUTE_US,
  sessionsBetween,
  type CorporateAction,
  type Session,
} from '../../src/domain/index.js';
import type { ApiServer } from '../../src/graphql/index.js';
import { startLoopbackApi } from '../support/api.js';

/**
 * The simulator's events through the embedded platform (issue 10): the backfill at start
 * writes twelve 24x7 sessions of two symbols with splits, dividends, news with a strong
 * planted signal, halts and duplicated ticks. The oracles are independent of the code
 * under test: DuckDB over the Parquet files of bronze.trades (recomputing adjusted bars
 * from the raw trades and factors derived here from the adjustment's definition), the
 * simulator's own event schedule, and the tape.
 */
const at = (iso: string): number => Date.parse(iso) * 1_000;
const T0 = at('2026-11-20T15:07:30Z');
const SYMBOLS = ['AAPL', 'MSFT'];
const home = mkdtempSync(path.join(tmpdir(), 'alphalake-simevents-'));
// Seed 10 has, in this window, a 1→3 split of MSFT, a 10→1 reverse split of AAPL and a
// dividend; the rates are far above the defaults so twelve sessions hold every kind.
const config: Config = configWith({
  home,
  port: 0,
  authMode: 'off',
  simulatorSeed: 10,
  simulatorSymbols: SYMBOLS,
  simulatorCalendar: '24x7',
  simulatorTradesPerSecond: 0.05,
  backfillSessions: 12,
  simulatorSplitsPerYear: 20,
  simulatorDividendsPerYear: 8,
  simulatorNewsPerSession: 4,
  simulatorNewsSignal: 0.9,
  simulatorHaltsPerSession: 0.5,
  simulatorDuplicateRate: 0.02,
});
const clock = new ManualClock(T0);
let platform: Platform;
let server: ApiServer;
let report: StartReport;
let duck: DuckDBInstance;
let db: DuckDBConnection;
let sessions: Session[];

const TRADES = `read_parquet('${home}/lake/bronze/trades/date=*/*.parquet')`;

async function rows(sql: string): Promise<unknown[][]> {
  return (await db.runAndReadAll(sql)).getRows() as unknown[][];
}

interface ApiBar {
  tsMicros: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  vwap: number;
  tradeCount: number;
}

async function bars(
  symbol: string,
  from: number,
  to: number,
  options: { interval?: string; adjusted?: boolean } = {},
): Promise<ApiBar[]> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: `query($symbol: String!, $interval: String!, $from: DateTime, $to: DateTime, $adjusted: Boolean!) {
        bars(symbol: $symbol, interval: $interval, from: $from, to: $to, adjusted: $adjusted, limit: 100000) {
          tsMicros open high low close volume vwap tradeCount
        }
      }`,
      variables: {
        symbol,
        interval: options.interval ?? '1m',
        from: isoOfMicros(from),
        to: isoOfMicros(to),
        adjusted: options.adjusted ?? true,
      },
    }),
  });
  const result = (await response.json()) as { data?: { bars: ApiBar[] }; errors?: unknown };
  expect(result.errors).toBeUndefined();
  return result.data!.bars;
}

/** The simulator's schedule of corporate actions over the backfilled sessions. */
function scheduledActions(): CorporateAction[] {
  return sessions.flatMap((s) => platform.simulator!.corporateActions(s));
}

async function start(): Promise<void> {
  platform = await createPlatform(config, { clock });
  report = await platform.start({ live: false });
  server = await startLoopbackApi(platform);
}

async function stop(): Promise<void> {
  await server?.close();
  await platform?.stop();
}

beforeAll(async () => {
  await start();
  sessions = sessionsBetween(
    platform.simulator!.settings.calendar,
    report.backfill!.from,
    report.backfill!.to,
  );
  duck = await DuckDBInstance.create(':memory:');
  db = await duck.connect();
}, 120_000);

afterAll(async () => {
  db?.closeSync();
  duck?.closeSync();
  await stop();
  rmSync(home, { recursive: true, force: true });
});

describe('simulator corporate actions', () => {
  it('land in master data once each', () => {
    const scheduled = scheduledActions();
    expect(scheduled.filter((a) => a.kind === 'split').length).toBeGreaterThanOrEqual(2);
    expect(scheduled.filter((a) => a.kind === 'dividend').length).toBeGreaterThanOrEqual(1);
    const recorded = () =>
      SYMBOLS.flatMap((symbol) => platform.masterData.corporateActions(symbol)).map((a) =>
        a.kind === 'split'
          ? `${a.symbol} ${a.exDate} split ${a.splitFrom}:${a.splitTo} ${a.source}`
          : `${a.symbol} ${a.exDate} dividend ${a.cashAmount} ${a.currency} ${a.source}`,
      );
    const expected = scheduled.map((a) =>
      a.kind === 'split'
        ? `${a.symbol} ${a.exDate} split ${a.splitFrom}:${a.splitTo} simulator`
        : `${a.symbol} ${a.exDate} dividend ${a.cashAmount} ${a.currency} simulator`,
    );
    expect(recorded().sort()).toEqual([...expected].sort());
    expect(report.backfill!.corporateActions).toBe(scheduled.length);
  });

  it('make raw bars jump at a split by its ratio while adjusted bars stay continuous', async () => {
    const { from, to } = report.backfill!;
    const splits = scheduledActions().filter(
      (a): a is Extract<CorporateAction, { kind: 'split' }> =>
        a.kind === 'split' && at(`${a.exDate}T00:00:00Z`) - HOUR_US >= from,
    );
    expect(splits.length).toBeGreaterThanOrEqual(2);
    for (const split of splits) {
      const exTs = at(`${split.exDate}T00:00:00Z`);
      const window = { from: exTs - HOUR_US, to: Math.min(to, exTs + HOUR_US) };
      const raw = await bars(split.symbol, window.from, window.to, { adjusted: false });
      const adjusted = await bars(split.symbol, window.from, window.to);
      const lastBefore = (list: ApiBar[]) => list.filter((b) => b.tsMicros < exTs).at(-1)!;
      const firstAfter = (list: ApiBar[]) => list.find((b) => b.tsMicros >= exTs)!;
      const rawJump = Math.log(firstAfter(raw).open / lastBefore(raw).close);
      const adjustedJump = Math.log(firstAfter(adjusted).open / lastBefore(adjusted).close);
      const ratio = Math.log(split.splitFrom / split.splitTo);
      // An overnight gap of the walk is a few percent; a split is 29% (3:2) or more.
      expect(Math.abs(rawJump - ratio)).toBeLessThan(0.12);
      expect(Math.abs(adjustedJump)).toBeLessThan(0.12);
      expect(Math.abs(rawJump)).toBeGreaterThan(0.25);
    }
  });

  it('adjusted 1m bars equal a DuckDB recomputation from the raw trades and the factors, to the bit', async () => {
    const actions = scheduledActions();
    const { from, to } = report.backfill!;
    for (const symbol of SYMBOLS) {
      // Each action's factor from its definition (src/mdm/adjustments.ts, CRSP): a split
      // splitFrom/splitTo; a dividend 1 − D / (the raw close before its ex-date), that
      // close being the last raw trade before it within 31 days, or no factor at all.
      const own = actions
        .filter((a) => a.symbol === symbol)
        .map((a) => ({ action: a, exTs: at(`${a.exDate}T00:00:00Z`) }));
      const factors: { exTs: number; kind: string; price: number; volume: number }[] = [];
      for (const { action, exTs } of own) {
        if (action.kind === 'split') {
          factors.push({
            exTs,
            kind: action.kind,
            price: action.splitFrom / action.splitTo,
            volume: action.splitTo / action.splitFrom,
          });
          continue;
        }
        const [close] = await rows(
          `SELECT arg_max(price, (ts, seq)) FROM ${TRADES} WHERE symbol = '${symbol}' ` +
            `AND epoch_us(ts) < ${exTs} AND epoch_us(ts) >= ${exTs - 31 * DAY_US}`,
        );
        const before = close?.[0] === null || close === undefined ? undefined : Number(close[0]);
        if (before !== undefined && before > action.cashAmount)
          factors.push({
            exTs,
            kind: action.kind,
            price: 1 - action.cashAmount / before,
            volume: 1,
          });
      }
      expect(factors.length).toBeGreaterThan(0);
      // Cumulative per span, multiplied from the latest ex-date backwards, a date's actions
      // in id order (`<symbol id>:dividend:<date>` before `<symbol id>:split:<date>`).
      const cumulative = (ts: number) => {
        let price = 1;
        let volume = 1;
        const later = factors
          .filter((f) => f.exTs > ts)
          .sort((a, b) => b.exTs - a.exTs || a.kind.localeCompare(b.kind));
        for (const f of later) {
          price = price * f.price;
          volume = volume * f.volume;
        }
        return { price, volume };
      };
      const edges = [...new Set(factors.map((f) => f.exTs))].sort((a, b) => a - b);
      const spans = [from, ...edges.filter((e) => e > from && e < to)].map((start, i, all) => ({
        start,
        end: all[i + 1] ?? to,
        ...cumulative(start),
      }));
      const values = spans
        .map((s) => `(${s.start}, ${s.end}, ${s.price}::DOUBLE, ${s.volume}::DOUBLE)`)
        .join(', ');
      const expected = await rows(
        `WITH t AS (SELECT epoch_us(ts) AS us, seq, price, size FROM ${TRADES} WHERE symbol = '${symbol}'), ` +
          `m AS (SELECT us - us % ${MINUTE_US} AS bucket, arg_min(price, (us, seq)) AS o, max(price) AS h, ` +
          `min(price) AS l, arg_max(price, (us, seq)) AS c, sum(size) AS v, count(*) AS n, ` +
          `sum(price * size ORDER BY us, seq) AS x FROM t GROUP BY 1), ` +
          `f(s, e, p, q) AS (VALUES ${values}) ` +
          `SELECT bucket, o * p, h * p, l * p, c * p, CAST(v AS DOUBLE) * q, (x / v) * p, n ` +
          `FROM m JOIN f ON bucket >= s AND bucket < e ORDER BY bucket`,
      );
      const served = await bars(symbol, from, to);
      expect(served.length).toBe(expected.length);
      expect(served.length).toBeGreaterThan(1000);
      for (const [i, bar] of served.entries()) {
        const want = expected[i]!.map(Number);
        expect([
          bar.tsMicros,
          bar.open,
          bar.high,
          bar.low,
          bar.close,
          bar.volume,
          bar.vwap,
          bar.tradeCount,
        ]).toEqual(want);
      }
    }
  }, 60_000);
});

describe('simulator news', () => {
  it('lands in bronze.news, each scheduled item once', async () => {
    const { from, to } = report.backfill!;
    const scheduled = sessions
      .flatMap((s) => platform.simulator!.events!.news(s))
      .filter((n) => n.item.publishedAt >= from && n.item.publishedAt < to)
      .map((n) => n.item.id)
      .sort();
    const stored = (
      await rows(
        `SELECT id FROM read_parquet('${home}/lake/bronze/news/date=*/*.parquet') ` +
          `WHERE epoch_us(published_at) < ${to} ORDER BY id`,
      )
    ).map((r) => String(r[0]));
    expect(scheduled.length).toBeGreaterThan(60);
    expect(stored).toEqual(scheduled);
    expect(report.backfill!.news).toBe(scheduled.length);
  });

  it('carries the planted signal: headline tone correlates with the next day’s return', async () => {
    const { from, to } = report.backfill!;
    const news = await rows(
      `SELECT list_extract(tickers, 1), epoch_us(published_at), title ` +
        `FROM read_parquet('${home}/lake/bronze/news/date=*/*.parquet') ORDER BY published_at, id`,
    );
    const opens = new Map<string, Map<number, number>>();
    for (const symbol of SYMBOLS) {
      const daily = await bars(symbol, from, to, { interval: '1d' });
      opens.set(symbol, new Map(daily.map((b) => [b.tsMicros, b.open])));
    }
    const tones: number[] = [];
    const returns: number[] = [];
    for (const [symbol, publishedAt, title] of news) {
      const day = Math.floor(Number(publishedAt) / DAY_US) * DAY_US;
      const next = opens.get(String(symbol))!.get(day + DAY_US);
      const after = opens.get(String(symbol))!.get(day + 2 * DAY_US);
      if (next === undefined || after === undefined) continue;
      // The tone a reader gets from the headline: the simulator's positive phrases.
      const positive = /beats estimates|raises guidance|wins major contract|upgraded/.test(
        String(title),
      );
      tones.push(positive ? 1 : -1);
      returns.push(Math.log(after / next));
    }
    expect(tones.length).toBeGreaterThan(50);
    expect(correlation(tones, returns)).toBeGreaterThan(0.3);
  });
});

describe('simulator halts and duplicates', () => {
  it('leaves halted spans without trades', async () => {
    const halts = sessions.flatMap((s) => platform.simulator!.events!.halts(s));
    const { from, to } = report.backfill!;
    const inRange = halts.filter((h) => h.from >= from && h.to <= to);
    expect(inRange.length).toBeGreaterThan(5);
    let tradedAround = 0;
    for (const halt of inRange) {
      const [[inside, around]] = (await rows(
        `SELECT count(*) FILTER (WHERE epoch_us(ts) >= ${halt.from} AND epoch_us(ts) < ${halt.to}), ` +
          `count(*) FILTER (WHERE epoch_us(ts) >= ${halt.from - HOUR_US} AND epoch_us(ts) < ${halt.from}) ` +
          `FROM ${TRADES} WHERE symbol = '${halt.symbol}'`,
      )) as [[bigint, bigint]];
      expect(Number(inside)).toBe(0);
      if (Number(around) > 0) tradedAround++;
    }
    // The symbols do trade in the hour before a halt: the empty spans are the halts.
    expect(tradedAround).toBe(inRange.length);
  });

  it('counts duplicated ticks as DUPLICATE rejects and keeps them out of the lake', async () => {
    const { from, to } = report.backfill!;
    const tape = [...platform.simulator!.tape(from, to, { quotes: false })].flatMap((s) =>
      s.trades.map((t) => `${t.symbol} ${t.id}`),
    );
    const stored = (
      await rows(
        `SELECT symbol || ' ' || id FROM ${TRADES} WHERE epoch_us(ts) < ${to} ORDER BY ts, seq, symbol`,
      )
    ).map((r) => String(r[0]));
    expect(stored.length).toBe(new Set(stored).size);
    expect([...stored].sort()).toEqual([...tape].sort());
    const [[duplicates]] = (await rows(
      `SELECT count(*) FROM read_parquet('${home}/lake/bronze/rejects/date=*/*.parquet') ` +
        `WHERE reason = 'DUPLICATE' AND source = 'simulator-backfill'`,
    )) as [[bigint]];
    // About 2% of some 100,000 trades.
    expect(Number(duplicates)).toBeGreaterThan(tape.length * 0.01);
    expect(Number(duplicates)).toBeLessThan(tape.length * 0.03);
    const metrics = await platform.api.metrics.render();
    const line = metrics
      .split('\n')
      .find(
        (l) =>
          l.startsWith('alphalake_ingest_rejects_total{') &&
          l.includes('source="simulator-backfill"') &&
          l.includes('reason="DUPLICATE"'),
      );
    expect(line).toBeDefined();
    expect(Number(line!.split(' ').at(-1))).toBe(Number(duplicates));
  });
});

describe('a restart', () => {
  it('records no corporate action twice', async () => {
    const recorded = () =>
      SYMBOLS.flatMap((symbol) => platform.masterData.corporateActions(symbol)).map((a) => a.id);
    const before = recorded();
    expect(before.length).toBe(scheduledActions().length);
    // It backfills from the watermark, and the live feed announces today's session again.
    await stop();
    clock.advance(HOUR_US);
    await start();
    await platform.feed!.pump(clock.now());
    expect(recorded().sort()).toEqual([...before].sort());
  }, 60_000);
});

function correlation(xs: number[], ys: number[]): number {
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  xs.forEach((x, i) => {
    sxy += (x - mx) * (ys[i]! - my);
    sxx += (x - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  });
  return sxy / Math.sqrt(sxx * syy);
}
