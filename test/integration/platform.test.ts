import { EmbeddedApi, postGraphql, type ApiBar, type GqlResult } from '../support/graphql.js';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Platform } from '../../src/app.js';
import {
  aggregateBars,
  compareTrades,
  floorToMinute,
  HOUR_US,
  isoOfMicros,
  MINUTE_US,
  SECOND_US,
  type Bar,
  type Trade,
} from '../../src/domain/index.js';
import type { ApiServer } from '../../src/graphql/index.js';
import { maintainLake } from '../../src/batch/index.js';

/**
 * The walking skeleton end to end, embedded, on a clock the test moves by hand:
 * backfill → lake, simulator → bus → speed layer, sink → lake, lambda view → GraphQL.
 * The oracle is the simulator itself: bars aggregated straight from its tape.
 */
/** Epoch µs of ISO text. */
const at = (iso: string): number => Date.parse(iso) * 1_000;
const T0 = at('2026-11-20T15:07:30Z');
const api = new EmbeddedApi('alphalake-it-', T0, {
  backfillSessions: 2,
  simulatorTradesPerSecond: 0.5,
  authMode: 'off',
});
const { clock } = api;
let platform: Platform;
let server: ApiServer;

function gql<T = Record<string, unknown>>(
  query: string,
  variables: Record<string, unknown> = {},
): Promise<GqlResult<T>> {
  return postGraphql<T>(server.url, query, variables);
}

interface ServedBar extends ApiBar {
  ts: string;
  source: 'LAKE' | 'SPEED';
}

const BARS = `query($symbol: String!, $from: DateTime, $to: DateTime) {
  bars(symbol: $symbol, from: $from, to: $to) { ts tsMicros open high low close volume vwap tradeCount source }
}`;

async function bars(from: number, to: number, symbol = 'AAPL'): Promise<ServedBar[]> {
  const result = await gql<{ bars: ServedBar[] }>(BARS, {
    symbol,
    from: isoOfMicros(from),
    to: isoOfMicros(to),
  });
  expect(result.errors).toBeUndefined();
  return result.data!.bars;
}

function oracle(from: number, to: number, symbol = 'AAPL'): Bar[] {
  const tape = [...platform.simulator!.tape(from, to)]
    .flatMap((s) => s.trades)
    .filter((t) => t.symbol === symbol);
  return aggregateBars(tape);
}

function expectSameBars(served: ServedBar[], expected: Bar[]) {
  expect(served.map((b) => b.tsMicros)).toEqual(expected.map((b) => b.ts));
  expect(served.map((b) => b.ts)).toEqual(expected.map((b) => isoOfMicros(b.ts)));
  for (const [i, bar] of served.entries()) {
    const want = expected[i]!;
    expect([bar.open, bar.high, bar.low, bar.close, bar.volume, bar.tradeCount]).toEqual([
      want.open,
      want.high,
      want.low,
      want.close,
      want.volume,
      want.tradeCount,
    ]);
    // Every layer folds the same trades in the same (ts, seq) order: the same double, bit for bit.
    expect(bar.vwap).toBe(want.vwap);
  }
}

/** Moves the clock by `us` µs, plays the tape up to it and lets the bus deliver. */
async function advance(us: number): Promise<void> {
  clock.advance(us);
  await platform.feed!.pump(clock.now());
  await new Promise((resolve) => setTimeout(resolve, 50));
}

beforeAll(async () => {
  await api.start();
  ({ platform, server } = api);
});

afterAll(() => api.stop());

describe('walking skeleton', () => {
  it('backfills the last sessions into the lake at start', async () => {
    expect(platform.sink.watermark()).toBe(floorToMinute(T0));
    const from = at('2026-11-18T00:00:00Z');
    const served = await bars(from, floorToMinute(T0));
    expect(served.length).toBeGreaterThan(2 * 1440 - 10);
    expect(new Set(served.map((b) => b.source))).toEqual(new Set(['LAKE']));
    expectSameBars(served, oracle(from, floorToMinute(T0)));
  });

  it('serves the current minutes from the speed layer, with no gap and no double count at the watermark', async () => {
    await advance(3 * MINUTE_US);
    const watermark = platform.sink.watermark()!;
    const from = watermark - 10 * MINUTE_US;
    const to = floorToMinute(clock.now()) + MINUTE_US;
    const served = await bars(from, to);
    expect(served.filter((b) => b.source === 'LAKE').every((b) => b.tsMicros < watermark)).toBe(
      true,
    );
    expect(served.filter((b) => b.source === 'SPEED').every((b) => b.tsMicros >= watermark)).toBe(
      true,
    );
    expect(served.some((b) => b.source === 'SPEED')).toBe(true);
    // The current (still open) minute is a partial bar of the trades so far.
    expectSameBars(served, oracle(from, platform.feed!.position));

    // The sink moves completed minutes to the lake: the boundary moves, the answer does not.
    clock.advance(5 * SECOND_US);
    await platform.sink.flush();
    expect(platform.sink.watermark()).toBeGreaterThan(watermark);
    const again = await bars(from, to);
    expectSameBars(again, oracle(from, platform.feed!.position));
    expect(again.filter((b) => b.source === 'LAKE').length).toBeGreaterThan(
      served.filter((b) => b.source === 'LAKE').length,
    );
  });

  it('keeps two simulator trades of one millisecond in their order through bus, speed store, lake and GraphQL', async () => {
    // The first millisecond ahead on the tape that holds two trades of one symbol.
    const start = platform.feed!.position;
    let pair: [Trade, Trade] | undefined;
    const last = new Map<string, Trade>();
    search: for (const second of platform.simulator!.tape(start, start + 6 * HOUR_US)) {
      for (const trade of second.trades) {
        const previous = last.get(trade.symbol);
        if (previous && Math.floor(previous.ts / 1_000) === Math.floor(trade.ts / 1_000)) {
          pair = [previous, trade];
          break search;
        }
        last.set(trade.symbol, trade);
      }
    }
    if (!pair)
      throw new Error('no two trades of one symbol share a millisecond in 6 hours of tape');
    const [first, second] = pair;
    expect(compareTrades(first, second)).toBeLessThan(0);
    expect(second.seq).toBe(first.seq + 1);

    // The bus delivers them in order to a consumer of its own.
    const seen: string[] = [];
    const stop = new AbortController();
    await platform.bus.subscribe<Trade>(
      'trades',
      async (records) => {
        for (const { value } of records)
          if (value.symbol === first.symbol && value.ts >= first.ts && value.ts <= second.ts)
            seen.push(value.id);
      },
      { group: 'order-test', signal: stop.signal },
    );
    await advance(Math.ceil((second.ts + 1 - clock.now()) / SECOND_US) * SECOND_US + SECOND_US);
    stop.abort();
    expect(seen).toEqual([first.id, second.id]);

    const query = `query($symbol: String!, $from: DateTime, $to: DateTime) {
      trades(symbol: $symbol, from: $from, to: $to) { ts tsMicros seq id source }
    }`;
    const served = async () => {
      const result = await gql<{ trades: Record<string, unknown>[] }>(query, {
        symbol: first.symbol,
        from: isoOfMicros(first.ts),
        to: second.ts + 1,
      });
      expect(result.errors).toBeUndefined();
      return result.data!.trades;
    };
    const expected = (source: string) =>
      [first, second].map((t) => ({
        ts: isoOfMicros(t.ts),
        tsMicros: t.ts,
        seq: t.seq,
        id: t.id,
        source,
      }));
    // From the speed store while above the watermark ...
    expect(platform.sink.watermark()!).toBeLessThanOrEqual(first.ts);
    expect(await served()).toEqual(expected('SPEED'));
    // ... and from the lake once the sink has committed their minute.
    await advance(MINUTE_US + 5 * SECOND_US);
    await platform.sink.flush();
    expect(platform.sink.watermark()!).toBeGreaterThan(second.ts);
    expect(await served()).toEqual(expected('LAKE'));
    expect((await served()).map((t) => String(t['ts']).length)).toEqual(
      [first, second].map((t) => (t.ts % 1_000 === 0 ? 24 : 27)),
    );
  });

  it('orders trades that share a microsecond by seq, whatever their arrival order', async () => {
    const ts = floorToMinute(clock.now()) + 7;
    const tie = (seq: number) => ({
      symbol: 'MSFT',
      ts,
      seq,
      price: 400 + seq / 100,
      size: 1,
      id: `tie-${seq}`,
      exchange: 'XNAS',
    });
    // Published 3, 1, 2: every layer answers 1, 2, 3.
    await platform.ingestor.ingest({ trades: [tie(3), tie(1), tie(2)], quotes: [] }, 'order-test');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const query = `query($from: DateTime, $to: DateTime) {
      trades(symbol: "MSFT", from: $from, to: $to) { id seq source }
    }`;
    const served = async () =>
      (await gql<{ trades: { id: string; source: string }[] }>(query, { from: ts, to: ts + 1 }))
        .data!.trades;
    const ids = ['tie-1', 'tie-2', 'tie-3'];
    expect((await served()).map((t) => [t.id, t.source])).toEqual(ids.map((id) => [id, 'SPEED']));
    await advance(MINUTE_US + 5 * SECOND_US);
    await platform.sink.flush();
    expect((await served()).map((t) => [t.id, t.source])).toEqual(ids.map((id) => [id, 'LAKE']));
  });

  it('pushes live trades of the subscribed symbols only', async () => {
    const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, lazy: true });
    const received: { symbol: string; price: number }[] = [];
    const done = new Promise<void>((resolve, reject) => {
      client.subscribe<{ trades: { symbol: string; price: number } }>(
        { query: 'subscription { trades(symbols: ["AAPL"]) { symbol price ts } }' },
        {
          next: (message) => {
            if (message.data) received.push(message.data.trades);
            if (received.length >= 5) resolve();
          },
          error: reject,
          complete: resolve,
        },
      );
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (let i = 0; i < 12 && received.length < 5; i++) await advance(10 * SECOND_US);
    await done;
    await client.dispose();
    expect(received.length).toBeGreaterThanOrEqual(5);
    expect(new Set(received.map((t) => t.symbol))).toEqual(new Set(['AAPL']));
  });

  it.each([
    ['an unknown symbol', 'query { bars(symbol: "NOPE") { ts } }'],
    [
      'from after to',
      'query { bars(symbol: "AAPL", from: "2026-11-20T10:00:00Z", to: "2026-11-19T10:00:00Z") { ts } }',
    ],
    ['a malformed date', 'query { bars(symbol: "AAPL", from: "yesterday-ish") { ts } }'],
    ['an impossible date', 'query { bars(symbol: "AAPL", from: "2026-13-45T99:00:00Z") { ts } }'],
    ['a subscription sent over HTTP', 'subscription { trades(symbols: ["AAPL"]) { symbol } }'],
  ])('answers %s with BAD_USER_INPUT and stays up', async (_case, query) => {
    const result = await gql(query);
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const health = await fetch(server.url.replace('/graphql', '/healthz'));
    expect(health.status).toBe(200);
  });

  // Refused while the document is validated, before anything runs (src/graphql/guard/limits.ts).
  it.each([
    [
      'a limit of 10^9',
      'query { trades(symbol: "AAPL", limit: 1000000000) { ts } }',
      ['PAGE_TOO_LARGE', 'QUERY_TOO_COMPLEX'],
    ],
    [
      'aliases that add up to too many rows',
      `query { ${Array.from({ length: 3 }, (_, i) => `b${i}: bars(symbol: "AAPL", limit: 100000) { ts }`).join(' ')} }`,
      ['QUERY_TOO_COMPLEX'],
    ],
    [
      'too many root fields',
      `query { ${Array.from({ length: 25 }, (_, i) => `s${i}: symbols { symbol }`).join(' ')} }`,
      ['QUERY_TOO_COMPLEX'],
    ],
  ])('answers %s with its limit code and stays up', async (_case, query, codes) => {
    const result = await gql(query);
    expect(result.errors?.map((error) => error.extensions?.code)).toEqual(codes);
    const health = await fetch(server.url.replace('/graphql', '/healthz'));
    expect(health.status).toBe(200);
  });

  it('keeps bad ticks in bronze.rejects with their reason, and the good ones flow on', async () => {
    const now = clock.now();
    const good = {
      symbol: 'MSFT',
      ts: now - SECOND_US,
      seq: 1,
      price: 400.5,
      size: 10,
      id: 'x-good',
      exchange: 'XNAS',
    };
    const result = await platform.ingestor.ingest(
      {
        trades: [
          good,
          { ...good, id: 'x-neg', price: -1 },
          { ...good, id: 'x-unknown', symbol: 'ZZZZ' },
          { ...good, id: 'x-future', ts: now + 3_600 * SECOND_US },
        ],
        quotes: [
          { symbol: 'MSFT', ts: now, bidPrice: 401, bidSize: 100, askPrice: 400, askSize: 100 },
        ],
      },
      'test-feed',
    );
    expect(result).toEqual({ accepted: 1, rejected: 4 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    clock.advance(MINUTE_US);
    await platform.sink.flush();
    const rejects = await platform.tables.rejects.query({
      filters: [{ column: 'source', op: '=', value: 'test-feed' }],
    });
    expect(rejects.rows.map((r) => r.reason).sort()).toEqual([
      'NEGATIVE_PRICE',
      'QUOTE_CROSSED',
      'TIMESTAMP_IN_FUTURE',
      'UNKNOWN_SYMBOL',
    ]);
    expect(
      JSON.parse(String(rejects.rows.find((r) => r.reason === 'UNKNOWN_SYMBOL')?.payload)),
    ).toMatchObject({
      symbol: 'ZZZZ',
      id: 'x-unknown',
    });
  });

  it('answers the rejects query from bronze.rejects, newest first, filtered', async () => {
    const result = await gql<{
      rejects: {
        source: string;
        kind: string;
        reason: string;
        payload: string;
        receivedAt: string;
      }[];
    }>(`{ rejects(source: "test-feed", limit: 10) { source kind reason payload receivedAt } }`);
    expect(result.errors).toBeUndefined();
    const rejects = result.data!.rejects;
    expect(rejects.map((r) => r.reason).sort()).toEqual([
      'NEGATIVE_PRICE',
      'QUOTE_CROSSED',
      'TIMESTAMP_IN_FUTURE',
      'UNKNOWN_SYMBOL',
    ]);
    expect(rejects.every((r) => r.source === 'test-feed')).toBe(true);
    const only = await gql<{ rejects: { reason: string; kind: string }[] }>(
      `{ rejects(reason: "QUOTE_CROSSED") { reason kind } }`,
    );
    expect(only.data!.rejects).toEqual([{ reason: 'QUOTE_CROSSED', kind: 'quote' }]);
    const bad = await gql(`{ rejects(limit: 0) { reason } }`);
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('exposes what it did at /metrics', async () => {
    const text = await (await fetch(server.url.replace('/graphql', '/metrics'))).text();
    const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1]);
    expect(
      value(/^alphalake_lake_rows_written_total\{table="bronze\/trades"\} (\d+)$/m),
    ).toBeGreaterThan(0);
    expect(
      value(
        /^alphalake_ingested_records_total\{source="test-feed",kind="trade",outcome="rejected"\} (\d+)$/m,
      ),
    ).toBe(3);
    expect(
      value(
        /^alphalake_ingest_rejects_total\{source="test-feed",kind="trade",reason="NEGATIVE_PRICE"\} (\d+)$/m,
      ),
    ).toBe(1);
    expect(value(/^alphalake_lake_watermark_seconds (\d+)$/m)).toBe(
      platform.sink.watermark()! / SECOND_US,
    );
  });

  it('keeps the lake across a restart and carries on from it without gap or duplicate', async () => {
    const before = platform.sink.watermark()!;
    clock.advance(7 * MINUTE_US);
    const report = await api.restart();
    ({ platform, server } = api);
    expect(report.backfill?.from).toBeGreaterThanOrEqual(before - MINUTE_US);
    await advance(2 * MINUTE_US);
    const from = at('2026-11-18T00:00:00Z');
    const served = await bars(from, floorToMinute(clock.now()) + MINUTE_US);
    expectSameBars(served, oracle(from, platform.feed!.position));
  });

  it('compacts the minute-sized files the sink wrote, and answers the same', async () => {
    clock.advance(MINUTE_US);
    await platform.feed!.pump(clock.now());
    await new Promise((resolve) => setTimeout(resolve, 50));
    await platform.sink.flush();
    const filesBefore = (await platform.tables.trades.snapshot()).files.length;
    const { results } = await maintainLake(platform.tables);
    expect(results.find((r) => r.table === 'trades')).toMatchObject({ status: 'maintained' });
    expect(results.every((r) => r.status !== 'failed')).toBe(true);
    expect((await platform.tables.trades.snapshot()).files.length).toBeLessThan(filesBefore);
    const from = at('2026-11-18T00:00:00Z');
    const served = await bars(from, floorToMinute(clock.now()) + MINUTE_US);
    expectSameBars(served, oracle(from, platform.feed!.position));
  });

  it('serves GraphiQL to a browser from its own assets, no CDN', async () => {
    const page = await fetch(server.url, { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(4);
    for (const asset of assets) {
      expect(asset.startsWith('/graphiql/')).toBe(true);
      const response = await fetch(new URL(asset, server.url));
      expect(response.status).toBe(200);
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    }
  });
});
