import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createPlatform, type Platform } from '../../src/app.js';
import { configWith } from '../../src/config/index.js';
import { ManualClock, MINUTE_US, type Bar } from '../../src/domain/index.js';
import { DEFAULT_LIMITS, type ApiServer } from '../../src/graphql/index.js';
import { SLOW_CONSUMER_CLOSE_CODE } from '../../src/speed/index.js';
import { startLoopbackApi } from '../support/api.js';

/**
 * Live subscriptions through graphql-ws on a loopback server: 1,000 bar subscribers
 * receive every update (filtered by symbol on the server), and a subscriber that stops
 * reading is cut off with SLOW_CONSUMER while the others keep receiving every update.
 * Updates are published on the server's live hub (what the speed layer does per trade).
 */
const T0 = Date.parse('2026-11-20T15:07:30Z') * 1000;
const QUEUE_LIMIT = 1_000;
const home = mkdtempSync(path.join(tmpdir(), 'alphalake-live-'));
// Auth off: this test is about delivery, not tokens (docs/auth.md).
const config = configWith({
  home,
  port: 0,
  backfillSessions: 0,
  liveQueueLimit: QUEUE_LIMIT,
  authMode: 'off',
});
let platform: Platform;
let server: ApiServer;

beforeAll(async () => {
  platform = await createPlatform(config, { clock: new ManualClock(T0) });
  await platform.start({ live: false });
  // The slow subscriber's wide query has 200 aliases (API_MAX_ALIASES defaults to 30).
  server = await startLoopbackApi(platform, { limits: { ...DEFAULT_LIMITS, maxAliases: 200 } });
}, 120_000);

afterAll(async () => {
  await server?.close();
  await platform?.stop();
  rmSync(home, { recursive: true, force: true });
});

let barSeq = 0;
function bar(symbol: string): Bar {
  const n = barSeq++;
  return {
    symbol,
    interval: '1m',
    ts: T0 + n * MINUTE_US,
    open: 100 + n / 1000,
    high: 101 + n / 1000,
    low: 99 + n / 1000,
    close: 100.5 + n / 1000,
    volume: n + 1,
    vwap: 100.25 + n / 1000,
    tradeCount: 1 + (n % 7),
  };
}

const SUBSCRIBE = 'subscription { bars(symbols: ["AAPL"]) { symbol tsMicros close } }';

/**
 * The slow subscriber asks for each bar 200 times over (aliases): each update is a few
 * kilobytes, so its socket's kernel buffers fill after a few thousand updates, not a few
 * hundred thousand.
 */
const WIDE_SUBSCRIBE = `subscription { bars(symbols: ["AAPL"]) { ${Array.from(
  { length: 200 },
  (_, i) => `c${i}: close`,
).join(' ')} } }`;

interface Subscriber {
  readonly client: Client;
  readonly received: { symbol: string; tsMicros: number; close: number }[];
  readonly errors: unknown[];
}

function subscriber(): Subscriber {
  const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
  const received: Subscriber['received'] = [];
  const errors: unknown[] = [];
  client.subscribe<{ bars: Subscriber['received'][number] }>(
    { query: SUBSCRIBE },
    {
      next: (message) => {
        if (message.data) received.push(message.data.bars);
        if (message.errors) errors.push(message.errors);
      },
      error: (error) => errors.push(error),
      complete: () => undefined,
    },
  );
  return { client, received, errors };
}

/** A masked client text frame (RFC 6455 §5.2). */
function clientFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  const header =
    payload.length < 126
      ? Buffer.from([0x81, 0x80 | payload.length])
      : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([header, mask, masked]);
}

/**
 * A graphql-transport-ws subscriber on a bare socket: handshake, connection_init,
 * subscribe; `closed` settles with the close frame's code and reason once the frames
 * before it have been read (RFC 6455 §5.5.1).
 */
async function rawSubscriber(): Promise<{
  socket: Socket;
  closed: Promise<{ code: number; reason: string }>;
}> {
  const url = new URL(server.wsUrl);
  const socket = connect(Number(url.port), url.hostname);
  await new Promise<void>((resolve, reject) =>
    socket.once('connect', resolve).once('error', reject),
  );
  socket.write(
    `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${Buffer.from('0123456789abcdef').toString('base64')}\r\n` +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n`,
  );
  let buffer = Buffer.alloc(0);
  let upgraded = false;
  let onAck: (() => void) | undefined;
  const acked = new Promise<void>((resolve) => (onAck = resolve));
  const closed = new Promise<{ code: number; reason: string }>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!upgraded) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        expect(buffer.subarray(0, 12).toString()).toBe('HTTP/1.1 101');
        buffer = buffer.subarray(end + 4);
        upgraded = true;
        socket.write(clientFrame(JSON.stringify({ type: 'connection_init' })));
      }
      for (;;) {
        if (buffer.length < 2) return;
        const opcode = buffer[0]! & 0x0f;
        let length = buffer[1]! & 0x7f;
        let offset = 2;
        if (length === 126) {
          if (buffer.length < 4) return;
          length = buffer.readUInt16BE(2);
          offset = 4;
        } else if (length === 127) {
          if (buffer.length < 10) return;
          length = Number(buffer.readBigUInt64BE(2));
          offset = 10;
        }
        if (buffer.length < offset + length) return;
        const payload = buffer.subarray(offset, offset + length);
        buffer = buffer.subarray(offset + length);
        if (opcode === 0x8) {
          resolve({ code: payload.readUInt16BE(0), reason: payload.subarray(2).toString() });
          return;
        }
        if (opcode === 0x1 && JSON.parse(payload.toString()).type === 'connection_ack') {
          socket.write(
            clientFrame(
              JSON.stringify({ id: '1', type: 'subscribe', payload: { query: WIDE_SUBSCRIBE } }),
            ),
          );
          onAck?.();
        }
      }
    });
  });
  await acked;
  return { socket, closed };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  // Waits for a state, not a duration: the limit only stops a broken run from hanging.
  for (let i = 0; !condition(); i++) {
    if (i > 120_000) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('live bar subscribers', () => {
  it('delivers every update to 1,000 subscribers, filtered by symbol on the server', async () => {
    const subscribers = Array.from({ length: 1_000 }, subscriber);
    try {
      await until(() => platform.hub.subscriberCount('bar') === 1_000, '1,000 subscriptions');
      const published: Bar[] = [];
      for (let round = 0; round < 20; round++) {
        const aapl = bar('AAPL');
        published.push(aapl);
        // MSFT updates are filtered out on the server: no AAPL subscriber sees one.
        platform.hub.publish('bar', [bar('MSFT'), aapl]);
      }
      await until(
        () => subscribers.every((s) => s.received.length >= published.length),
        'every update at every subscriber',
      );
      const want = published.map((b) => ({ symbol: 'AAPL', tsMicros: b.ts, close: b.close }));
      for (const s of subscribers) {
        expect(s.errors).toEqual([]);
        expect(s.received).toEqual(want);
      }
    } finally {
      await Promise.all(subscribers.map((s) => s.client.dispose()));
    }
  }, 300_000);

  it('closes a subscriber that stops reading with SLOW_CONSUMER; the others receive every update', async () => {
    await until(() => platform.hub.subscriberCount('bar') === 0, 'the earlier subscribers gone');
    const fast = Array.from({ length: 10 }, subscriber);
    // The slow one speaks graphql-transport-ws by hand on a bare TCP socket and then
    // stops reading it: nothing between it and the kernel reads on its behalf.
    const slow = await rawSubscriber();
    try {
      await until(() => platform.hub.subscriberCount('bar') === 11, '11 subscriptions');
      slow.socket.pause();
      const dropped = platform.hub.droppedCount();
      const published: Bar[] = [];
      // Batches below the queue limit, each delivered to the fast subscribers before the
      // next: only the subscriber that does not read falls behind.
      while (platform.hub.droppedCount() === dropped) {
        const batch = Array.from({ length: QUEUE_LIMIT / 2 }, () => bar('AAPL'));
        published.push(...batch);
        platform.hub.publish('bar', batch);
        await until(
          () => fast.every((s) => s.received.length >= published.length),
          'the fast subscribers caught up',
        );
        if (published.length > 2_000_000) throw new Error('the slow subscriber was never cut off');
      }
      expect(platform.hub.subscriberCount('bar')).toBe(10);
      // The others keep receiving after the slow one is gone.
      const after = Array.from({ length: 100 }, () => bar('AAPL'));
      published.push(...after);
      platform.hub.publish('bar', after);
      await until(
        () => fast.every((s) => s.received.length >= published.length),
        'the fast subscribers received the later updates',
      );
      const want = published.map((b) => ({ symbol: 'AAPL', tsMicros: b.ts, close: b.close }));
      for (const s of fast) {
        expect(s.errors).toEqual([]);
        expect(s.received).toEqual(want);
      }
      slow.socket.resume();
      expect(await slow.closed).toEqual({
        code: SLOW_CONSUMER_CLOSE_CODE,
        reason: 'SLOW_CONSUMER',
      });
    } finally {
      slow.socket.destroy();
      await Promise.all(fast.map((s) => s.client.dispose()));
    }
  }, 600_000);
});
