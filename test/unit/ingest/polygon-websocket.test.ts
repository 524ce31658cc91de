import { afterEach, describe, expect, it } from 'vitest';
import { isAlphalakeError, type Trade } from '../../../src/domain/index.js';
import {
  PolygonRestClient,
  PolygonWebSocketSource,
  type PolygonSocketEvent,
  type SourceRecord,
} from '../../../src/ingest/index.js';
import {
  fixtureLines,
  rawBigInt,
  startPolygonRest,
  startPolygonSocket,
  tradeEvent,
  type PolygonSocketServer,
  type VendorServer,
} from '../../support/vendor-servers.js';

const KEY = 'pk_ws_test_5d1e8b0f92c4';
const LINES = fixtureLines('polygon/trades-AAPL.json');
const sipMs = (i: number) => Number(rawBigInt(LINES[i] as string, 'sip_timestamp') / 1_000_000n);

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** Runs a source in the background; `until` resolves once the records seen satisfy a predicate. */
function consume(source: PolygonWebSocketSource, signal: AbortSignal) {
  const records: SourceRecord[] = [];
  const waiters: { test: () => boolean; resolve: () => void }[] = [];
  const done = (async () => {
    for await (const batch of source.records(signal)) {
      records.push(...batch);
      for (const w of waiters.filter((w) => w.test())) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  })();
  const until = (test: () => boolean) =>
    test() ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ test, resolve }));
  return { records, done, until };
}

const tradesOf = (records: SourceRecord[]): Trade[] =>
  records.flatMap((r) => (r.kind === 'trade' ? [r.value] : []));

describe('Polygon WebSocket source against a local Polygon socket', () => {
  let socketServer: PolygonSocketServer;
  let rest: VendorServer;

  async function servers() {
    socketServer = await startPolygonSocket(KEY);
    rest = await startPolygonRest({
      apiKey: KEY,
      routes: { '/v3/trades/AAPL': 'polygon/trades-AAPL.json' },
    });
    closers.push(
      () => socketServer.close(),
      () => rest.close(),
    );
  }

  it('authenticates, subscribes, and after a drop mid-stream resubscribes and fills the gap from REST, each trade once', async () => {
    await servers();
    let nowMs = sipMs(0);
    const events: PolygonSocketEvent[] = [];
    const source = new PolygonWebSocketSource({
      apiKey: KEY,
      url: socketServer.url,
      symbols: ['AAPL'],
      channels: ['T', 'Q', 'AM'],
      rest: new PolygonRestClient({
        apiKey: KEY,
        baseUrl: rest.url,
        callsPerMinute: 0,
        pageLimit: 4,
      }),
      reconnectBaseMs: 10,
      now: () => nowMs,
      onEvent: (e) => events.push(e),
    });
    const controller = new AbortController();
    const run = consume(source, controller.signal);

    const first = await socketServer.subscribed(0);
    first.send(JSON.stringify(LINES.slice(0, 6).map((l) => tradeEvent('AAPL', l))));
    first.send(
      JSON.stringify([
        ...LINES.slice(6, 10).map((l) => tradeEvent('AAPL', l)),
        {
          ev: 'Q',
          sym: 'AAPL',
          bx: 12,
          bp: 171.55,
          bs: 2,
          ax: 11,
          ap: 171.6,
          as: 3,
          c: 1,
          i: [604],
          t: sipMs(9),
          q: 2061,
          z: 3,
        },
        {
          ev: 'AM',
          sym: 'AAPL',
          v: 4200,
          av: 9_000_000,
          op: 171.4,
          vw: 171.5312,
          o: 171.5,
          c: 171.56,
          h: 171.6,
          l: 171.49,
          a: 171.45,
          z: 105,
          s: 1517580000000,
          e: 1517580060000,
        },
      ]),
    );
    first.send('this is not JSON');
    await run.until(
      () => tradesOf(run.records).length === 10 && run.records.some((r) => r.kind === 'malformed'),
    );

    // The socket drops while trades 10–15 print; the client is back when trade 16 is due.
    nowMs = sipMs(16);
    first.terminate();
    const second = await socketServer.subscribed(1);
    // The feed resumes from trade 14: 14 and 15 reach the client twice (REST and socket).
    second.send(JSON.stringify(LINES.slice(14).map((l) => tradeEvent('AAPL', l))));
    await run.until(() => tradesOf(run.records).length >= LINES.length);
    controller.abort();
    await run.done;

    const trades = tradesOf(run.records);
    const expectedIds = LINES.map((l) => {
      const r = JSON.parse(l) as Record<string, unknown>;
      return r['trf_id'] === undefined
        ? `${r['exchange']}:${r['id']}`
        : `${r['exchange']}:${r['trf_id']}:${r['id']}`;
    });
    expect(trades.map((t) => t.id)).toEqual(expectedIds);
    // The socket's `c` and REST's `conditions` alike stay on the trade.
    expect(trades.map((t) => t.conditions)).toEqual(
      LINES.map((l) => (JSON.parse(l) as { conditions: number[] }).conditions),
    );
    // Live trades carry the socket's ms; the gap's trades come from REST with their ns.
    trades.forEach((trade, i) => {
      const sip = rawBigInt(LINES[i] as string, 'sip_timestamp');
      if (i >= 10 && i <= 15) {
        expect(trade.tsNanos).toBe(sip);
        expect(trade.ts).toBe(Number(sip / 1000n));
      } else {
        expect(trade.tsNanos).toBeUndefined();
        expect(trade.ts).toBe(sipMs(i) * 1000);
      }
      expect(trade.seq).toBe(
        (JSON.parse(LINES[i] as string) as { sequence_number: number }).sequence_number,
      );
    });
    expect(events.filter((e) => e.type === 'gap')).toEqual([
      {
        type: 'gap',
        symbol: 'AAPL',
        from: sipMs(9) * 1000,
        to: sipMs(16) * 1000,
        filled: 6,
        duplicates: 1,
      },
    ]);
    expect(events.filter((e) => e.type === 'disconnected')).toHaveLength(1);

    // The second connection authenticated and subscribed to the same channels again.
    const subscribe = JSON.stringify({ action: 'subscribe', params: 'T.AAPL,Q.AAPL,AM.AAPL' });
    expect(
      socketServer.received.map((messages) =>
        messages.map((m) => (m.includes('"auth"') ? 'auth' : m)),
      ),
    ).toEqual([
      ['auth', subscribe],
      ['auth', subscribe],
    ]);
    expect(run.records.find((r) => r.kind === 'quote')).toEqual({
      kind: 'quote',
      value: {
        symbol: 'AAPL',
        ts: sipMs(9) * 1000,
        bidPrice: 171.55,
        bidSize: 2,
        askPrice: 171.6,
        askSize: 3,
      },
    });
    expect(run.records.find((r) => r.kind === 'bar')).toEqual({
      kind: 'bar',
      value: {
        symbol: 'AAPL',
        interval: '1m',
        ts: 1517580000000 * 1000,
        open: 171.5,
        high: 171.6,
        low: 171.49,
        close: 171.56,
        volume: 4200,
        vwap: 171.5312,
        tradeCount: 40,
      },
    });
    expect(run.records.find((r) => r.kind === 'malformed')).toEqual({
      kind: 'malformed',
      raw: 'this is not JSON',
      detail: 'WebSocket message is not JSON',
    });
    expect(events.some((e) => JSON.stringify(e).includes(KEY))).toBe(false);
  });

  it('stops with BAD_USER_INPUT when the server refuses the key, without echoing it', async () => {
    await servers();
    const wrong = 'pk_ws_wrong_77aa11bb';
    const source = new PolygonWebSocketSource({
      apiKey: wrong,
      url: socketServer.url,
      symbols: ['AAPL'],
      reconnectBaseMs: 10,
    });
    const error = await (async () => {
      for await (const _ of source.records(new AbortController().signal)) {
        // nothing arrives before the refusal
      }
    })().catch((e: unknown) => e);
    expect(isAlphalakeError(error, 'BAD_USER_INPUT')).toBe(true);
    expect((error as Error).message).toBe(
      'Polygon WebSocket refused the API key (authentication failed)',
    );
    expect(String((error as Error).stack)).not.toContain(wrong);
  });
});
