import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createPlatform, type Platform } from '../../src/app.js';
import { offsetAppId } from '../../src/batch/index.js';
import { configWith } from '../../src/config/index.js';
import { LakeTimestamp } from '../../src/lake/index.js';
import { ManualClock, SECOND_US, type Quote } from '../../src/domain/index.js';
import type { ApiServer } from '../../src/graphql/index.js';
import { startLoopbackApi } from '../support/api.js';

/**
 * Quotes from ingest to every reader: the bus → the speed layer (latestQuote, the live
 * `quotes` subscription, filtered by symbol) and the lake sink → bronze.quotes, whose
 * commit carries the sink's `txn` per bus partition as bronze.trades' does.
 */
const T0 = Date.parse('2026-11-20T15:07:30Z') * 1000;
const home = mkdtempSync(path.join(tmpdir(), 'alphalake-quotes-'));
const clock = new ManualClock(T0);
let platform: Platform;
let server: ApiServer;

beforeAll(async () => {
  // Auth off: this test is about quotes, not tokens (docs/auth.md).
  platform = await createPlatform(
    configWith({ home, port: 0, backfillSessions: 0, authMode: 'off' }),
    { clock },
  );
  await platform.start({ live: false });
  server = await startLoopbackApi(platform);
}, 120_000);

afterAll(async () => {
  await server?.close();
  await platform?.stop();
  rmSync(home, { recursive: true, force: true });
});

const quote = (symbol: string, i: number): Quote => ({
  symbol,
  ts: T0 - 60 * SECOND_US + i * 1_000_003,
  bidPrice: 100 + i / 64,
  bidSize: 100 + i,
  askPrice: 100.5 + i / 64,
  askSize: 200 + i,
});

async function until(condition: () => boolean | Promise<boolean>, what: string) {
  // Waits for a state; the bound only keeps a broken run from hanging.
  for (let i = 0; !(await condition()); i++) {
    if (i > 20_000) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('quotes', () => {
  it('reach subscribers, latestQuote and bronze.quotes once', async () => {
    const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket });
    const live: { symbol: string; tsMicros: number; bidPrice: number }[] = [];
    client.subscribe<{ quotes: (typeof live)[number] }>(
      { query: 'subscription { quotes(symbols: ["AAPL"]) { symbol tsMicros bidPrice } }' },
      {
        next: (m) => m.data && live.push(m.data.quotes),
        error: () => undefined,
        complete: () => undefined,
      },
    );
    await until(() => platform.hub.subscriberCount('quote') === 1, 'the subscription');
    const aapl = Array.from({ length: 40 }, (_, i) => quote('AAPL', i));
    const msft = Array.from({ length: 25 }, (_, i) => quote('MSFT', i));
    await platform.ingestor.ingest({ trades: [], quotes: [...aapl, ...msft] }, 'quotes-test');
    await until(() => live.length >= aapl.length, 'the live quotes');
    expect(live).toEqual(
      aapl.map((q) => ({ symbol: 'AAPL', tsMicros: q.ts, bidPrice: q.bidPrice })),
    );
    await client.dispose();

    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: '{ latestQuote(symbol: "MSFT") { tsMicros bidPrice bidSize askPrice askSize } }',
      }),
    });
    const last = msft[msft.length - 1]!;
    expect(((await response.json()) as { data: unknown }).data).toEqual({
      latestQuote: {
        tsMicros: last.ts,
        bidPrice: last.bidPrice,
        bidSize: last.bidSize,
        askPrice: last.askPrice,
        askSize: last.askSize,
      },
    });

    // Flushed twice: the second flush has nothing new, so nothing is written again.
    await platform.sink.flush();
    await platform.sink.flush();
    const { rows } = await platform.tables.quotes.query({
      columns: ['symbol', 'ts', 'bid_price', 'bid_size', 'ask_price', 'ask_size'],
      // A snapshot has no order: the rows are compared in one.
      orderBy: [{ column: 'symbol' }, { column: 'ts' }],
    });
    expect(rows).toEqual(
      [...aapl, ...msft].map((q) => ({
        symbol: q.symbol,
        ts: new LakeTimestamp(BigInt(q.ts)),
        bid_price: q.bidPrice,
        bid_size: q.bidSize,
        ask_price: q.askPrice,
        ask_size: q.askSize,
      })),
    );
    const snapshot = await platform.tables.quotes.snapshot();
    const log = platform.bus.logName('quotes');
    // Each partition's txn is its next offset: together, every quote consumed, once.
    let recorded = 0;
    for (let partition = 0; partition < 256; partition++)
      recorded += snapshot.txnVersion(offsetAppId(log, partition)) ?? 0;
    expect(recorded).toBe(aapl.length + msft.length);
  });
});
