import cassandra from 'cassandra-driver';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createPlatform, type Platform } from '../../src/app.js';
import { configWith } from '../../src/config/index.js';
import {
  DAY_US,
  HOUR_US,
  isoOfMicros,
  ManualClock,
  MINUTE_US,
  type Trade,
} from '../../src/domain/index.js';
import type { ApiServer } from '../../src/graphql/index.js';
import { startLoopbackApi } from '../support/api.js';
import { oracleBars, type OracleBar } from '../support/bars-oracle.js';
import { endpoints, requireService } from './endpoints.js';

/**
 * Live coarse bars after a restart (issue 12), on the real (shared) Cassandra speed store:
 * a platform takes the first part of a tape, mid-interval of every live length, and
 * stops; a second platform on the same home and keyspace starts (rebuilding its open bars
 * from the trades the store holds) and takes the rest. The last push of every bar that
 * spans the restart — 1m, 5m, 15m, 1h and 1d — equals the bar recomputed in DuckDB from
 * all its trades, both parts (test/support/bars-oracle.ts), at full precision.
 */
const at = (iso: string): number => Date.parse(iso) * 1_000;
const START = at('2026-11-20T14:00:00Z');
const TRADES = 800;
const tradeAt = (i: number): Trade => ({
  symbol: 'AAPL',
  ts: START + i * 1_700_000 + ((i * 7_919) % 500_000),
  seq: i,
  price: 190 + ((i * 7_919) % 1_000) / 97,
  size: 1 + ((i * 31) % 300),
  id: `restart-${i}`,
  exchange: 'XNAS',
});
const TAPE = Array.from({ length: TRADES }, (_, i) => tradeAt(i));
/** Mid-second, mid-minute, inside the 5m, 15m, 1h and 1d bars of 14:07. */
const RESTART = at('2026-11-20T14:07:30.500Z');
const BEFORE = TAPE.filter((t) => t.ts < RESTART);
const AFTER = TAPE.filter((t) => t.ts >= RESTART);
const INTERVALS: [string, number][] = [
  ['1m', MINUTE_US],
  ['5m', 5 * MINUTE_US],
  ['15m', 15 * MINUTE_US],
  ['1h', HOUR_US],
  ['1d', DAY_US],
];

const run = `${process.pid}_${Date.now().toString(36)}`;
const keyspace = `alphalake_restart_${run}`;
const home = mkdtempSync(path.join(tmpdir(), 'alphalake-speed-restart-'));
const config = configWith({
  home,
  port: 0,
  simulatorEnabled: false,
  backfillSessions: 0,
  authMode: 'off',
  cassandraContactPoints: [...endpoints.cassandra.contactPoints],
  cassandraLocalDataCenter: endpoints.cassandra.localDataCenter,
  cassandraKeyspace: keyspace,
});
let platform: Platform | undefined;
let server: ApiServer | undefined;

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  // Waits for a state, not a duration: the limit only stops a broken run from hanging.
  for (let i = 0; !(await condition()); i++) {
    if (i > 6_000) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function publish(into: Platform, trades: readonly Trade[]): Promise<void> {
  for (let i = 0; i < trades.length; i += 50) {
    await into.bus.publish(
      'trades',
      trades.slice(i, i + 50).map((t) => ({ key: t.symbol, value: t })),
    );
  }
}

beforeAll(async () => {
  await requireService('cassandra');
}, 60_000);

afterAll(async () => {
  await server?.close();
  await platform?.stop();
  const admin = new cassandra.Client({
    contactPoints: [...endpoints.cassandra.contactPoints],
    localDataCenter: endpoints.cassandra.localDataCenter,
  });
  await admin.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
  await admin.shutdown();
  rmSync(home, { recursive: true, force: true });
}, 60_000);

describe('live coarse bars after a restart', () => {
  it('rebuild the open bars from the store: each bar spanning the restart equals a recomputation from all its trades', async () => {
    expect(BEFORE.length).toBeGreaterThan(100);
    expect(AFTER.length).toBeGreaterThan(100);
    // The first platform: the tape up to the restart, into the Cassandra speed store.
    const first = await createPlatform(config, { clock: new ManualClock(RESTART) });
    platform = first;
    await first.masterData.ensureSymbols(['AAPL'], 'test');
    await first.start({ live: false });
    await publish(first, BEFORE);
    const range = { from: START - DAY_US, to: START + DAY_US };
    await until(
      async () => (await first.speedStore.trades('AAPL', range, 10_000)).length === BEFORE.length,
      'the first part in the speed store',
    );
    await first.stop();
    platform = undefined;

    // The second platform, same home and keyspace: it starts mid-interval.
    const second = await createPlatform(config, { clock: new ManualClock(RESTART) });
    platform = second;
    await second.start({ live: false });
    server = await startLoopbackApi(second);
    const clients: Client[] = [];
    const last = new Map<string, Map<number, OracleBar>>();
    const errors: unknown[] = [];
    try {
      for (const [interval] of INTERVALS) {
        const bars = new Map<number, OracleBar>();
        last.set(interval, bars);
        const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket });
        clients.push(client);
        client.subscribe<{ bars: OracleBar }>(
          {
            query: `subscription($interval: String!) { bars(symbols: ["AAPL"], interval: $interval) { tsMicros open high low close volume vwap tradeCount } }`,
            variables: { interval },
          },
          {
            next: (message) => {
              if (message.data) bars.set(message.data.bars.tsMicros, message.data.bars);
              if (message.errors) errors.push(message.errors);
            },
            error: (error) => errors.push(error),
            complete: () => undefined,
          },
        );
      }
      await until(
        () => second.hub.subscriberCount('bar') === 1 && second.hub.subscriberCount('bar1d') === 1,
        'the subscriptions',
      );
      await publish(second, AFTER);
      // Prices do not repeat within the tape, so a bar closing at the last trade's price
      // has had the last trade pushed: from then on its pushes are complete.
      const final = TAPE.at(-1)!;
      for (const [interval, width] of INTERVALS) {
        const bucket = final.ts - (final.ts % width);
        await until(
          () => last.get(interval)!.get(bucket)?.close === final.price,
          `the last trade in the live ${interval} bar`,
        );
      }
      expect(errors).toEqual([]);
      for (const [interval, width] of INTERVALS) {
        const spanning = RESTART - (RESTART % width);
        const want = (await oracleBars(home, TAPE, width)).filter(
          (bar) => bar.tsMicros >= spanning,
        );
        expect(want[0]?.tsMicros, `${interval}: the bar spanning the restart`).toBe(spanning);
        // Each bar from the one spanning the restart on, as last pushed.
        const pushed = want.map((bar) => last.get(interval)!.get(bar.tsMicros));
        expect(pushed, `${interval} bars from ${isoOfMicros(spanning)}`).toEqual(want);
      }
    } finally {
      await Promise.all(clients.map((c) => c.dispose()));
    }
  }, 300_000);
});
