import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createPlatform, type Platform } from '../../src/app.js';
import { configWith } from '../../src/config/index.js';
import { isoOfMicros, ManualClock, MINUTE_US, type Trade } from '../../src/domain/index.js';
import type { ApiServer } from '../../src/graphql/index.js';
import { startLoopbackApi } from '../support/api.js';
import type { ApiBar } from '../support/graphql.js';

/**
 * Live bars above one minute (issue 12): trades go onto the bus; graphql-ws subscribers
 * follow AAPL's bars at 1m, 5m, 15m, 30m, 1h and 1d (rolled up in the speed layer, the
 * daily bars on the 24x7 calendar's UTC days); the sink then moves the same trades into
 * the lake, and each live bar as last pushed must equal the bar of the same interval the
 * lake answers afterwards (silver.bars_1m rolled up in DuckDB) — every field at full
 * precision, so speed and batch agree to the bit. The trades cross UTC midnight, so the
 * first daily bar closes during the run. Each bar whose interval ended — by the next
 * interval's first trade, or by the watermark passing its end — is pushed once more with
 * `closed: true`, its final state (the "bar closed" push).
 */
const at = (iso: string): number => Date.parse(iso) * 1_000;
const START = at('2026-11-20T23:10:00Z');
const TRADES = 5_000;
/** Irregular gaps (1.1–2.2 s) and prices with long binary fractions, so sums round. */
const tradeAt = (i: number): Trade => ({
  symbol: 'AAPL',
  ts: START + i * 1_700_000 + ((i * 7_919) % 500_000),
  seq: i,
  price: 190 + ((i * 7_919) % 1_000) / 97,
  size: 1 + ((i * 31) % 300),
  id: `live-bars-${i}`,
  exchange: 'XNAS',
});
const END = tradeAt(TRADES - 1).ts + 1;
const INTERVALS = ['1m', '5m', '15m', '30m', '1h', '1d'] as const;

const home = mkdtempSync(path.join(tmpdir(), 'alphalake-live-bars-'));
// Auth off: this test is about the bars, not tokens (docs/auth.md).
const config = configWith({ home, port: 0, backfillSessions: 0, authMode: 'off' });
const clock = new ManualClock(START);
let platform: Platform;
let server: ApiServer;

beforeAll(async () => {
  platform = await createPlatform(config, { clock });
  await platform.start({ live: false });
  server = await startLoopbackApi(platform);
}, 120_000);

afterAll(async () => {
  await server?.close();
  await platform?.stop();
  rmSync(home, { recursive: true, force: true });
});

const FIELDS = 'tsMicros open high low close volume vwap tradeCount';

async function until(condition: () => boolean, what: string): Promise<void> {
  // Waits for a state, not a duration: the limit only stops a broken run from hanging.
  for (let i = 0; !condition(); i++) {
    if (i > 12_000) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('live bars above one minute', () => {
  it('pushes 5m, 15m, 30m, 1h and 1d bars that equal the lake’s bars of the same trades, bit for bit, each once more when closed', async () => {
    const clients: Client[] = [];
    // The last push of each bar, by interval and start (without `closed`).
    const live = new Map<string, Map<number, ApiBar>>();
    // Every push of each bar, in order, by interval and start.
    const pushes = new Map<string, Map<number, (ApiBar & { closed: boolean })[]>>();
    const errors: unknown[] = [];
    for (const interval of INTERVALS) {
      const bars = new Map<number, ApiBar>();
      live.set(interval, bars);
      const all = new Map<number, (ApiBar & { closed: boolean })[]>();
      pushes.set(interval, all);
      const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket });
      clients.push(client);
      client.subscribe<{ bars: ApiBar & { closed: boolean } }>(
        {
          query: `subscription($interval: String!) { bars(symbols: ["AAPL"], interval: $interval) { ${FIELDS} closed } }`,
          variables: { interval },
        },
        {
          next: (message) => {
            if (message.data) {
              const { closed: _closed, ...bar } = message.data.bars;
              bars.set(bar.tsMicros, bar);
              const list = all.get(bar.tsMicros) ?? [];
              list.push(message.data.bars);
              all.set(bar.tsMicros, list);
            }
            if (message.errors) errors.push(message.errors);
          },
          error: (error) => errors.push(error),
          complete: () => undefined,
        },
      );
    }
    try {
      await until(
        () =>
          platform.hub.subscriberCount('bar') === 1 && platform.hub.subscriberCount('bar1d') === 1,
        'the subscriptions',
      );
      // The tape, published as it happens: the clock follows the trades a minute at a time.
      const trades = Array.from({ length: TRADES }, (_, i) => tradeAt(i));
      for (let i = 0; i < trades.length; ) {
        const minuteEnd = Math.floor(trades[i]!.ts / MINUTE_US) * MINUTE_US + MINUTE_US;
        const minute: Trade[] = [];
        while (i < trades.length && trades[i]!.ts < minuteEnd) minute.push(trades[i++]!);
        clock.set(Math.max(clock.now(), minute.at(-1)!.ts + 1));
        // A minute in two publishes: the open bar is pushed more than once.
        const half = Math.ceil(minute.length / 2);
        for (const part of [minute.slice(0, half), minute.slice(half)]) {
          if (part.length === 0) continue;
          await platform.bus.publish(
            'trades',
            part.map((t) => ({ key: t.symbol, value: t })),
          );
        }
      }
      const counted = (interval: string) =>
        [...live.get(interval)!.values()].reduce((n, b) => n + b.tradeCount, 0);
      await until(
        () => INTERVALS.every((interval) => counted(interval) === TRADES),
        'every trade in every live interval',
      );
      expect(errors).toEqual([]);

      // A later trade of another symbol moves the stream's time on; the sink seals every
      // minute of the tape and the watermark passes it.
      const later = END + 10 * MINUTE_US;
      clock.set(later + 1);
      await platform.bus.publish('trades', [
        {
          key: 'MSFT',
          value: { ...tradeAt(0), symbol: 'MSFT', ts: later, id: 'later', seq: TRADES },
        },
      ]);
      for (let i = 0; i < 100 && !((platform.sink.watermark() ?? 0) >= END); i++) {
        await platform.sink.flush();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const watermark = platform.sink.watermark()!;
      expect(watermark).toBeGreaterThanOrEqual(END);

      // "Bar closed": every bar whose interval has ended — by the next interval's first
      // trade during the tape, or by the watermark after it — was pushed exactly once with
      // `closed: true`, as its last push, carrying the state of the push before it; a bar
      // still open (it ends after the watermark) never was.
      const endOf = (interval: string, ts: number) =>
        ts +
        (interval === '1d'
          ? 1_440
          : Number(interval.slice(0, -1)) * (interval.endsWith('h') ? 60 : 1)) *
          MINUTE_US;
      const ended = (interval: string) =>
        [...pushes.get(interval)!.keys()].filter((ts) => endOf(interval, ts) <= watermark);
      await until(
        () =>
          INTERVALS.every((interval) =>
            ended(interval).every((ts) => pushes.get(interval)!.get(ts)!.at(-1)!.closed),
          ),
        'the closing push of every ended bar',
      );
      for (const interval of INTERVALS) {
        let open = 0;
        for (const [ts, list] of pushes.get(interval)!) {
          const closing = list.filter((push) => push.closed);
          if (endOf(interval, ts) > watermark) {
            expect(closing, `${interval} ${isoOfMicros(ts)} is still open`).toEqual([]);
            open++;
            continue;
          }
          expect(closing, `${interval} ${isoOfMicros(ts)} closed once`).toHaveLength(1);
          expect(
            list.at(-1),
            `${interval} ${isoOfMicros(ts)}: the closing push is the last`,
          ).toEqual({
            ...list.at(-2),
            closed: true,
          });
        }
        expect(open, `${interval}: at most the newest bar is open`).toBeLessThanOrEqual(1);
        expect(ended(interval).length, `${interval}: some bars closed`).toBeGreaterThan(0);
      }

      for (const interval of INTERVALS) {
        const response = await fetch(server.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            query: `query($interval: String, $from: DateTime, $to: DateTime) { bars(symbol: "AAPL", interval: $interval, from: $from, to: $to, adjusted: false, limit: 10000) { ${FIELDS} source } }`,
            variables: {
              interval,
              from: isoOfMicros(at('2026-11-20T00:00:00Z')),
              to: isoOfMicros(at('2026-11-22T00:00:00Z')),
            },
          }),
        });
        const body = (await response.json()) as {
          data?: { bars: (ApiBar & { source: string })[] };
          errors?: unknown;
        };
        expect(body.errors).toBeUndefined();
        const lake = body.data!.bars;
        expect(new Set(lake.map((b) => b.source))).toEqual(new Set(['LAKE']));
        const pushed = [...live.get(interval)!.values()].sort((a, b) => a.tsMicros - b.tsMicros);
        expect(pushed.length).toBeGreaterThan(1);
        expect(pushed, interval).toEqual(lake.map(({ source: _source, ...bar }) => bar));
      }
    } finally {
      await Promise.all(clients.map((c) => c.dispose()));
    }
  }, 300_000);
});
